"""Fixtures of the fault tests."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest


@pytest.fixture
def workers(workers):
    """The suite's ``workers``, stopped by signalling each ``qcluster``'s main process alone.

    SIGTERM to the whole process group (what the shared fixture sends) reaches the django-q2
    worker processes too, and a cluster whose worker has run a handler then hangs until the
    fixture's 8 s SIGKILL; the main process alone stops its cluster in well under a second.
    """
    yield workers
    for cluster in workers.clusters:
        if cluster.proc.poll() is None:
            os.kill(cluster.proc.pid, signal.SIGTERM)
    for cluster in workers.clusters:
        try:
            cluster.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass  # the shared fixture kills the process group
