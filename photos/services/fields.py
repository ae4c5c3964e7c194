"""One write path for scalar culling fields of many photos: keep flags, rating, label (SPEC §9).

Items are parsed one by one (a bad item becomes a per-item error), the photos are read and
locked in one query, a later item for the same photo wins field by field, and only fields
whose value changes are written: one UPDATE per (field, value), so the query count is fixed
whatever the item count. Each changed photo gets an ``item`` event in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs.events import events_record_bulk
from jobs.models import Event
from photos.events import item_event
from photos.models import Photo
from photos.selectors import photos_visible

from .items import ItemError, item_error, item_photo_id, items_check
from .results import BulkUpdated

# The changed fields of each photo: ``{photo_id: {field: new value}}``.
Changes = dict[int, dict[str, Any]]


@dataclass(frozen=True)
class FieldsUpdated:
    """What ``photo_fields_update`` did: the reply, and the photos and changes behind it."""

    reply: BulkUpdated
    photos: dict[int, Photo]
    changes: Changes


def photo_fields_update(
    *,
    user: Any,
    items: Any,
    values_of: Callable[[dict[str, Any]], dict[str, Any]],
    only: tuple[str, ...],
    related: str = "project",
    dry_run: bool,
    more_events: Callable[[dict[int, Photo], Changes], list[Event]] | None = None,
) -> FieldsUpdated:
    """Apply the field values ``values_of(item)`` returns (it raises ``ItemError`` for a bad
    item; an empty dict means nothing to change) to the user's photos.

    ``only`` names the columns to read (the fields compared, and whatever the caller needs
    afterwards, through ``related``); ``more_events`` adds events written with the change.
    """
    items = items_check(items)
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[Any, int, dict[str, Any]]] = []
    for item in items:
        try:
            photo_id = item_photo_id(item)
            values = values_of(item)
        except ItemError as exc:
            errors.append(item_error(item, str(exc)))
            continue
        if values:
            parsed.append((item, photo_id, values))

    with transaction.atomic():
        photos = {
            p.pk: p
            for p in photos_visible(user, {pid for _, pid, _ in parsed}, for_update=not dry_run)
            .select_related(related)
            .only("id", "project_id", "project__tenant_id", *only)
        }
        wanted: Changes = {}
        for item, photo_id, values in parsed:
            if photo_id not in photos:
                errors.append(item_error(item, "Photo not found."))
                continue
            wanted.setdefault(photo_id, {}).update(values)

        changes: Changes = {}
        for photo_id, values in wanted.items():
            photo = photos[photo_id]
            diff = {f: v for f, v in values.items() if getattr(photo, f) != v}
            if diff:
                changes[photo_id] = diff

        if dry_run:
            per_item = [{"photo_id": pid, "would_update": changes.get(pid, {})} for pid in wanted]
            return FieldsUpdated(
                reply=BulkUpdated(updated=len(changes), errors=errors, per_item=per_item),
                photos=photos,
                changes={},
            )

        groups: dict[tuple[str, Any], list[int]] = defaultdict(list)
        for photo_id, diff in changes.items():
            for name, value in diff.items():
                groups[(name, value)].append(photo_id)
        now = timezone.now()
        for (name, value), ids in sorted(groups.items(), key=lambda g: (g[0][0], str(g[0][1]))):
            Photo.objects.filter(pk__in=ids).update(**{name: value}, updated_at=now)

        events = [
            item_event(
                tenant_id=photos[pid].project.tenant_id,
                project_id=photos[pid].project_id,
                photo_id=pid,
                fields=diff,
                actor_id=getattr(user, "pk", None),
            )
            for pid, diff in changes.items()
        ]
        if more_events is not None:
            events += more_events(photos, changes)
        if events:
            events_record_bulk(events)
    return FieldsUpdated(
        reply=BulkUpdated(updated=len(changes), errors=errors, per_item=None),
        photos=photos,
        changes=changes,
    )
