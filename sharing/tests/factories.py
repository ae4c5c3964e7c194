"""Factories of the sharing tests (the browser tests use them too)."""

from __future__ import annotations

from typing import Any

from jobs.events import events_record_bulk
from sharing.events import share_pick
from sharing.models import ShareLink, SharePick


def pick_record(
    link: ShareLink,
    photo: Any,
    *,
    client_name: str = "Anna",
    picked: bool = True,
    comment: str = "",
) -> SharePick:
    """A client's pick as the gallery records it: the row and its ``share_pick`` event."""
    pick, _ = SharePick.objects.update_or_create(
        link=link,
        photo=photo,
        client_name=client_name,
        defaults={"picked": picked, "comment": comment},
    )
    events_record_bulk(
        [
            share_pick(
                tenant_id=link.tenant_id,
                share_id=link.pk,
                project_id=photo.project_id,
                photo_id=photo.pk,
                picked=picked,
                comment=comment,
                client_name=client_name,
            )
        ]
    )
    return pick
