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


# --- the client's gallery (sharing/gallery/) ------------------------------------------------
# What a client does through a link: opening it, downloading, hearting and commenting. The
# client has no account: ``actor`` stays empty and the name the client typed is in the payload.

SHARE_VIEWED = "share_viewed"
SHARE_DOWNLOADED = "share_downloaded"
SHARE_PICK = "share_pick"


def share_viewed(*, tenant_id: int, share_id: int, title: str) -> Event:
    """The gallery page of a link was opened (once per page load)."""
    return Event(
        tenant_id=tenant_id,
        type=SHARE_VIEWED,
        payload={"share_id": share_id, "title": title},
    )


def share_downloaded(
    *,
    tenant_id: int,
    share_id: int,
    kind: str,
    photo_ids: list[int],
    client_name: str = "",
    project_id: int | None = None,
    export_id: int | None = None,
) -> Event:
    """A download through a link: ``kind`` is ``preview``, ``original``, ``zip`` (the
    client's picks) or ``export`` (an export made of the link, ``export_id``); ``photo_ids``
    the photos it holds."""
    payload: dict[str, Any] = {
        "share_id": share_id,
        "kind": kind,
        "photo_ids": photo_ids,
        "count": len(photo_ids),
        "client_name": client_name,
    }
    if export_id is not None:
        payload["export_id"] = export_id
    return Event(
        tenant_id=tenant_id,
        type=SHARE_DOWNLOADED,
        project_id=project_id,
        photo_id=photo_ids[0] if len(photo_ids) == 1 else None,
        payload=payload,
    )


def share_pick(
    *,
    tenant_id: int,
    share_id: int,
    project_id: int,
    photo_id: int,
    picked: bool,
    comment: str,
    client_name: str,
) -> Event:
    """A client's heart or comment on one photo of a link, as it now stands."""
    payload: dict[str, Any] = {
        "share_id": share_id,
        "photo_id": photo_id,
        "picked": picked,
        "comment": comment,
        "client_name": client_name,
    }
    return Event(
        tenant_id=tenant_id,
        type=SHARE_PICK,
        project_id=project_id,
        photo_id=photo_id,
        payload=payload,
    )


# --- end of the gallery's events ------------------------------------------------------------
