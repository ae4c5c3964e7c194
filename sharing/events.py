"""The events of share links (SPEC §10, §18): one constructor per kind, as ``jobs/events.py``.

Each returns an unsaved ``Event``; the service that makes the change writes it with
``events_record_bulk`` in the change's transaction. A payload never carries the link's token
(it names the link by id and title), so the outbox and the event stream cannot open a link.
"""

from __future__ import annotations

from typing import Any

from jobs.models import Event

from .models import ShareLink


class ShareEventType:
    SHARE_CREATED = "share_created"
    SHARE_UPDATED = "share_updated"
    SHARE_REVOKED = "share_revoked"


def _link_fields(link: ShareLink) -> dict[str, Any]:
    return {
        "share_id": link.pk,
        "title": link.title,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "downloads": link.downloads,
        "allow_picks": link.allow_picks,
    }


def share_created_event(
    link: ShareLink, *, photo_count: int, made_public: int, actor_id: int | None
) -> Event:
    """``share_created``: the link, how many photos it holds and how many became public."""
    return Event(
        tenant_id=link.tenant_id,
        type=ShareEventType.SHARE_CREATED,
        actor_id=actor_id,
        payload={**_link_fields(link), "photo_count": photo_count, "made_public": made_public},
    )


def share_updated_event(
    link: ShareLink, *, changed: list[str], added: int, removed: int, actor_id: int | None
) -> Event:
    """``share_updated``: which fields changed (names only: never the password) and how many
    photos were added to or removed from the link."""
    return Event(
        tenant_id=link.tenant_id,
        type=ShareEventType.SHARE_UPDATED,
        actor_id=actor_id,
        payload={**_link_fields(link), "changed": changed, "added": added, "removed": removed},
    )


def share_revoked_event(link: ShareLink, *, actor_id: int | None) -> Event:
    """``share_revoked``: the link answers 404 from now on."""
    return Event(
        tenant_id=link.tenant_id,
        type=ShareEventType.SHARE_REVOKED,
        actor_id=actor_id,
        payload={
            **_link_fields(link),
            "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
        },
    )
