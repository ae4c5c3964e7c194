"""The events of share links, one constructor per kind (STYLE habit 15).

Each returns an unsaved ``Event``; the service that makes the change writes it to the tenant's
outbox with ``jobs.events.events_record_bulk`` in the change's transaction, so the studio's
workspace sees it live on its event stream. A payload never carries a link's token.
"""

from __future__ import annotations

from typing import Any

from jobs.models import Event

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
) -> Event:
    """A download through a link: ``kind`` is ``preview``, ``original`` or ``zip`` (the
    client's picks); ``photo_ids`` the photos it holds."""
    return Event(
        tenant_id=tenant_id,
        type=SHARE_DOWNLOADED,
        project_id=project_id,
        photo_id=photo_ids[0] if len(photo_ids) == 1 else None,
        payload={
            "share_id": share_id,
            "kind": kind,
            "photo_ids": photo_ids,
            "count": len(photo_ids),
            "client_name": client_name,
        },
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
