"""The job state machine: every change of a queued or running job goes through one function here.

Claim, heartbeat, progress, complete, fail (retry with backoff), cancel, retry by hand and the
requeue of stale jobs. Each function runs its own transaction (or joins the caller's), writes
the matching event to the outbox in the same transaction and sends wake-ups only after commit
(``jobs.lanes``). The end of a job tells its task in that transaction (``jobs.tasks``), which
may enqueue the next step. Claiming is atomic on both databases: ``SELECT … FOR UPDATE SKIP
LOCKED`` on PostgreSQL, a compare-and-set on SQLite (whose IMMEDIATE transactions already
serialise writers).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from projects.models import Tenant

from .error_text import error_text_clean, error_text_summary
from .events import EventType, job_event, job_events
from .exceptions import JobStateError
from .lanes import lane_for_priority, lane_q, priority_q, wake_lane_on_commit
from .models import Job, JobItem, JobItemStatus, JobStatus
from .tasks import task_job_finished, task_job_retried, task_job_started

logger = logging.getLogger(__name__)


# --- claim --------------------------------------------------------------------------------


def claimable_jobs(
    *, min_priority: int | None, max_priority: int | None, task_id: str | None = None
) -> Any:
    """Queued jobs a worker may claim now, best first: not canceled, backoff elapsed."""
    now = timezone.now()
    qs = Job.objects.filter(status=JobStatus.QUEUED, cancel_requested=False).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    qs = qs.filter(priority_q(min_priority, max_priority))
    if task_id is not None:
        # The stubs type an FK's _id lookup by the target's UUID; Django also takes the str form.
        qs = qs.filter(task_id=task_id)  # type: ignore[misc]
    return qs.order_by("-priority", "created_at", "id")


def claim_turn(candidates: Any) -> tuple[int, int] | None:
    """``(tenant_id, priority)`` whose turn it is among ``candidates``; ``None`` when empty.

    Priority first; among the tenants with a job at the top priority, the one whose last claim
    at that priority is oldest (one that never had one before any other), then the one whose
    oldest job is oldest. So one studio's backlog of long jobs delays another studio's job by
    at most one job per worker (SPEC §14). A tenant's last claim is the newest ``started_at``
    of its jobs at that priority (index ``job_tenant_turn``); its best job comes from index
    ``job_tenant_claim``. The cost is a few index probes per tenant, whatever the length of
    the queue or of the history.
    """
    heads = candidates.filter(tenant_id=OuterRef("pk")).order_by("-priority", "created_at", "id")
    last_claim = (
        Job.objects.filter(
            tenant_id=OuterRef("pk"),
            priority=OuterRef("head_priority"),
            started_at__isnull=False,
        )
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    turn = (
        Tenant.objects.annotate(head_priority=Subquery(heads.values("priority")[:1]))
        .filter(head_priority__isnull=False)
        .annotate(
            last_claim=Subquery(last_claim), head_created=Subquery(heads.values("created_at")[:1])
        )
        .order_by(
            F("head_priority").desc(),
            F("last_claim").asc(nulls_first=True),
            "head_created",
            "pk",
        )
        .values_list("pk", "head_priority")
        .first()
    )
    return (turn[0], turn[1]) if turn is not None else None


def job_claim(
    *,
    worker_id: str,
    min_priority: int | None = None,
    max_priority: int | None = None,
    task_id: str | None = None,
) -> Job | None:
    """Atomically take the best queued job in the priority range, or ``None``.

    The best job is the oldest of the tenant whose turn it is (``claim_turn``). If another
    worker holds all of that tenant's jobs at that priority, the best job of any tenant is
    taken instead: a claim never waits and never comes back empty while a job is free. A
    claim for one task (a foreground command) skips the turn: its jobs are one tenant's.
    Never returns a canceled job, one whose backoff has not elapsed, or one another worker
    holds. The attempt is counted here, so a crash before the job ends still counts.
    """
    candidates = claimable_jobs(
        min_priority=min_priority, max_priority=max_priority, task_id=task_id
    )
    with transaction.atomic():
        job = None
        if task_id is None:
            turn = claim_turn(candidates)
            if turn is None:
                return None
            tenant_id, priority = turn
            job = _claim_one(
                candidates.filter(tenant_id=tenant_id, priority=priority), worker_id=worker_id
            )
        if job is None:
            job = _claim_one(candidates, worker_id=worker_id)
        if job is None:
            return None
        job_event(job, EventType.JOB_STARTED, attempt=job.attempts)
        task_job_started(job=job)
    return job


def _claim_one(candidates: Any, *, worker_id: str) -> Job | None:
    """One statement: mark the best candidate running and return its row.

    ``UPDATE … WHERE id = (SELECT id … LIMIT 1) RETURNING *``: on PostgreSQL the subquery
    skips rows other claims hold (``FOR UPDATE SKIP LOCKED``), so concurrent workers take
    different jobs without waiting; on SQLite the statement runs under the database's single
    write lock (IMMEDIATE transactions), and ``status = 'queued'`` in the outer ``WHERE`` is
    the compare-and-set. The row comes back whole (with ``tenant_id``, ``project_id``,
    ``task_id``), so no second read is needed; the handler's ``job.tenant`` and
    ``job.project`` load on first use.
    """
    subquery = candidates.values("pk")[:1]
    if connection.features.has_select_for_update_skip_locked:
        subquery = subquery.select_for_update(skip_locked=True)
    sub_sql, sub_params = subquery.query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(Job._meta.db_table)
    fields = Job._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    now = timezone.now()
    sql = (
        f"UPDATE {table} SET status = %s, worker_id = %s, attempts = attempts + 1, "
        "started_at = %s, heartbeat_at = %s, finished_at = NULL "
        f"WHERE status = %s AND id = ({sub_sql}) RETURNING {columns}"
    )
    at = connection.ops.adapt_datetimefield_value(now)
    params = [JobStatus.RUNNING.value, worker_id, at, at, JobStatus.QUEUED.value, *sub_params]
    # ``raw`` applies the backend's converters (SQLite keeps datetimes and JSON as text).
    rows = list(Job.objects.raw(sql, params))
    return rows[0] if rows else None


# --- while running ------------------------------------------------------------------------


def job_heartbeat(*, job_id: int, worker_id: str) -> tuple[bool, bool]:
    """Touch the heartbeat. Returns ``(still_ours, cancel_requested)``."""
    now = timezone.now()
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, worker_id=worker_id
        ).update(heartbeat_at=now)
        cancel = Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first()
    return bool(updated), bool(cancel)


def job_progress(
    *, job_id: int, done: int, total: int | None = None, announce: bool = False
) -> None:
    """Raise progress; it never goes down and never passes the total.

    With ``announce`` a ``job_progress`` event carrying the stored values is written in the
    same transaction (callers throttle it: SPEC §10, about once a second per job).
    """
    fields: dict[str, Any] = {}
    if total is not None:
        fields["progress_total"] = Greatest(F("progress_total"), total)
        cap: Any = Greatest(F("progress_total"), total)
    else:
        cap = F("progress_total")
    fields["progress_done"] = Least(Greatest(F("progress_done"), done), cap)
    if not announce:
        Job.objects.filter(pk=job_id).update(**fields, heartbeat_at=timezone.now())
        return
    with transaction.atomic():
        Job.objects.filter(pk=job_id).update(**fields, heartbeat_at=timezone.now())
        job = (
            Job.objects.filter(pk=job_id, status=JobStatus.RUNNING)
            .only(*PROGRESS_EVENT_FIELDS)
            .first()
        )
        if job is not None:
            _progress_event(job)


# What a job_progress event needs; never the payload, which can be long.
PROGRESS_EVENT_FIELDS = (
    "tenant_id",
    "project_id",
    "task_id",
    "step_index",
    "type",
    "scope",
    "status",
    "progress_done",
    "progress_total",
)


def _progress_event(job: Job) -> None:
    job_event(
        job,
        EventType.JOB_PROGRESS,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
    )


# --- ending -------------------------------------------------------------------------------


def _finish(job: Job, status: str, *, error: str = "", event_type: str, **extra: Any) -> Job:
    now = timezone.now()
    was_running = job.status == JobStatus.RUNNING
    job.status = status
    job.finished_at = now
    job.heartbeat_at = now
    update = ["status", "finished_at", "heartbeat_at", "updated_at"]
    if status == JobStatus.COMPLETED and job.progress_total:
        job.progress_done = job.progress_total
        update.append("progress_done")
    if error:
        job.error_message = error_text_clean(error)[:10_000]
        job.last_error_at = now
        update += ["error_message", "last_error_at"]
    job.save(update_fields=update)
    return _ended(
        job,
        was_running=was_running,
        event_type=event_type,
        # Every member of the tenant reads events: no traceback (SPEC §14).
        **({"error": error_text_summary(job.error_message)} if error else {}),
        **extra,
    )


def _ended(job: Job, *, was_running: bool, event_type: str, **extra: Any) -> Job:
    """A job's end is stored: announce it (one INSERT for its events) and tell its task."""
    events: list[tuple[str, dict[str, Any]]] = []
    if was_running:
        # The end of a step announces its final progress, whatever the throttle held back.
        progress = {"progress_done": job.progress_done, "progress_total": job.progress_total}
        events.append((EventType.JOB_PROGRESS, progress))
    events.append((event_type, extra))
    job_events(job, *events)
    task_job_finished(job=job)
    return job


def _locked(job_id: int) -> Job:
    return Job.objects.select_for_update().get(pk=job_id)


def job_complete(
    *, job_id: int, message: str = "", failed_items: int = 0, total_items: int = 0
) -> Job:
    """End a running job. A job whose cancellation was requested ends ``canceled`` instead.

    ``message`` (kept in ``error_message``) and ``failed_items`` of ``total_items`` say that
    some of the job's items failed although the job as a whole completed; ``job_completed``
    carries them too, so no client misses a partly failed job.
    """
    extra: dict[str, Any] = {"failed_items": failed_items}
    if failed_items:
        extra.update(total_items=total_items, message=message)
    with transaction.atomic():
        job = _complete_running(job_id, message=message)
        if job is not None:
            return _ended(job, was_running=True, event_type=EventType.JOB_COMPLETED, **extra)
        # Not a plain running job (finished, canceled, or requeued meanwhile): decide on the
        # locked row.
        job = _locked(job_id)
        if job.is_finished:
            return job
        if job.cancel_requested:
            return _finish(job, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED)
        if message:
            job.error_message = error_text_clean(message)
            job.save(update_fields=["error_message"])
        return _finish(job, JobStatus.COMPLETED, event_type=EventType.JOB_COMPLETED, **extra)


def _complete_running(job_id: int, *, message: str) -> Job | None:
    """The usual end in one statement: a running job not asked to cancel becomes completed
    (what ``_finish`` writes for it), its row returned whole; ``None`` for any other state.

    The ``UPDATE`` locks the row as the locking read did, and its ``WHERE`` is checked on
    the current row (PostgreSQL re-checks it after waiting for a concurrent writer).
    """
    qn = connection.ops.quote_name
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    sets = [
        f"{qn('status')} = %s",
        f"{qn('finished_at')} = %s",
        f"{qn('heartbeat_at')} = %s",
        f"{qn('updated_at')} = %s",
        f"{qn('progress_done')} = CASE WHEN {qn('progress_total')} > 0"
        f" THEN {qn('progress_total')} ELSE {qn('progress_done')} END",
    ]
    params: list[Any] = [JobStatus.COMPLETED.value, at, at, at]
    if message:
        sets.append(f"{qn('error_message')} = %s")
        params.append(error_text_clean(message))
    columns = ", ".join(qn(f.column) for f in Job._meta.concrete_fields)
    sql = (
        f"UPDATE {qn(Job._meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {qn('id')} = %s AND {qn('status')} = %s AND NOT {qn('cancel_requested')} "
        f"RETURNING {columns}"
    )
    params += [job_id, JobStatus.RUNNING.value]
    # ``raw`` applies the backend's converters (SQLite keeps datetimes and JSON as text).
    rows = list(Job.objects.raw(sql, params))
    return rows[0] if rows else None


def job_mark_canceled(*, job_id: int) -> Job:
    with transaction.atomic():
        job = _locked(job_id)
        if job.is_finished:
            return job
        JobItem.objects.filter(job=job, status=JobItemStatus.RUNNING).update(
            status=JobItemStatus.PENDING
        )
        return _finish(job, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped."""
    base = settings.PIPELINE_RETRY_BASE_SECONDS
    seconds = min(base * (2 ** max(attempts - 1, 0)), settings.PIPELINE_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds)


def job_fail(*, job_id: int, error: str, retry: bool = True) -> Job:
    """Count a failed attempt: requeue with backoff below ``max_attempts``, else fail for good."""
    with transaction.atomic():
        job = _locked(job_id)
        if job.is_finished:
            return job
        if job.cancel_requested:
            return _finish(job, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED, error=error)
        JobItem.objects.filter(job=job, status=JobItemStatus.RUNNING).update(
            status=JobItemStatus.PENDING
        )
        if retry and job.attempts < job.max_attempts:
            return _requeue(job, error=error)
        return _finish(job, JobStatus.FAILED, event_type=EventType.JOB_FAILED, error=error)


def _requeue(job: Job, *, error: str) -> Job:
    now = timezone.now()
    job.status = JobStatus.QUEUED
    job.worker_id = ""
    job.error_message = error_text_clean(error)[:10_000]
    job.last_error_at = now
    job.not_before = now + retry_delay(job.attempts)
    job.woken_at = now
    job.save(
        update_fields=[
            "status",
            "worker_id",
            "error_message",
            "last_error_at",
            "not_before",
            "woken_at",
            "updated_at",
        ]
    )
    job_event(
        job,
        EventType.JOB_QUEUED,
        retry=True,
        attempt=job.attempts,
        error=error_text_summary(job.error_message),
    )
    wake_lane_on_commit(lane_for_priority(job.priority))
    return job


def job_cancel(*, job_id: int) -> Job:
    """Cancel: a queued job at once, a running one at its next item boundary.

    The task stops too: its other queued jobs are canceled and its running ones asked to stop.
    """
    with transaction.atomic():
        job = _locked(job_id)
        if job.is_finished:
            raise JobStateError(f"Job {job.pk} is already {job.status}.")
        siblings = []
        if job.task_id:
            siblings = list(
                Job.objects.select_for_update()
                .filter(task_id=job.task_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                .exclude(pk=job.pk)
            )
        for target in [job, *siblings]:
            if target.status == JobStatus.QUEUED:
                _finish(target, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED)
            elif not target.cancel_requested:
                target.cancel_requested = True
                target.save(update_fields=["cancel_requested", "updated_at"])
        job.refresh_from_db()
    return job


def job_retry(*, job_id: int) -> Job:
    """Put a failed or canceled job back in its queue with a fresh attempt budget."""
    with transaction.atomic():
        job = _locked(job_id)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
            raise JobStateError(
                f"Only failed or canceled jobs can be retried; job {job.pk} is {job.status}."
            )
        JobItem.objects.filter(
            job=job, status__in=[JobItemStatus.RUNNING, JobItemStatus.FAILED]
        ).update(status=JobItemStatus.PENDING, message="")
        now = timezone.now()
        job.status = JobStatus.QUEUED
        job.attempts = 0
        job.cancel_requested = False
        job.not_before = None
        job.finished_at = None
        job.worker_id = ""
        job.woken_at = now
        job.save()
        task_job_retried(job=job)
        job_event(job, EventType.JOB_QUEUED, retry=True, manual=True)
        wake_lane_on_commit(lane_for_priority(job.priority))
    return job


# --- recovery -----------------------------------------------------------------------------


def jobs_requeue_stale(*, stale_seconds: int | None = None) -> list[int]:
    """Requeue running jobs whose heartbeat stopped (a dead worker); returns their ids.

    Their ``running`` items go back to ``pending`` so the next attempt redoes only those.
    """
    stale_seconds = stale_seconds if stale_seconds is not None else settings.PIPELINE_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    stale_ids = list(
        Job.objects.filter(status=JobStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    requeued = []
    for job_id in stale_ids:
        with transaction.atomic():
            job = _locked(job_id)
            if job.status != JobStatus.RUNNING or (job.heartbeat_at and job.heartbeat_at >= cutoff):
                continue
            error = f"Worker {job.worker_id or '?'} stopped sending heartbeats (stale for over {stale_seconds}s)."
            JobItem.objects.filter(job=job, status=JobItemStatus.RUNNING).update(
                status=JobItemStatus.PENDING
            )
            if job.cancel_requested:
                _finish(job, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED, error=error)
            elif job.attempts < job.max_attempts:
                _requeue(job, error=error)
            else:
                _finish(job, JobStatus.FAILED, event_type=EventType.JOB_FAILED, error=error)
            requeued.append(job_id)
            logger.warning("Recovered stale job %s: %s", job_id, error)
    return requeued


def jobs_waiting_too_long(*, lane: str, older_than_seconds: int) -> list[Job]:
    """Claimable queued jobs of a lane whose last wake-up is older than the given age."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        claimable_jobs(min_priority=None, max_priority=None)
        .filter(Q(woken_at__isnull=True) | Q(woken_at__lt=cutoff))
        .filter(lane_q(lane))[:50]
    )


def jobs_mark_woken(job_ids: Iterable[int]) -> None:
    Job.objects.filter(pk__in=list(job_ids)).update(woken_at=timezone.now())
