"""SPEC §7 as deployed: a worker killed with ``kill -9`` mid-job, nothing else running, and
the scheduled sweeper requeues its job without any human action."""

from __future__ import annotations

import os
import signal
import time

import pytest

from photos.storage import project_dir
from tests.deployment import FIRST_TICK_SECONDS, TICK_SLACK_SECONDS
from tests.factories import make_project
from tests.faults.disk import add_photos
from tests.processes import proc_cmdline, proc_stat
from tests.workers import wait_for

pytestmark = [pytest.mark.deployed, pytest.mark.timeout(300)]

SWEEPER = "pipeline: sweeper"


def busiest_worker(host, *, sample_seconds: float = 1.0) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """The qcluster process below ``serve`` clearly using the most CPU, and its share of a core.

    On a loaded machine a busy worker may get a small share, so it need only stand out: at
    least twice the CPU of any other qcluster process over one sample.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    for _ in range(5):
        pids = [pid for pid in host.descendants() if "qcluster" in proc_cmdline(pid)]
        before = {pid: stat[1] for pid in pids if (stat := proc_stat(pid))}
        time.sleep(sample_seconds)
        after = {pid: stat[1] for pid in pids if (stat := proc_stat(pid))}
        used = sorted(
            ((after[pid] - before[pid]) / ticks / sample_seconds, pid)
            for pid in after
            if pid in before
        )
        (share, pid), runner_up = used[-1], used[-2][0] if len(used) > 1 else 0.0
        if share >= 0.05 and share >= 2 * runner_up:
            return pid, share
    raise AssertionError(f"no qcluster process stands out by CPU: {used}")


def test_worker_killed_mid_job_is_requeued_by_the_scheduled_sweeper(deployment, tenant):
    from django_q.models import Task

    from jobs.models import Job

    deployment.user(tenant.slug, "ana")
    project = make_project(tenant, "Kill Nine")
    # Large enough that making previews keeps a worker busy for many seconds.
    photos = add_photos(project, 16, raw=False, size=(2400, 1600))
    host = deployment.start()

    status, body = deployment.api(
        "POST", "photos/process", {"items": [{"photo_id": p.pk} for p in photos]}
    )
    assert status == 202, body
    task_id = body["task_id"]
    jobs = deployment.wait_api(
        f"jobs?task={task_id}&status=running",
        lambda body: body["results"],
        timeout=30,
        what="the derivatives job to start",
    )["results"]
    job_id = jobs[0]["id"]
    time.sleep(1)  # Let it get into the CPU-heavy part.

    pid, _ = busiest_worker(host)
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    status, job = deployment.api("GET", f"jobs/{job_id}")
    assert job["status"] == "running", job  # killed mid-job, not after it ended
    # The process found by its CPU use was the job's worker (worker ids are host:pid:thread).
    assert Job.objects.get(pk=job_id).worker_id.split(":")[1] == str(pid)
    # Nothing else runs: only the scheduled sweeper can bring the job back.
    deployment.wait_api(
        f"tasks/{task_id}",
        lambda body: body["status"] in ("completed", "failed", "canceled"),
        timeout=2 * 60 + FIRST_TICK_SECONDS + TICK_SLACK_SECONDS,
        what="the task to end after the kill",
    )
    status, task = deployment.api("GET", f"tasks/{task_id}")
    assert task["status"] == "completed", (task, deployment.logs())
    status, job = deployment.api("GET", f"jobs/{job_id}")
    assert (job["status"], job["attempts"]) == ("completed", 2), job
    assert "stopped sending heartbeats" in (job["error_message"] or ""), job
    assert time.monotonic() - killed_at < 2 * 60 + FIRST_TICK_SECONDS + TICK_SLACK_SECONDS

    # The requeue was the scheduled sweeper's, recorded as its django-q2 task result.
    sweeps = wait_for(
        lambda: [
            t.result for t in Task.objects.filter(group=SWEEPER) if job_id in t.result["requeued"]
        ],
        timeout=10,
        what="the sweeper's record",
    )
    assert len(sweeps) == 1, sweeps
    assert Job.objects.get(pk=job_id).worker_id.split(":")[1] != str(pid)
    for photo in photos:
        for kind in (".thumb", ".preview"):
            assert (project_dir(project) / kind / f"{photo.basename}.webp").is_file()
    # The console: one line as each attempt starts, one as the job ends; a warning for the
    # recovery; no django-q2 line per message.
    log = host.log()
    assert log.count(f"Job {job_id} generate_derivatives started") == 2, log
    assert f"Job {job_id} generate_derivatives completed in" in log, log
    assert f"Recovered stale job {job_id}" in log, log
    assert "processing" not in log, log
    assert "Processed" not in log, log
