"""The event outbox (SPEC §10): one function writes every event.

Call it inside the transaction of the change it describes, so an event exists exactly when its
change was committed. Open streams learn of it on commit (``jobs.wakeups``): on PostgreSQL a
trigger on the table sends the NOTIFY, so nothing here; with Redis wake-ups the tenant is
published after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction

from .definitions import TASK_DEFINITIONS, payload_title
from .models import ITEM_ID, Event, Job, TaskRun
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


# The id a client sent with the request that causes the events being written (the
# ``X-Request-ID`` header, set by ``config.request_id.RequestIdMiddleware``). Every event written
# meanwhile carries it as ``payload["request_id"]``, so the tab that made a change can skip its
# own echo while the user's other tabs and devices apply it. Services never see HTTP: they run
# inside ``request_id_scope`` and know nothing of it.
_request_id: ContextVar[str | None] = ContextVar("event_request_id", default=None)
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def request_id_current() -> str | None:
    return _request_id.get()


@contextmanager
def request_id_scope(value: str | None) -> Iterator[None]:
    """Events written inside carry ``value`` (ignored unless it matches REQUEST_ID_PATTERN)."""
    clean = value if value and REQUEST_ID_PATTERN.match(value) else None
    token = _request_id.set(clean)
    try:
        yield
    finally:
        _request_id.reset(token)


def _with_request_id(payload: dict[str, Any]) -> dict[str, Any]:
    request_id = _request_id.get()
    if request_id and "request_id" not in payload:
        return {**payload, "request_id": request_id}
    return payload


def event_record(
    *,
    tenant_id: int,
    type: str,
    actor_id: int | None = None,
    project_id: int | None = None,
    item_id: int | None = None,
    job_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    event = Event.objects.create(
        tenant_id=tenant_id,
        type=type,
        actor_id=actor_id,
        project_id=project_id,
        job_id=job_id,
        payload=_with_request_id(payload or {}),
        **{ITEM_ID: item_id},
    )
    _wake_on_commit([tenant_id])
    return event


def events_record_bulk(events: Iterable[Event]) -> list[Event]:
    """Write many unsaved ``Event`` objects in one query (bulk item changes)."""
    rows = list(events)
    for event in rows:
        event.payload = _with_request_id(event.payload or {})
    written = Event.objects.bulk_create(rows, batch_size=500)
    _wake_on_commit({event.tenant_id for event in written})
    return written


def _wake_on_commit(tenant_ids: Iterable[int]) -> None:
    if wakeup_mode() == "redis":
        ids = list(tenant_ids)
        transaction.on_commit(lambda: redis_publish(ids))


# Task types by task id: a task's type never changes, so progress events read it once.
_task_types: dict[Any, str] = {}


def _task_type(job: Job) -> str | None:
    if not job.task_id:
        return None
    if Job.task.is_cached(job) and job.task is not None:
        return job.task.type
    if job.task_id not in _task_types:
        if len(_task_types) > 2000:
            _task_types.clear()
        found = TaskRun.objects.filter(pk=job.task_id).values_list("type", flat=True).first()
        if found is None:
            return None
        _task_types[job.task_id] = found
    return _task_types[job.task_id]


def job_event_payload(job: Job, **extra: Any) -> dict[str, Any]:
    """What a client renders of a job: its step within its task (``step_index`` from 0,
    ``steps_total``), the task's type and its progress, so no one re-reads the job."""
    task_type = _task_type(job)
    definition = TASK_DEFINITIONS.get(task_type) if task_type else None
    return {
        "job_id": job.pk,
        "task_id": str(job.task_id) if job.task_id else None,
        "task_type": task_type,
        "step_index": job.step_index,
        "steps_total": len(definition.steps) if definition else 1,
        # What the task is, in words ("Importing 25 <items>"), for trays and lists.
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
