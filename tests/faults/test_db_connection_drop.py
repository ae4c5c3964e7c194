"""The database connection dropped in the middle of a job (PostgreSQL ``pg_terminate_backend``).

A derivatives job runs on a real ``qcluster``; once it is mid-way, every other backend of the
test database is terminated (the worker's, its heartbeat thread's, the cluster's own), as a
database restart or a network blip would. The attempt fails on its next query, the job is
retried with the error kept, resumes at the first unfinished item and completes; no original
is touched.
"""

from __future__ import annotations

import pytest
from django.db import connection

from jobs.models import Event, Job, JobItem, JobStatus, TaskRun
from photos.models import DerivativeStatus, Photo
from photos.services import photos_process
from photos.services.results import ProcessStarted
from photos.storage import project_dir
from tests.workers import wait_for

from .disk import add_photos, originals

pytestmark = [
    pytest.mark.fault,
    pytest.mark.workers,
    pytest.mark.postgres_only,
    pytest.mark.timeout(240),
]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL")


def terminate_other_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for pid, ok in cursor.fetchall() if ok]


def test_connection_dropped_mid_job_is_retried_and_completes(workers, user, project):
    photos = add_photos(project, 8, raw=False, size=(400, 300))
    before = originals(project)
    workers.start(
        PIPELINE_EXTRA_HANDLER_MODULES="tests.handlers,tests.faults.injection",
        FAULT_SLOW="derivatives:0.4",
    )
    started = photos_process(user=user, items=[{"photo_id": p.pk} for p in photos])
    assert isinstance(started, ProcessStarted)
    task_id = started.task_id

    def mid_job():
        job = Job.objects.filter(task_id=task_id, status="running").first()
        if job is None:
            return None
        done = JobItem.objects.filter(job=job, status="done").count()
        return job if 2 <= done < len(photos) else None

    job = wait_for(mid_job, timeout=60, what="job mid-way")
    assert terminate_other_backends(), "no backend to terminate"

    task = wait_for(
        lambda: TaskRun.objects.filter(pk=task_id, status__in=["completed", "failed"]).first(),
        timeout=120,
        what="task end",
    )
    job.refresh_from_db()
    assert task.status == "completed", workers.logs()
    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 2
    # The failed attempt was recorded with the database error as its reason.
    retry = Event.objects.filter(job=job, type="job_queued", payload__retry=True).get()
    reason = retry.payload["error"].splitlines()[0]
    assert reason.startswith(("OperationalError", "InterfaceError")), reason
    assert "connection" in reason, reason
    # Every item done exactly once in the end; every photo has its derivatives.
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert not Photo.objects.filter(project=project).exclude(
        thumbnail_status=DerivativeStatus.GENERATED
    )
    for photo in photos:
        assert (project_dir(project) / ".preview" / f"{photo.basename}.webp").is_file()
    assert originals(project) == before
