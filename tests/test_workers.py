"""The pipeline on real ``qcluster`` processes (SPEC §7): order, chunks, crashes, lanes."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from django.db import connection

from jobs.enqueue import job_enqueue
from jobs.events import EventType
from jobs.exceptions import JobStateError
from jobs.lanes import wake_lane
from jobs.lifecycle import job_cancel
from jobs.models import Event, Job, JobStatus, TaskRun
from jobs.sweeper import sweep
from jobs.tasks import start_task
from photos.models import Photo
from tests.factories import make_project
from tests.workers import wait_for

pytestmark = [pytest.mark.workers, pytest.mark.timeout(240)]


def task_status(task_id, *wanted):
    def check():
        task = TaskRun.objects.get(pk=task_id)
        return task if task.status in wanted else None

    return check


def test_three_step_task_runs_steps_in_order(workers, tenant):
    workers.start()
    started = start_task("test_three_steps", tenant)
    task = wait_for(task_status(started["task_id"], "completed", "failed"), what="task end")
    assert task.status == "completed", workers.logs()
    jobs = list(Job.objects.filter(task=task).order_by("step_index"))
    assert [j.step_index for j in jobs] == [0, 1, 2]
    for before, after in zip(jobs, jobs[1:], strict=False):
        assert before.finished_at <= after.started_at
    assert [j.priority for j in jobs] == [95, 50, 95]


def test_chunked_task_advances_once_after_all_chunks(workers, tenant):
    project = make_project(tenant, "Big")
    Photo.objects.bulk_create([Photo(project=project, basename=f"P{i:05d}") for i in range(4500)])
    ids = list(Photo.objects.filter(project=project).values_list("pk", flat=True))
    workers.start(lanes=("default",), PIPELINE_DEFAULT_WORKERS="2")
    started = start_task("test_chunked", tenant, items=ids)
    assert started["job_count"] == 3
    assert started["chunked"] is True
    task = wait_for(
        task_status(started["task_id"], "completed", "failed"), timeout=180, what="task end"
    )
    assert task.status == "completed", workers.logs()
    chunk_jobs = Job.objects.filter(task=task, step_index=0)
    assert sorted(chunk_jobs.values_list("chunk_index", flat=True)) == [0, 1, 2]
    next_step = Job.objects.filter(task=task, step_index=1)
    assert next_step.count() == 1
    last_chunk_end = max(chunk_jobs.values_list("finished_at", flat=True))
    assert next_step.get().created_at >= last_chunk_end
    effects = Event.objects.filter(type="test_side_effect")
    assert effects.count() == 4500


def test_worker_killed_mid_job_is_recovered_by_sweeper_exactly_once(workers, tenant):
    project = make_project(tenant, "Crash")
    Photo.objects.bulk_create([Photo(project=project, basename=f"K{i:03d}") for i in range(30)])
    ids = list(Photo.objects.filter(project=project).order_by("id").values_list("pk", flat=True))
    workers.start(lanes=("default",))
    job = job_enqueue(tenant=tenant, type="test_record_items", items=ids, payload={"sleep": 0.15})[
        0
    ]
    wait_for(
        lambda: Event.objects.filter(type="test_side_effect", job=job).count() >= 5,
        what="a few items done",
    )
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    worker_pid = int(job.worker_id.split(":")[1])
    os.kill(worker_pid, signal.SIGKILL)

    # The heartbeat stops with the worker; the sweeper requeues and re-wakes the lane.
    def swept():
        return sweep(stale_seconds=3)["requeued"]

    assert wait_for(swept, timeout=30, what="stale job requeued") == [job.pk]
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=["completed", "failed"]).first(),
        timeout=90,
        what="job end",
    )
    assert job.status == JobStatus.COMPLETED, workers.logs()
    assert job.attempts == 2
    per_item = {}
    for payload in Event.objects.filter(type="test_side_effect", job=job).values_list(
        "payload", flat=True
    ):
        per_item[payload["item_id"]] = per_item.get(payload["item_id"], 0) + 1
    assert len(per_item) == 30
    assert set(per_item.values()) == {1}


def test_duplicate_wake_up_runs_the_job_once(workers, tenant, tmp_path):
    marker = tmp_path / "markers"
    marker.mkdir()
    job = job_enqueue(
        tenant=tenant, type="test_noop", priority=50, payload={"marker_dir": str(marker)}
    )[0]
    wake_lane("default")  # the same "a job may be waiting" message, a second time
    wake_lane("default")
    workers.start(lanes=("default",))
    wait_for(lambda: Job.objects.filter(pk=job.pk, status="completed").exists(), what="job done")
    wait_for(lambda: not _queued_messages("default"), timeout=30, what="messages consumed")
    assert len(list(marker.iterdir())) == 1
    assert Event.objects.filter(job=job, type=EventType.JOB_STARTED).count() == 1


def _queued_messages(lane: str) -> int:
    from django_q.brokers import get_broker

    return get_broker(lane).queue_size()


def test_priority_job_starts_while_long_normal_job_runs(workers, tenant):
    workers.start()
    slow = job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 8})[0]
    wait_for(lambda: Job.objects.filter(pk=slow.pk, status="running").exists(), what="slow start")
    fast = job_enqueue(tenant=tenant, type="test_noop", priority=100)[0]
    fast = wait_for(
        lambda: Job.objects.filter(pk=fast.pk, status="completed").first(),
        timeout=30,
        what="fast done",
    )
    slow.refresh_from_db()
    assert slow.status == JobStatus.RUNNING, "the priority job had to wait for the normal one"
    assert fast.started_at >= slow.started_at
    wait_for(lambda: Job.objects.filter(pk=slow.pk, status="completed").exists(), what="slow done")


def test_cancel_running_job_ends_canceled_and_stops_task(workers, tenant):
    workers.start(lanes=("default",))
    started = start_task("test_slow", tenant, payload={"seconds": 20})
    job_id = started["first_job_id"]
    wait_for(lambda: Job.objects.filter(pk=job_id, status="running").exists(), what="job running")
    job_cancel(job_id=job_id)
    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status__in=["canceled", "completed"]).first(),
        timeout=30,
        what="job stop",
    )
    assert job.status == JobStatus.CANCELED
    assert job.progress_done < job.progress_total
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "canceled"
    assert Job.objects.filter(task=task).count() == 1  # the next step never started


def test_always_failing_handler_is_tried_three_times_then_fails(workers, tenant):
    workers.start(lanes=("default",))
    job = job_enqueue(tenant=tenant, type="test_always_fails", priority=50)[0]
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status="failed").first(),
        timeout=60,
        what="job failed",
    )
    assert job.attempts == 3
    assert "boom: the disk is on fire" in job.error_message
    assert Event.objects.filter(job=job, type=EventType.JOB_STARTED).count() == 3


def test_unknown_job_type_fails_at_once_without_retry(workers, tenant):
    workers.start(lanes=("default",))
    job = job_enqueue(tenant=tenant, type="no_such_type", priority=50)[0]
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status="failed").first(),
        timeout=30,
        what="job failed",
    )
    assert job.attempts == 1
    assert "Unknown job type 'no_such_type'" in job.error_message


def test_paused_lane_claims_nothing_until_resumed(workers, tenant):
    from jobs.lanes import lane_set_paused

    lane_set_paused(lane="default", paused=True)
    workers.start(lanes=("default",))
    job = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    wait_for(lambda: not _queued_messages("default"), timeout=30, what="wake-up consumed")
    connection.close()
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    lane_set_paused(lane="default", paused=False)
    wait_for(lambda: Job.objects.filter(pk=job.pk, status="completed").exists(), what="job done")


def test_jobs_enqueued_one_by_one_while_a_worker_drains_all_run_once(workers, tenant):
    # No sweeper runs here (the fixture drops the schedules): the coalesced wake-ups alone
    # must leave no job stranded.
    workers.start(lanes=("default",))
    jobs = [job_enqueue(tenant=tenant, type="test_noop", priority=50)[0] for _ in range(150)]
    wait_for(
        lambda: Job.objects.filter(status="completed").count() == len(jobs),
        timeout=120,
        what="every job done",
    )
    started = Event.objects.filter(type=EventType.JOB_STARTED).values_list("job_id", flat=True)
    assert sorted(started) == sorted(job.pk for job in jobs)


def test_a_lost_coalesced_wake_up_is_repaired_by_the_sweeper(workers, tenant):
    from jobs.lanes import wake_lane_coalesced

    with _messages_dropped():
        assert wake_lane_coalesced("default")  # the marker says awake; the message is lost
    job = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    assert _queued_messages("default") == 0, "the enqueue relied on the pending wake-up"
    workers.start(lanes=("default",))
    assert sweep(resend_after_seconds=0)["woken"] == {"default": 1}
    wait_for(lambda: Job.objects.filter(pk=job.pk, status="completed").exists(), what="job done")


def _messages_dropped():
    from unittest import mock

    return mock.patch("django_q.tasks.async_task")


def test_another_tenants_job_waits_for_one_job_of_a_backlog_at_most(workers, tenant, other_tenant):
    """Tenant A queues 50 jobs in one lane of one worker; tenant B queues one of the same
    priority once A's first runs: B's starts when that one ends, not after A's 50."""
    workers.start(lanes=("default",))
    backlog = [
        job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 0.5})[0]
        for _ in range(50)
    ]
    wait_for(
        lambda: Job.objects.filter(pk=backlog[0].pk, status="running").exists(),
        what="A's first job to start",
    )
    upload = job_enqueue(tenant=other_tenant, type="test_noop", priority=50)[0]
    upload = wait_for(
        lambda: Job.objects.filter(pk=upload.pk, status="completed").first(),
        timeout=60,
        what="B's job to run",
    )
    before = Job.objects.filter(
        tenant=tenant, started_at__isnull=False, started_at__lt=upload.started_at
    ).count()
    # A's first job, and at most one more claimed as B's job was being queued.
    assert before <= 2, before
    # The rest of the backlog is not this test's business.
    for job in Job.objects.filter(pk__in=[j.pk for j in backlog], status="queued"):
        with contextlib.suppress(JobStateError):  # it may have ended meanwhile
            job_cancel(job_id=job.pk)
