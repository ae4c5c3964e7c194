"""Process trees that die whole (SPEC §12): nothing ``serve`` started outlives it.

``serve`` starts each child (uvicorn, one ``qcluster`` per cluster) in a process group of its
own, asks Linux to kill the child when ``serve`` dies (``PR_SET_PDEATHSIG``), and sets
``PIPELINE_DIE_WITH_PARENT=1`` in the child's environment. Every Django process that finds it
(``JobsConfig.ready``) makes the same request for itself and for every process it forks from
then on: django-q2's sentinel, pusher, monitor and workers, uvicorn's workers. So when any
process of the tree dies, even by ``kill -9``, its children die with it, level by level, and
no worker is left running a job for nobody. (The job it was running is requeued by the
sweeper once its heartbeat is stale, as after any crash.) On a normal stop ``serve`` also
kills what is left of each child's process group (``serve.py``).

Linux only; elsewhere these are no-ops, and ``serve``'s own stop still applies.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

DIE_WITH_PARENT_ENV = "PIPELINE_DIE_WITH_PARENT"

_PR_SET_PDEATHSIG = 1
_installed = False
# The pid of the process that is forking, read by the child to see whether it was orphaned
# before it could ask for the signal.
_forking_parent = 0


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent (thread) dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _before_fork() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _after_fork_in_child() -> None:
    if die_with_parent() and os.getppid() != _forking_parent:
        # The parent died between the fork and the request: no signal will come.
        os.kill(os.getpid(), signal.SIGKILL)


def tree_dies_with_parent() -> bool:
    """In a process ``serve`` started (``PIPELINE_DIE_WITH_PARENT=1``): die with the parent,
    and have every process forked from here on do the same. Whether it was set up."""
    global _installed
    if os.environ.get(DIE_WITH_PARENT_ENV) != "1" or not sys.platform.startswith("linux"):
        return False
    if not _installed:
        die_with_parent()
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _installed = True
    return True
