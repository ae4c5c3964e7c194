from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jobs.enqueue import job_enqueue
from jobs.exceptions import JobStateError
from jobs.lifecycle import (
    job_cancel,
    job_claim,
    job_complete,
    job_fail,
    job_progress,
    job_retry,
    jobs_requeue_stale,
)
from jobs.models import Event, Job, JobItem, JobItemStatus, JobStatus
from tests.factories import make_items, make_tenant


def enqueue(tenant, priority, **kw):
    return job_enqueue(tenant=tenant, type="test_noop", priority=priority, **kw)[0]


def test_claim_picks_highest_priority(tenant):
    for p in (10, 90, 50):
        enqueue(tenant, p)
    assert job_claim(worker_id="w").priority == 90


def test_claim_respects_priority_range(tenant):
    enqueue(tenant, 30)
    enqueue(tenant, 80)
    assert job_claim(worker_id="w", min_priority=70).priority == 80
    enqueue(tenant, 80)
    assert job_claim(worker_id="w", max_priority=69).priority == 30


def test_empty_queue_claims_nothing(db):
    assert job_claim(worker_id="w") is None


def test_two_claims_get_two_jobs(tenant):
    enqueue(tenant, 50)
    enqueue(tenant, 50)
    first, second = job_claim(worker_id="a"), job_claim(worker_id="b")
    assert first.pk != second.pk
    assert job_claim(worker_id="c") is None


def test_claim_order(tenant):
    for p in (50, 10, 90, 70):
        enqueue(tenant, p)
    assert [job_claim(worker_id="w").priority for _ in range(4)] == [90, 70, 50, 10]


def test_claim_ties_break_by_age(tenant):
    older = enqueue(tenant, 50)
    enqueue(tenant, 50)
    assert job_claim(worker_id="w").pk == older.pk


def test_a_tenants_backlog_delays_another_tenants_job_by_one_job_at_most(tenant, other_tenant):
    """Tenant A queues 50 long jobs, one worker takes the first; tenant B then queues one of
    the same priority: B's job is the very next claim, not the 51st."""
    backlog = [enqueue(tenant, 90) for _ in range(50)]
    first = job_claim(worker_id="w")
    assert first.pk == backlog[0].pk
    upload = enqueue(other_tenant, 90)
    job_complete(job_id=first.pk)
    assert job_claim(worker_id="w").pk == upload.pk
    # Then A again: B has nothing left.
    assert job_claim(worker_id="w").pk == backlog[1].pk


def test_claims_take_tenants_in_turn_at_one_priority(tenant, other_tenant):
    third = make_tenant("initech")
    for owner in (tenant, tenant, tenant, other_tenant, other_tenant, third):
        enqueue(owner, 50)
    claimed = [job_claim(worker_id="w").tenant_id for _ in range(6)]
    a, b, c = tenant.pk, other_tenant.pk, third.pk
    assert claimed == [a, b, c, a, b, a]


def test_fairness_never_outranks_priority(tenant, other_tenant):
    enqueue(tenant, 95)
    job_claim(worker_id="w")
    higher = [enqueue(tenant, 95) for _ in range(2)]
    enqueue(other_tenant, 90)
    # Tenant A just had a claim, yet its higher-priority jobs still come first.
    assert [job_claim(worker_id="w").pk for _ in range(2)] == [j.pk for j in higher]
    assert job_claim(worker_id="w").tenant_id == other_tenant.pk


def test_a_tenants_turn_is_per_priority(tenant, other_tenant):
    """A claim at one priority does not cost the tenant its turn at another."""
    enqueue(tenant, 95)
    job_claim(worker_id="w")
    mine = enqueue(tenant, 50)
    enqueue(other_tenant, 50)
    assert job_claim(worker_id="w").pk == mine.pk


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_claim_takes_another_tenants_job_when_the_turns_job_is_held(
    transactional_db, tenant, other_tenant
):
    """The tenant whose turn it is has one job, and another worker's claim holds its row: this
    claim skips it and takes the next tenant's job instead of coming back empty."""
    import threading

    from django.db import connections

    enqueue(tenant, 50)
    job_claim(worker_id="w")  # tenant A had its turn
    waiting = enqueue(tenant, 50)
    held = enqueue(other_tenant, 50)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Job.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(30)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        assert job_claim(worker_id="w").pk == waiting.pk
    finally:
        release.set()
        holder.join()
    assert job_claim(worker_id="w").pk == held.pk


def test_claim_skips_canceled_and_backed_off(tenant):
    canceled = enqueue(tenant, 90)
    job_cancel(job_id=canceled.pk)
    waiting = enqueue(tenant, 80)
    Job.objects.filter(pk=waiting.pk).update(not_before=timezone.now() + timedelta(minutes=5))
    ready = enqueue(tenant, 10)
    assert job_claim(worker_id="w").pk == ready.pk
    assert job_claim(worker_id="w") is None


def test_claim_marks_running_and_counts_attempt(tenant):
    job = enqueue(tenant, 50)
    claimed = job_claim(worker_id="worker-1")
    assert claimed.pk == job.pk
    assert claimed.status == JobStatus.RUNNING
    assert claimed.worker_id == "worker-1"
    assert claimed.attempts == 1
    assert claimed.started_at is not None
    assert claimed.heartbeat_at is not None
    assert Event.objects.filter(job=job, type="job_started").exists()


def test_complete_sets_fields(tenant):
    job = enqueue(tenant, 50)
    job_claim(worker_id="w")
    job = job_complete(job_id=job.pk)
    assert job.status == JobStatus.COMPLETED
    assert job.finished_at is not None
    assert Event.objects.filter(job=job, type="job_completed").exists()


def test_fail_without_retry_keeps_error(tenant):
    job = enqueue(tenant, 50)
    job_claim(worker_id="w")
    job = job_fail(job_id=job.pk, error="disk full", retry=False)
    assert job.status == JobStatus.FAILED
    assert job.error_message == "disk full"
    assert job.last_error_at is not None
    assert job.finished_at is not None


def test_fail_requeues_with_backoff_until_max_attempts(tenant, settings):
    settings.PIPELINE_RETRY_BASE_SECONDS = 10
    job = enqueue(tenant, 50, max_attempts=2)
    job_claim(worker_id="w")
    job = job_fail(job_id=job.pk, error="first")
    assert job.status == JobStatus.QUEUED
    assert job.not_before > timezone.now() + timedelta(seconds=5)
    Job.objects.filter(pk=job.pk).update(not_before=None)
    job_claim(worker_id="w")
    job = job_fail(job_id=job.pk, error="second")
    assert job.status == JobStatus.FAILED
    assert job.attempts == 2
    assert job.error_message == "second"


def test_job_inserted_without_scope_reads_as_project(tenant, project):
    table = Job._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, project_id, type, step_index, chunk_index, total_chunks,"
            " priority, status, payload, progress_done, progress_total, attempts, max_attempts,"
            " error_message, worker_id, cancel_requested, created_at, updated_at)"
            " VALUES (%s, %s, 'legacy', 0, 0, 1, 50, 'queued', '{}', 0, 0, 0, 3, '', '', %s, %s, %s)",
            [tenant.pk, project.pk, False, now, now],
        )
    assert Job.objects.get(type="legacy").scope == "project"


def test_progress_is_monotonic_and_capped(tenant):
    job = enqueue(tenant, 50)
    job_progress(job_id=job.pk, done=5, total=10)
    job_progress(job_id=job.pk, done=3)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (5, 10)
    job_progress(job_id=job.pk, done=50)
    job.refresh_from_db()
    assert job.progress_done == 10


def test_cancel_queued_and_running(tenant):
    queued = enqueue(tenant, 10)
    running = enqueue(tenant, 90)
    job_claim(worker_id="w")
    assert job_cancel(job_id=queued.pk).status == JobStatus.CANCELED
    running = job_cancel(job_id=running.pk)
    assert running.status == JobStatus.RUNNING
    assert running.cancel_requested
    assert job_complete(job_id=running.pk).status == JobStatus.CANCELED
    with pytest.raises(JobStateError):
        job_cancel(job_id=running.pk)


def test_retry_requeues_failed_job(tenant):
    job = enqueue(tenant, 50)
    job_claim(worker_id="w")
    job_fail(job_id=job.pk, error="x", retry=False)
    job = job_retry(job_id=job.pk)
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 0
    with pytest.raises(JobStateError):
        job_retry(job_id=job.pk)


def test_stale_running_jobs_are_requeued_and_items_reset(tenant, project):
    job = job_enqueue(
        tenant=tenant, type="test_noop", project=project, items=make_items(project, 3, "S")
    )[0]
    job_claim(worker_id="dead")
    items = list(job.items.order_by("id"))
    JobItem.objects.filter(pk=items[0].pk).update(status=JobItemStatus.DONE)
    JobItem.objects.filter(pk=items[1].pk).update(status=JobItemStatus.RUNNING)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert jobs_requeue_stale(stale_seconds=60) == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert "heartbeat" in job.error_message
    assert list(job.items.order_by("id").values_list("status", flat=True)) == [
        "done",
        "pending",
        "pending",
    ]


def test_fresh_running_jobs_are_not_stale(tenant):
    enqueue(tenant, 50)
    job_claim(worker_id="alive")
    assert jobs_requeue_stale(stale_seconds=60) == []


def test_claim_is_the_turn_one_update_and_the_started_event(
    tenant, other_tenant, django_assert_num_queries
):
    for owner in (other_tenant, tenant, other_tenant):
        enqueue(owner, 50)
    job_claim(worker_id="w")
    job = Job.objects.filter(tenant=tenant).get()
    # savepoint, the tenant whose turn it is, UPDATE … RETURNING, event, release
    with django_assert_num_queries(5) as ctx:
        claimed = job_claim(worker_id="w")
    statements = [q["sql"].lstrip().split()[0].upper() for q in ctx.captured_queries]
    assert statements.count("UPDATE") == 1
    assert statements.count("SELECT") == 1
    assert claimed.pk == job.pk
    assert claimed.tenant_id == tenant.pk
    assert claimed.payload == job.payload
    assert claimed.created_at == Job.objects.get(pk=job.pk).created_at


def test_the_usual_end_is_one_update_and_one_insert_of_both_events(
    tenant, django_assert_num_queries
):
    job = enqueue(tenant, 50)
    job_claim(worker_id="w")
    claimed_event = Event.objects.filter(job=job, type="job_started").get().pk
    Job.objects.filter(pk=job.pk).update(progress_total=4, progress_done=2)
    with django_assert_num_queries(4) as ctx:  # savepoint, UPDATE … RETURNING, events, release
        ended = job_complete(job_id=job.pk, message="1 of 4 items failed", failed_items=1)
    statements = [q["sql"].lstrip().split()[0].upper() for q in ctx.captured_queries]
    assert statements.count("UPDATE") == 1
    assert statements.count("INSERT") == 1
    assert statements.count("SELECT") == 0
    stored = Job.objects.get(pk=job.pk)
    assert ended.status == stored.status == JobStatus.COMPLETED
    assert stored.progress_done == 4
    assert stored.finished_at is not None
    assert stored.heartbeat_at == stored.finished_at
    assert stored.error_message == "1 of 4 items failed"
    assert stored.updated_at == stored.finished_at
    ended_events = Event.objects.filter(job=job, id__gt=claimed_event).order_by("id")
    progress, completed = ended_events
    assert (progress.type, completed.type) == ("job_progress", "job_completed")
    assert progress.payload["progress_done"] == progress.payload["progress_total"] == 4
    assert completed.payload["failed_items"] == 1
    assert completed.payload["status"] == JobStatus.COMPLETED


def test_completing_a_job_asked_to_cancel_or_already_ended_takes_the_locked_path(tenant):
    asked = enqueue(tenant, 50)
    job_claim(worker_id="w")
    Job.objects.filter(pk=asked.pk).update(cancel_requested=True)
    assert job_complete(job_id=asked.pk).status == JobStatus.CANCELED
    assert Event.objects.filter(job=asked, type="job_canceled").count() == 1

    done = enqueue(tenant, 50)
    job_claim(worker_id="w")
    job_complete(job_id=done.pk)
    finished_at = Job.objects.get(pk=done.pk).finished_at
    again = job_complete(job_id=done.pk)  # a second end changes nothing
    assert again.status == JobStatus.COMPLETED
    assert Job.objects.get(pk=done.pk).finished_at == finished_at
    assert Event.objects.filter(job=done, type="job_completed").count() == 1
