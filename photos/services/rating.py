"""Culling write path for ratings and colour labels of many photos (SPEC §3, §9).

The write is ``photo_fields_update``'s, as for keep flags: per-item errors, a dry run,
``updated`` counting photos that changed, a fixed number of queries whatever the item count,
events written in the change's transaction. With ``PIPELINE_WRITE_XMP`` on, the changed values are then written
to each photo's XMP sidecar (``photos.xmp``), after the commit: a sidecar that cannot be
written is logged and never undoes the database change.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from photos import fsrules, storage, xmp
from photos.models import RATING_MAX, Label, Photo

from .fields import photo_fields_update
from .items import ItemError
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
    done = photo_fields_update(
        user=user,
        items=items,
        values_of=_item_values,
        only=("basename", "rating", "label", "project__folder", "project__tenant__slug"),
        related="project__tenant",
        dry_run=dry_run,
    )
    if settings.PIPELINE_WRITE_XMP and done.changes:
        sidecars_write(photos=[done.photos[pid] for pid in done.changes], changes=done.changes)
    return done.reply


def sidecars_write(*, photos: list[Photo], changes: dict[int, dict[str, Any]]) -> int:
    """Write the changed rating/label (and ``keywords``: the photo's tags, as ``dc:subject``)
    of each photo to its XMP sidecar; the count written.

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
            xmp.sidecar_write(
                path,
                rating=diff.get("rating"),
                label=diff.get("label"),
                keywords=diff.get("keywords"),
            )
        except (fsrules.UnsafePath, xmp.XmpError, OSError) as exc:
            logger.warning("%s: not written to its XMP sidecar (%s).", photo.basename, exc)
            continue
        written += 1
    return written
