"""Thumbnails, previews and EXIF of one photo (SPEC §4, §6): the write path of the
``upload_postprocess`` and ``generate_derivatives`` jobs.

The image work runs outside any transaction; the row is then updated in one short atomic
block (SQLite takes its write lock at BEGIN, so a long transaction would stall every other
writer). Only the fields this module owns are written (``Photo.objects.filter().update()``),
so keep flags, visibility and tags changed meanwhile by the user are never overwritten.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, event_record
from jobs.exceptions import ItemFailed, ItemSkipped, is_item_os_error, os_error_text

from . import imaging, storage
from .models import DerivativeStatus, Photo

logger = logging.getLogger(__name__)

# The row fields this module writes; nothing else of a photo is touched.
OWNED_FIELDS = (
    "thumbnail_status",
    "preview_status",
    "taken_at",
    "orientation",
    "width",
    "height",
    "metadata",
)


def derivative_source(files: storage.BaseFiles) -> str | None:
    """The original to make derivatives from: the JPG, else another decodable image.

    RAW files are never used (see ``photos.imaging``); ``None`` when nothing is decodable.
    """
    for name in sorted(files.jpg):
        return name
    for name in sorted(files.other):
        if imaging.can_decode(name):
            return name
    return None


def _fresh(path: Path, *, newer_than_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= newer_than_ns
    except FileNotFoundError:
        return False


def _exif_fields(info: imaging.ExifInfo) -> dict[str, Any]:
    return {
        "taken_at": info.taken_at,
        "orientation": info.orientation,
        "width": info.width,
        "height": info.height,
        "metadata": info.metadata,
    }


def _statuses(status: str) -> dict[str, Any]:
    return {"thumbnail_status": status, "preview_status": status}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _photo_record(*, photo: Photo, changes: dict[str, Any], job_id: int | None) -> list[str]:
    """Write the changed owned fields and their ``item`` event in one short transaction."""
    changed = {k: v for k, v in changes.items() if getattr(photo, k) != v}
    if not changed:
        return []
    with transaction.atomic():
        updated = Photo.objects.filter(pk=photo.pk).update(**changed, updated_at=timezone.now())
        if not updated:
            raise ItemSkipped(f"{photo.basename}: the photo was removed meanwhile.")
        event_record(
            tenant_id=photo.project.tenant_id,
            type=EventType.ITEM,
            project_id=photo.project_id,
            photo_id=photo.pk,
            job_id=job_id,
            payload={
                "photo_id": photo.pk,
                "project_id": photo.project_id,
                "basename": photo.basename,
                "changes": {k: _jsonable(v) for k, v in changed.items()},
                "source": "derivatives",
            },
        )
    for name, value in changed.items():
        setattr(photo, name, value)
    return sorted(changed)


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def photo_derivatives_generate(
    *,
    photo: Photo,
    force: bool = False,
    job_id: int | None = None,
    index: storage.FolderIndex | None = None,
) -> str:
    """Make the photo's thumbnail and preview, read its EXIF, record statuses; a status message.

    Per-photo outcomes are raised for ``JobContext.each_item``: ``ItemSkipped`` when the
    derivatives are up to date (unless ``force``) or the photo has no decodable original
    (RAW only: statuses ``not_supported``); ``ItemFailed`` when no original is on disk
    (statuses ``missing``), the original is corrupt (statuses ``failed``, stale derivatives
    removed) or a write fails for this photo alone (``is_item_os_error``, e.g. a name the file
    system refuses: statuses ``failed``). Errors of the whole disk (full, read-only) propagate,
    so the job is retried.

    The row is re-read first: a photo moved to another project since the job was queued is
    processed where it is now. ``index``: the job's ``storage.FolderIndex`` (the folder is
    listed once per job, not per photo); ``None`` scans the folder for this photo.
    """
    current = Photo.objects.select_related("project__tenant").filter(pk=photo.pk).first()
    if current is None:
        raise ItemSkipped(f"{photo.basename}: the photo no longer exists.")
    project = current.project
    try:
        folder = storage.project_dir(project)
        thumb = storage.thumbnail_path(project, current.basename)
        preview = storage.preview_path(project, current.basename)
    except storage.UnsafePath as exc:
        raise ItemFailed(f"{current.basename}: {exc}")
    files = storage.originals(folder, current.basename, index=index)

    def record(changes: dict[str, Any]) -> list[str]:
        changed = _photo_record(photo=current, changes=changes, job_id=job_id)
        for name in changed:
            setattr(photo, name, getattr(current, name))
        return changed

    def missing() -> ItemFailed:
        record(_statuses(DerivativeStatus.MISSING))
        return ItemFailed(f"{current.basename}: no original file on disk.")

    if not files.all:
        raise missing()
    source_name = derivative_source(files)
    if source_name is None:
        record(_statuses(DerivativeStatus.NOT_SUPPORTED))
        kinds = "RAW" if files.raw and not files.other else "these"
        raise ItemSkipped(
            f"{current.basename}: no thumbnail or preview for {kinds} files (not supported)."
        )
    try:
        source = storage.file_path(project, source_name)
    except storage.UnsafePath as exc:  # a symlink that leaves the project folder
        raise ItemFailed(f"{current.basename}: {exc}")
    try:
        source_mtime = source.stat().st_mtime_ns
    except FileNotFoundError:
        raise missing()

    if not force and all(_fresh(p, newer_than_ns=source_mtime) for p in (thumb, preview)):
        if (current.thumbnail_status, current.preview_status) == (
            DerivativeStatus.GENERATED,
            DerivativeStatus.GENERATED,
        ):
            raise ItemSkipped(f"{current.basename}: up to date.")
        # Derivatives newer than the original but a row that does not know them (a rebuilt
        # database): adopt them, reading only the EXIF.
        try:
            info = imaging.read_exif(source)
        except imaging.ImagingError:
            info = None
        if info is not None:
            record({**_exif_fields(info), **_statuses(DerivativeStatus.GENERATED)})
            return f"{source_name}: derivatives already up to date; metadata read."

    try:
        storage.system_dir(folder, storage.THUMB_DIR, create=True)
        storage.system_dir(folder, storage.PREVIEW_DIR, create=True)
    except storage.UnsafePath as exc:
        raise ItemFailed(f"{current.basename}: {exc}")
    try:
        result = imaging.make_derivatives(
            source,
            thumb_path=thumb,
            thumb_size=settings.PIPELINE_THUMB_SIZE,
            thumb_quality=settings.PIPELINE_THUMB_QUALITY,
            preview_path=preview,
            preview_size=settings.PIPELINE_PREVIEW_SIZE,
            preview_quality=settings.PIPELINE_PREVIEW_QUALITY,
            engine=settings.PIPELINE_IMAGE_ENGINE,
        )
    except FileNotFoundError:
        raise missing()
    except imaging.FormatNotSupported as exc:
        record(_statuses(DerivativeStatus.NOT_SUPPORTED))
        raise ItemSkipped(str(exc))
    except imaging.ImageUnreadable as exc:
        # Derivatives of an earlier version of the file would show something that is gone.
        _remove_quietly(thumb, preview)
        record(_statuses(DerivativeStatus.FAILED))
        raise ItemFailed(str(exc))
    except OSError as exc:
        if not is_item_os_error(exc):
            raise  # A full disk: the job is retried.
        # This photo's own file problem (a name the file system refuses): it fails alone.
        record(_statuses(DerivativeStatus.FAILED))
        text = os_error_text(exc, root=settings.PHOTOS_ROOT)
        raise ItemFailed(f"{current.basename}: {text}") from exc

    record({**_exif_fields(result.exif), **_statuses(DerivativeStatus.GENERATED)})
    (tw, th), (pw, ph) = result.thumbnail_size, result.preview_size
    return f"{source_name}: thumbnail {tw}×{th}, preview {pw}×{ph}."
