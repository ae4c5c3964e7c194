"""The event outbox (SPEC §10): one function writes every event.

Call it inside the transaction of the change it describes, so an event exists exactly when its
change was committed. Open streams learn of it on commit (``jobs.wakeups``): on PostgreSQL a
trigger on the table sends the NOTIFY, so nothing here; with Redis wake-ups the tenant is
published after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from .definitions import payload_title
from .models import Event, Job
from .wakeups import redis_publish, wakeup_mode


class EventType:
    JOB_QUEUED = "job_queued"
    JOB_STARTED = "job_started"
    JOB_PROGRESS = "job_progress"
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    JOB_CANCELED = "job_canceled"
    ITEM = "item"
    ITEM_REMOVED = "item_removed"
    ITEM_MOVED = "item_moved"
    MANIFEST_CHANGED = "manifest_changed"
    FOLDER_RENAMED = "folder_renamed"
    PROJECT_DISCOVERED = "project_discovered"
    PROJECT_ARCHIVED = "project_archived"
    PROJECT_REMOVED = "project_removed"
    PROJECT_FOLDER_KEPT = "project_folder_kept"
    UNACCEPTED_FILES = "unaccepted_files"
    PENDING_CHANGES = "pending_changes"


def event_record(
    *,
    tenant_id: int,
    type: str,
    actor_id: int | None = None,
    project_id: int | None = None,
    photo_id: int | None = None,
    job_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    event = Event.objects.create(
        tenant_id=tenant_id,
        type=type,
        actor_id=actor_id,
        project_id=project_id,
        photo_id=photo_id,
        job_id=job_id,
        payload=payload or {},
    )
    _wake_on_commit([tenant_id])
    return event


def events_record_bulk(events: Iterable[Event]) -> list[Event]:
    """Write many unsaved ``Event`` objects in one query (bulk photo changes)."""
    written = Event.objects.bulk_create(list(events), batch_size=500)
    _wake_on_commit({event.tenant_id for event in written})
    return written


def _wake_on_commit(tenant_ids: Iterable[int]) -> None:
    if wakeup_mode() == "redis":
        ids = list(tenant_ids)
        transaction.on_commit(lambda: redis_publish(ids))


def job_event_payload(job: Job, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "task_id": str(job.task_id) if job.task_id else None,
        # What the task is, in words ("Importing 25 photos"), for trays and lists.
        "task_title": payload_title(job.payload) if job.task_id else None,
        "type": job.type,
        "scope": job.scope,
        "project_id": job.project_id,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        **extra,
    }


def job_event(job: Job, type: str, **extra: Any) -> Event:
    return event_record(
        tenant_id=job.tenant_id,
        type=type,
        project_id=job.project_id,
        job_id=job.pk,
        payload=job_event_payload(job, **extra),
    )


def job_events(job: Job, *events: tuple[str, dict[str, Any]]) -> list[Event]:
    """Several events of one job, each ``(type, extra)``, in one INSERT, ids in that order.

    The end of a job writes its final ``job_progress`` and its ``job_completed`` (or
    ``job_failed``, ``job_canceled``) together: one statement instead of two per job.
    """
    return events_record_bulk(
        Event(
            tenant_id=job.tenant_id,
            type=type,
            project_id=job.project_id,
            job_id=job.pk,
            payload=job_event_payload(job, **extra),
        )
        for type, extra in events
    )
