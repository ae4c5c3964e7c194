"""The job repository: every state change of a job goes through one function here.

Each function runs its own transaction (or joins the caller's), writes the matching event to the
outbox in the same transaction and sends wake-ups only after commit. Claiming is atomic on both
databases: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a compare-and-set on SQLite
(whose IMMEDIATE transactions already serialise writers).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from photos.models import Photo
from projects.models import Project, Tenant

from .constants import MAX_ITEMS_PER_JOB
from .events import EventType, job_event
from .exceptions import JobStateError, PayloadTooLarge, ScopeError
from .models import Job, JobItem, JobItemStatus, JobStatus, Scope, TaskRun, lane_for_priority

logger = logging.getLogger(__name__)

ItemSpec = int | dict[str, Any] | Photo


# --- enqueue ------------------------------------------------------------------------------


def scope_resolve(*, scope: str | None, project: Project | None, has_items: bool) -> str:
    """The job's scope: the explicit one checked against the arguments, else inferred.

    A project → ``project``; items without a project → ``photo_set``; neither → ``global``.
    """
    if scope is None:
        if project is not None:
            return Scope.PROJECT
        return Scope.PHOTO_SET if has_items else Scope.GLOBAL
    if scope not in Scope.values:
        raise ScopeError(f"Unknown scope '{scope}'; use one of {', '.join(Scope.values)}.")
    if scope == Scope.PROJECT and project is None:
        raise ScopeError("A project-scoped job needs a project.")
    if scope == Scope.GLOBAL and project is not None:
        raise ScopeError("A global job must not name a project.")
    if scope == Scope.GLOBAL and has_items:
        raise ScopeError("A global job takes no items.")
    return scope


def _normalise_items(*, tenant: Tenant, items: Sequence[ItemSpec]) -> list[tuple[int | None, str]]:
    """``(photo_id, basename)`` pairs in the given order, checked to belong to the tenant."""
    pairs: list[tuple[int | None, str | None]] = []
    for item in items:
        if isinstance(item, Photo):
            pairs.append((item.pk, item.basename))
        elif isinstance(item, dict):
            if item.get("photo_id") is None and not item.get("basename"):
                raise ScopeError(f"A job item needs a photo_id or a basename, got {item!r}.")
            pairs.append((item.get("photo_id"), item.get("basename")))
        elif isinstance(item, int) and not isinstance(item, bool):
            pairs.append((item, None))
        else:
            raise ScopeError(f"Unsupported job item {item!r}.")
    missing = {pid for pid, base in pairs if pid is not None and base is None}
    # ``int | None`` keys: a pair with neither id nor name misses below and raises KeyError.
    names: dict[int | None, str] = {}
    ids = sorted(missing)
    for start in range(0, len(ids), MAX_ITEMS_PER_JOB):
        names.update(
            Photo.objects.for_tenant(tenant)
            .filter(pk__in=ids[start : start + MAX_ITEMS_PER_JOB])
            .values_list("pk", "basename")
        )
    unknown = missing - names.keys()
    if unknown:
        raise ScopeError(
            f"Photos not found in tenant '{tenant.slug}': {', '.join(map(str, sorted(unknown)[:20]))}."
        )
    return [(pid, base if base is not None else names[pid]) for pid, base in pairs]


def job_enqueue(
    *,
    tenant: Tenant,
    type: str,
    project: Project | None = None,
    scope: str | None = None,
    items: Sequence[ItemSpec] | None = None,
    payload: dict[str, Any] | None = None,
    priority: int = 50,
    task: TaskRun | None = None,
    step_index: int = 0,
    auto_chunk: bool = False,
    max_attempts: int | None = None,
) -> list[Job]:
    """Create a job (or one per chunk of 2,000 items) and wake its lane after commit.

    More than ``MAX_ITEMS_PER_JOB`` items raise ``PayloadTooLarge`` unless ``auto_chunk``.
    """
    items = list(items or [])
    scope = scope_resolve(scope=scope, project=project, has_items=bool(items))
    if project is not None and project.tenant_id != tenant.pk:
        raise ScopeError("The project belongs to another tenant.")
    if len(items) > MAX_ITEMS_PER_JOB and not auto_chunk:
        raise PayloadTooLarge(len(items))
    pairs = _normalise_items(tenant=tenant, items=items) if items else []
    chunks = [pairs[i : i + MAX_ITEMS_PER_JOB] for i in range(0, len(pairs), MAX_ITEMS_PER_JOB)]
    chunks = chunks or [[]]

    jobs: list[Job] = []
    with transaction.atomic():
        for index, chunk in enumerate(chunks):
            job = Job.objects.create(
                tenant=tenant,
                project=project,
                task=task,
                type=type,
                scope=scope,
                step_index=step_index,
                chunk_index=index,
                total_chunks=len(chunks),
                priority=priority,
                payload=dict(payload or {}),
                progress_total=len(chunk),
                max_attempts=max_attempts or settings.PIPELINE_MAX_ATTEMPTS,
                woken_at=timezone.now(),
            )
            if chunk:
                JobItem.objects.bulk_create(
                    [
                        JobItem(job=job, tenant=tenant, photo_id=pid, basename=base)
                        for pid, base in chunk
                    ],
                    batch_size=500,
                )
            job_event(job, EventType.JOB_QUEUED)
            jobs.append(job)
        for job in jobs:
            _wake_on_commit(job.lane)
    return jobs


def _wake_on_commit(lane: str) -> None:
    from .runtime import wake_lane

    transaction.on_commit(lambda: wake_lane(lane))


# --- claim --------------------------------------------------------------------------------


def _claimable(
    *, min_priority: int | None, max_priority: int | None, task_id: str | None = None
) -> Any:
    now = timezone.now()
    qs = Job.objects.filter(status=JobStatus.QUEUED, cancel_requested=False).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    if min_priority is not None:
        qs = qs.filter(priority__gte=min_priority)
    if max_priority is not None:
        qs = qs.filter(priority__lte=max_priority)
    if task_id is not None:
        # The stubs type an FK's _id lookup by the target's UUID; Django also takes the str form.
        qs = qs.filter(task_id=task_id)  # type: ignore[misc]
    return qs.order_by("-priority", "created_at", "id")


def job_claim(
    *,
    worker_id: str,
    min_priority: int | None = None,
    max_priority: int | None = None,
    task_id: str | None = None,
) -> Job | None:
    """Atomically take the best queued job in the priority range, or ``None``.

    Never returns a canceled job, one whose backoff has not elapsed, or one another worker
    holds. The attempt is counted here, so a crash before the job ends still counts.
    """
    candidates = _claimable(min_priority=min_priority, max_priority=max_priority, task_id=task_id)
    now = timezone.now()
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            job = candidates.select_for_update(skip_locked=True, of=("self",)).first()
            if job is None:
                return None
            claimed = Job.objects.filter(pk=job.pk).update(
                status=JobStatus.RUNNING,
                worker_id=worker_id,
                attempts=F("attempts") + 1,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
            )
        else:
            claimed = 0
            for job_id in candidates.values_list("pk", flat=True)[:5]:
                claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                    status=JobStatus.RUNNING,
                    worker_id=worker_id,
                    attempts=F("attempts") + 1,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                )
                if claimed:
                    job = Job(pk=job_id)
                    break
            if not claimed:
                return None
        # Everything the handler needs, read once.
        job = Job.objects.select_related("tenant", "project", "task").get(pk=job.pk)
        job_event(job, EventType.JOB_STARTED, attempt=job.attempts)
        if job.task_id:
            TaskRun.objects.filter(pk=job.task_id, status="queued").update(status="running")
    return job


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
        job.error_message = error[:10_000]
        job.last_error_at = now
        update += ["error_message", "last_error_at"]
    job.save(update_fields=update)
    if was_running:
        # The end of a step announces its final progress, whatever the throttle held back.
        _progress_event(job)
    job_event(job, event_type, **({"error": job.error_message} if error else {}), **extra)
    from .orchestrator import task_job_finished

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
    with transaction.atomic():
        job = _locked(job_id)
        if job.is_finished:
            return job
        if job.cancel_requested:
            return _finish(job, JobStatus.CANCELED, event_type=EventType.JOB_CANCELED)
        if message:
            job.error_message = message
            job.save(update_fields=["error_message"])
        extra: dict[str, Any] = {"failed_items": failed_items}
        if failed_items:
            extra.update(total_items=total_items, message=message)
        return _finish(job, JobStatus.COMPLETED, event_type=EventType.JOB_COMPLETED, **extra)


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
    job.error_message = error[:10_000]
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
    job_event(job, EventType.JOB_QUEUED, retry=True, attempt=job.attempts, error=job.error_message)
    _wake_on_commit(job.lane)
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
        if job.task_id:
            TaskRun.objects.filter(pk=job.task_id).update(status="running", finished_at=None)
        job_event(job, EventType.JOB_QUEUED, retry=True, manual=True)
        _wake_on_commit(job.lane)
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
        _claimable(min_priority=None, max_priority=None)
        .filter(Q(woken_at__isnull=True) | Q(woken_at__lt=cutoff))
        .in_lane(lane)[:50]
    )


def jobs_mark_woken(job_ids: Iterable[int]) -> None:
    Job.objects.filter(pk__in=list(job_ids)).update(woken_at=timezone.now())


def lane_of(job: Job) -> str:
    return lane_for_priority(job.priority)
