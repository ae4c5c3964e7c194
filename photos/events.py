"""The constructors of the photo events (SPEC §10): one per kind, written by the photo
services with ``jobs.events.events_record_bulk`` in the transaction of their change."""

from __future__ import annotations

from typing import Any

from jobs.events import EventType
from jobs.models import Event


def item_event(
    *,
    tenant_id: int,
    project_id: int,
    photo_id: int,
    fields: dict[str, Any],
    actor_id: int | None = None,
    job_id: int | None = None,
    removed: bool = False,
) -> Event:
    """The unsaved ``item`` event of one photo (``item_removed`` when ``removed``).

    The one constructor of photo change events: ``fields`` are what changed (or what the
    client renders, e.g. ``tags``, ``changes``, ``source``); the payload always names the photo
    and its project. Write it with ``events_record_bulk``.
    """
    return Event(
        tenant_id=tenant_id,
        type=EventType.ITEM_REMOVED if removed else EventType.ITEM,
        actor_id=actor_id,
        project_id=project_id,
        photo_id=photo_id,
        job_id=job_id,
        payload={"photo_id": photo_id, "project_id": project_id, **fields},
    )


def pending_changes_event(
    *,
    tenant_id: int,
    project_id: int,
    totals: dict[str, int],
    actor_id: int | None = None,
    job_id: int | None = None,
) -> Event:
    """The unsaved ``pending_changes`` event of a project: its pending-delete totals
    (``jpg``, ``raw``, ``total``, ``photos``), all the workspace renders of them."""
    return Event(
        tenant_id=tenant_id,
        type=EventType.PENDING_CHANGES,
        actor_id=actor_id,
        project_id=project_id,
        job_id=job_id,
        payload={"project_id": project_id, **totals},
    )
