"""Culling write path for ratings and colour labels of many photos (SPEC §3, §9).

The shape is that of ``photos_keep_update``: per-item errors, a dry run, ``updated`` counting
photos that changed, a fixed number of queries whatever the item count, events written in
the change's transaction. With ``PIPELINE_WRITE_XMP`` on, the changed values are then written
to each photo's XMP sidecar (``photos.xmp``), after the commit: a sidecar that cannot be
written is logged and never undoes the database change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, events_record_bulk
from jobs.models import Event
from photos import fsrules, storage, xmp
from photos.models import RATING_MAX, Label, Photo

from .items import ItemError, item_error, item_photo_id, items_check, photos_visible
from .results import BulkUpdated

logger = logging.getLogger(__name__)


def _item_values(item: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "rating" in item:
        rating = item["rating"]
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= RATING_MAX:
            raise ItemError(f"rating must be an integer from 0 to {RATING_MAX}.")
        values["rating"] = rating
    if "label" in item:
        label = item["label"]
        if label not in Label.values:
            raise ItemError(f"label must be one of {', '.join(Label.values)}.")
        values["label"] = label
    return values


def photos_rating_update(*, user: Any, items: list[dict], dry_run: bool = False) -> BulkUpdated:
    """Set ``rating`` (0–5) and/or ``label`` of many photos; a field left out is unchanged.

    An item with neither is ignored; a later item for the same photo wins field by field. The
    rows are locked (PostgreSQL) while the change is computed, and only the requested fields
    are written, so a concurrent keep or tag change of the same photo is never lost.
    """
    items = items_check(items)
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[Any, int, dict[str, Any]]] = []
    for item in items:
        try:
            photo_id = item_photo_id(item)
            values = _item_values(item)
        except ItemError as exc:
            errors.append(item_error(item, str(exc)))
            continue
        if values:
            parsed.append((item, photo_id, values))

    with transaction.atomic():
        photos = {
            p.pk: p
            for p in photos_visible(user, {pid for _, pid, _ in parsed}, for_update=not dry_run)
            .select_related("project__tenant")
            .only(
                "id",
                "basename",
                "rating",
                "label",
                "project_id",
                "project__folder",
                "project__tenant_id",
                "project__tenant__slug",
            )
        }
        wanted: dict[int, dict[str, Any]] = {}
        for item, photo_id, values in parsed:
            if photo_id not in photos:
                errors.append(item_error(item, "Photo not found."))
                continue
            wanted.setdefault(photo_id, {}).update(values)

        changes: dict[int, dict[str, Any]] = {}
        for photo_id, values in wanted.items():
            photo = photos[photo_id]
            diff = {f: v for f, v in values.items() if getattr(photo, f) != v}
            if diff:
                changes[photo_id] = diff

        if dry_run:
            per_item = [{"photo_id": pid, "would_update": changes.get(pid, {})} for pid in wanted]
            return BulkUpdated(updated=len(changes), errors=errors, per_item=per_item)

        # One UPDATE per (field, value): at most twelve, whatever the item count.
        groups: dict[tuple[str, Any], list[int]] = defaultdict(list)
        for photo_id, diff in changes.items():
            for name, value in diff.items():
                groups[(name, value)].append(photo_id)
        now = timezone.now()
        for (name, value), ids in sorted(groups.items(), key=lambda g: (g[0][0], str(g[0][1]))):
            Photo.objects.filter(pk__in=ids).update(**{name: value}, updated_at=now)

        events = [
            Event(
                tenant_id=photos[pid].project.tenant_id,
                type=EventType.ITEM,
                actor_id=getattr(user, "pk", None),
                project_id=photos[pid].project_id,
                photo_id=pid,
                payload={"photo_id": pid, "project_id": photos[pid].project_id, **diff},
            )
            for pid, diff in changes.items()
        ]
        if events:
            events_record_bulk(events)

    if settings.PIPELINE_WRITE_XMP and changes:
        sidecars_write(photos=[photos[pid] for pid in changes], changes=changes)
    return BulkUpdated(updated=len(changes), errors=errors, per_item=None)


def sidecars_write(*, photos: list[Photo], changes: dict[int, dict[str, Any]]) -> int:
    """Write the changed rating/label of each photo to its XMP sidecar; the count written.

    The sidecar is the photo's existing ``<base>.xmp`` or ``<base>.<ext>.xmp``, else a new
    ``<base>.xmp``. Each project folder is listed once. Failures are logged, not raised: the
    database already holds the change, and the next write-back or ingest converges.
    """
    index = storage.FolderIndex()
    written = 0
    for photo in photos:
        diff = changes[photo.pk]
        try:
            folder = storage.project_dir(photo.project)
            originals = index.files(folder, photo.basename).all
            path = xmp.sidecar_for_writing(folder, photo.basename, originals)
            fsrules.ensure_inside(path, folder)
            xmp.sidecar_write(path, rating=diff.get("rating"), label=diff.get("label"))
        except (fsrules.UnsafePath, xmp.XmpError, OSError) as exc:
            logger.warning("%s: rating not written to its XMP sidecar (%s).", photo.basename, exc)
            continue
        written += 1
    return written
