"""Parsing of bulk photo items (SPEC §9): per-item errors, the 2,000-item limit. The rows the
items name are read by ``photos.selectors.photos_visible``.

A bad item never fails the request: it becomes ``{"photo_id": <as sent>, "error": "…"}`` and
the valid items still apply.
"""

from __future__ import annotations

from typing import Any

from core.errors import ApplicationError, PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB, id_parse

NOT_FOUND = "Photo not found."


class ItemError(Exception):
    """One item is invalid; its text goes to the reply's ``errors``."""


def items_check(items: Any) -> list[Any]:
    """The items as a list, refused whole when not a list or above the limit."""
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise ApplicationError("'items' must be a list.")
    if len(items) > MAX_ITEMS_PER_JOB:
        raise PayloadTooLarge(len(items))
    return list(items)


def item_error(item: Any, message: str) -> dict[str, Any]:
    photo_id = item.get("photo_id") if isinstance(item, dict) else None
    return {"photo_id": photo_id, "error": message}


def item_photo_id(item: Any) -> int:
    """The item's ``photo_id`` as an int, or ``ItemError``."""
    if not isinstance(item, dict):
        raise ItemError("Each item must be an object with a photo_id.")
    if "photo_id" not in item or item["photo_id"] is None:
        raise ItemError("photo_id is required.")
    value = item["photo_id"]
    parsed = id_parse(value)
    if parsed is not None:
        return parsed
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            int(value)
        except ValueError:
            raise ItemError("photo_id must be an integer.") from None
        raise ItemError(NOT_FOUND)  # zero, negative or beyond 64 bits: no such row
    raise ItemError("photo_id must be an integer.")
