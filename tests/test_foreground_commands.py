"""Foreground commands while lane workers run (SPEC §12): they wait for their task's real end.

A lane worker may claim a task's jobs before the command does; the command then waits for
the task, printing progress, and exits 0 only when it completed, 1 with the error otherwise.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs.management.commands._progress import run_task_foreground
from jobs.models import Job, JobStatus, TaskRun
from jobs.tasks import start_task
from tests.factories import make_project
from tests.workers import wait_for

pytestmark = [pytest.mark.workers, pytest.mark.timeout(240)]


def test_foreground_run_waits_for_the_job_a_worker_claimed(workers, tenant):
    workers.start(lanes=("default",))
    started = start_task("test_slow", tenant, payload={"seconds": 2})
    job = wait_for(
        lambda: Job.objects.filter(task_id=started["task_id"], status=JobStatus.RUNNING).first(),
        what="the worker to claim the first job",
    )
    assert job.worker_id

    out = StringIO()
    task = run_task_foreground(started["task_id"], out=out)

    assert task.status == "completed", workers.logs()
    assert Job.objects.filter(task=task, status=JobStatus.COMPLETED).count() == 2
    assert "test_sleep" in out.getvalue()
    assert "(step 1, worker)" in out.getvalue()


def test_maintenance_joins_a_task_a_worker_runs_and_exits_zero(workers, tenant):
    for name in ("Alpha", "Beta", "Gamma"):
        make_project(tenant, name)
    # Slowed (1 s per project in orphaned_project_cleanup) so the task is still running when
    # the command starts: unchanged maintenance of three projects is otherwise over at once.
    workers.start(
        PIPELINE_EXTRA_HANDLER_MODULES="tests.handlers,tests.faults.injection",
        FAULT_SLOW="orphans:1",
    )
    started = start_task("maintenance_global", tenant, source="schedule", single_flight=True)
    wait_for(
        lambda: Job.objects.filter(task_id=started["task_id"]).exclude(worker_id="").exists(),
        what="a worker to claim a job of the task",
    )
    out = StringIO()

    call_command("maintenance", "--tenant", tenant.slug, stdout=out, stderr=StringIO())

    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "completed", workers.logs()
    assert "already queued or running" in out.getvalue()
    assert f"maintenance_global task {task.pk} completed" in out.getvalue()


def test_start_task_exits_zero_when_workers_share_its_jobs(workers, tenant):
    workers.start()
    out = StringIO()

    call_command("start_task", "test_slow", "--tenant", tenant.slug, stdout=out, stderr=StringIO())

    task = TaskRun.objects.get(type="test_slow")
    assert task.status == "completed", workers.logs()
    assert f"task {task.pk} completed" in out.getvalue()


def test_start_task_of_a_failing_task_exits_one_with_the_error(workers, tenant):
    workers.start()
    with pytest.raises(CommandError, match="boom: the disk is on fire") as caught:
        call_command(
            "start_task",
            "test_fails",
            "--tenant",
            tenant.slug,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    task = TaskRun.objects.get(type="test_fails")
    assert task.status == "failed"
    assert str(task.pk) in str(caught.value)
    assert Job.objects.get(task=task).attempts == 3
