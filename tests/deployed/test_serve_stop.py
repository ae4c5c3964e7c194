"""SPEC §12 as deployed: stopping ``serve`` alone stops every process it started, workers in
the middle of a job included, whether it gets SIGTERM (Ctrl-C alike) or is killed with -9."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.processes import proc_cmdline, proc_stat

pytestmark = [pytest.mark.deployed, pytest.mark.timeout(180)]


def alive(pids: list[int]) -> list[int]:
    """The ``pids`` still running (a zombie is dead; init reaps it)."""
    return [pid for pid in pids if proc_stat(pid) is not None]


def serve_mid_job(deployment, tmp_path):  # type: ignore[no-untyped-def]
    """``serve`` with a long job running in each lane; its process tree, taken from ``/proc``
    before any signal, with the pids of the two workers in those jobs."""
    deployment.user("acme", "ana")
    # The default staleness: the sweeper must not take a slow-beating job from its worker.
    host = deployment.start(PIPELINE_STALE_SECONDS="60")
    release = tmp_path / "release"
    job_ids = []
    for task_type in ("test_block_priority", "test_block_default"):
        status, body = deployment.api(
            "POST", "tasks", {"task_type": task_type, "payload": {"release": str(release)}}
        )
        assert status == 202, body
        job_ids.append(body["task"]["first_job_id"])
    running = deployment.wait_api(
        "jobs?status=running",
        lambda body: {job["id"] for job in body["results"]} == set(job_ids),
        timeout=60,
        what="a worker of each lane to be in its long job",
    )["results"]
    tree = host.descendants()
    # Worker ids are host:pid:thread: the workers in the jobs are part of the tree.
    from jobs.models import Job

    workers = {int(job.worker_id.split(":")[1]) for job in Job.objects.filter(pk__in=job_ids)}
    assert len(running) == 2
    assert workers <= set(tree), (workers, tree)
    # The web server, three clusters (priority, default, scheduler) and their processes.
    assert sum("qcluster" in proc_cmdline(pid) for pid in tree) >= 3 * 4, tree
    return host, tree, workers


def wait_gone(pids: list[int], *, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_sigterm_to_serve_alone_mid_job_leaves_no_process(deployment, tmp_path):
    host, tree, workers = serve_mid_job(deployment, tmp_path)

    os.kill(host.proc.pid, signal.SIGTERM)
    host.proc.wait(timeout=60)

    left = wait_gone(tree, timeout=30)
    assert left == [], [(pid, proc_cmdline(pid)) for pid in left]
    log = host.log()
    assert "Stopped." in log, log
    # The workers in long jobs did not stop on their own; serve killed them after the grace.
    assert "did not stop in" in log, log


def test_kill_9_of_serve_mid_job_takes_its_whole_tree_down(deployment, tmp_path):
    host, tree, workers = serve_mid_job(deployment, tmp_path)

    os.kill(host.proc.pid, signal.SIGKILL)
    host.proc.wait(timeout=10)

    left = wait_gone(tree, timeout=30)
    assert left == [], [(pid, proc_cmdline(pid)) for pid in left]
    assert alive(sorted(workers)) == []
