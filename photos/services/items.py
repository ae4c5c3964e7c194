"""Parsing of bulk photo items (SPEC §9): per-item errors, the 2,000-item limit, lookups.

A bad item never fails the request: it becomes ``{"photo_id": <as sent>, "error": "…"}`` and
the valid items still apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.errors import ApplicationError, PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from photos.models import Photo
from projects.models import Project, tenant_id_for_user

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


MAX_ID = 2**63 - 1


def id_parse(value: Any) -> int | None:
    """An id as sent (int or digit string) as an int, or ``None`` when it cannot be a row id.

    Values past 64 bits are ``None`` too: SQLite cannot even bind them.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None


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


def photos_visible(user: Any, photo_ids: Iterable[int], *, for_update: bool = False) -> Any:
    """The user's photos in active projects among ``photo_ids`` (one query when evaluated).

    Another tenant's photo and a photo of an archived (deleted) project are "not found".
    ``pk__in`` rather than ``in_bulk`` keeps it one query whatever the count.
    """
    qs = Photo.objects.for_user(user).filter(
        pk__in=list(photo_ids), project__status=Project.Status.ACTIVE
    )
    if for_update:
        qs = qs.select_for_update(of=("self",))
    return qs


def acting_tenant_id(user: Any, candidates: Sequence[int]) -> int | None:
    """The tenant a task-starting request acts in: the user's own, else the first candidate's.

    Only a superuser without a membership sees several tenants; a task belongs to one, so rows
    of any other tenant in the same request are reported as not found.
    """
    own = tenant_id_for_user(user)
    if own is not None:
        return own
    return candidates[0] if candidates else None
