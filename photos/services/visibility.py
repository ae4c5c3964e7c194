"""Visibility of many photos at once (SPEC §9, §18): the master switch of every share link.

A share link shows only its photos that are ``public``; making a photo private here hides it
from every link at once. The write is ``photo_fields_update``'s, as for keep flags and ratings:
per-item errors, a dry run, ``updated`` counting photos that changed, a fixed number of queries
whatever the item count, and an ``item`` event with the changed field in the same transaction.
Creating a share link makes its photos public through this function too (one write path).
"""

from __future__ import annotations

from typing import Any

from photos.models import Photo

from .fields import photo_fields_update
from .items import ItemError
from .results import BulkUpdated

VISIBILITIES = tuple(Photo.Visibility.values)


def _item_values(item: dict[str, Any]) -> dict[str, Any]:
    if "visibility" not in item:
        raise ItemError("visibility is required.")
    value = item["visibility"]
    if value not in VISIBILITIES:
        raise ItemError(f"visibility must be one of {', '.join(VISIBILITIES)}.")
    return {"visibility": value}


def photos_visibility_update(*, user: Any, items: Any, dry_run: bool = False) -> BulkUpdated:
    """Set ``visibility`` (``private`` / ``public``) of many photos.

    Runs in its own transaction, or in the caller's (a share link's creation, which must make
    its photos public together with the link or not at all). The rows are locked (PostgreSQL)
    while the change is computed; only ``visibility`` is written.
    """
    return photo_fields_update(
        user=user,
        items=items,
        values_of=_item_values,
        only=("visibility",),
        dry_run=dry_run,
    ).reply
