"""Thumbnails, previews and EXIF of one photo (SPEC §4, §6): the write path of the
``upload_postprocess`` and ``generate_derivatives`` jobs.

The image work (``photo_derivatives_make``) runs outside any transaction and writes nothing
in the database; the rows of a batch of photos are then written together in one short atomic
block (``photos_derivatives_record``; SQLite takes its write lock at BEGIN, so a long
transaction would stall every other writer). Only the fields this module owns are written, so
keep flags, visibility and tags changed meanwhile by the user are never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import events_record_bulk
from jobs.exceptions import ItemFailed, ItemSkipped, is_item_os_error, os_error_text
from photos.events import item_event

from . import capture, fsrules, imaging, storage, tagging, xmp
from .metadata import PhotoMetadata, camera_name, read_metadata
from .models import DerivativeStatus, Photo
from .pending import pending_changes_events

logger = logging.getLogger(__name__)


def derivative_source(files: storage.BaseFiles) -> str | None:
    """The original to make derivatives from (SPEC §4): the JPG, else another decodable
    image (HEIC included), else the RAW (its embedded preview or a demosaic, see
    ``photos.rawfiles``); ``None`` when there is nothing to try.
    """
    for name in sorted(files.jpg):
        return name
    for name in sorted(files.other):
        if imaging.can_decode(name):
            return name
    for name in sorted(files.raw):
        return name
    return None


def _fresh(path: Path, *, newer_than_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= newer_than_ns
    except FileNotFoundError:
        return False


def derivative_statuses_on_disk(
    *,
    folder: Path,
    thumb: Path,
    preview: Path,
    files: storage.BaseFiles,
    thumbnail_status: str,
    preview_status: str,
    metadata_read: bool,
) -> dict[str, str]:
    """The statuses of a photo's derivatives as its folder shows them: the fields to change.

    For a photo with an original to make them from (``files``, in ``folder``): a derivative
    present and at least as new as the source is ``generated`` (when the row's metadata was
    read; else ``pending``, so a derivative job adopts the files and reads the EXIF without
    decoding); one absent or stale that the row calls ``generated`` or ``missing`` is
    ``pending`` (a job makes it). ``failed`` and ``not_supported`` stand: they are verdicts on
    the original, which is unchanged. Nothing is said of a photo with no source on disk
    (``manifest_cleaning`` and the derivative jobs own that case).
    """
    source = derivative_source(files)
    if source is None:
        return {}
    try:
        source_mtime = (folder / source).stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    present_status = DerivativeStatus.GENERATED if metadata_read else DerivativeStatus.PENDING
    changes: dict[str, str] = {}
    for name, path, status in (
        ("thumbnail_status", thumb, thumbnail_status),
        ("preview_status", preview, preview_status),
    ):
        if _fresh(path, newer_than_ns=source_mtime):
            wanted = status if status == DerivativeStatus.GENERATED else present_status
        elif status in (DerivativeStatus.GENERATED, DerivativeStatus.MISSING):
            wanted = DerivativeStatus.PENDING
        else:
            wanted = status
        if wanted != status:
            changes[name] = wanted
    return changes


def _file_metadata(folder: Path, source_name: str, files: storage.BaseFiles) -> PhotoMetadata:
    """Metadata of the derivative source, its gaps filled from the photo's other originals
    (an exported JPG without lens data next to its RAW)."""
    meta = PhotoMetadata()
    for name in [source_name, *(n for n in sorted(files.all) if n != source_name)]:
        try:
            meta = meta.merged(read_metadata(fsrules.ensure_inside(folder / name, folder)))
        except (FileNotFoundError, fsrules.UnsafePath):
            continue
    return meta


def _exif_fields(info: imaging.ExifInfo, meta: PhotoMetadata) -> dict[str, Any]:
    """Row fields of one read: orientation and size from the decoder (they must agree with
    the pixels), the rest from exiv2, else from what Pillow read."""
    pillow = info.metadata
    camera = meta.camera
    if not camera and (pillow.get("make") or pillow.get("model")):
        camera = camera_name(pillow.get("make") or "", pillow.get("model") or "")
    # The date and its offset come from one read (exiv2's, else Pillow's), never mixed.
    taken_at, offset = (
        (meta.taken_at, meta.taken_at_offset)
        if meta.taken_at
        else (info.taken_at, info.taken_at_offset)
    )
    return {
        "taken_at": taken_at,
        "taken_at_offset": offset,
        "orientation": info.orientation,
        "width": info.width,
        "height": info.height,
        "camera": camera,
        "lens": meta.lens or pillow.get("lens") or "",
        "focal_length": meta.focal_length or pillow.get("focal_length"),
        "aperture": meta.aperture or pillow.get("f_number"),
        "shutter": meta.shutter or pillow.get("exposure_time"),
        "iso": meta.iso or pillow.get("iso"),
        "metadata": {**pillow, **meta.extra},
    }


def _rating_fields(
    photo: Photo, folder: Path, files: storage.BaseFiles, meta: PhotoMetadata
) -> tuple[dict[str, Any], list[str]]:
    """``rating``/``label`` and a reject from the XMP (a sidecar, else embedded), with
    ``metadata.xmp`` (under the key ``xmp``); and the keywords to add as tags.

    The XMP is applied when it says something other than it said at the last read: a shoot
    pre-rated in Photo Mechanic arrives rated, a sidecar edited later in Lightroom is taken
    up, but regenerating derivatives never undoes a rating the user set here since. So with
    Lightroom's reject (``Rating`` -1): it discards the photo (both keep flags off: the next
    commit trashes it) when the XMP newly says so, and never again after the user kept it.
    Keywords (``dc:subject``) not read before are added as tags; a tag the user removed since
    is not added back unless the XMP names it anew.
    """
    sidecar = xmp.photo_rating_label(folder, photo.basename, files.all)
    embedded = xmp.RatingLabel(
        rating=meta.rating,
        label=meta.label,
        rejected=bool(meta.rejected),
        keywords=meta.keywords or (),
    )
    # The sidecar's rating, label and reject win together over the embedded ones; its
    # keywords on their own (a sidecar with keywords only keeps the camera's rating).
    rates = sidecar.rating is not None or sidecar.label is not None or sidecar.rejected
    said = sidecar if rates else embedded
    said = xmp.RatingLabel(
        rating=said.rating,
        label=said.label,
        rejected=said.rejected,
        keywords=sidecar.keywords or embedded.keywords,
    )
    seen: dict[str, Any] = {"rating": said.rating, "label": said.label}
    last = (photo.metadata or {}).get("xmp") or {}
    changes: dict[str, Any] = {}
    for name, value in seen.items():
        if value is not None and last.get(name) != value:
            changes[name] = value
    if said.rejected:
        seen["reject"] = True
        if not last.get("reject"):
            changes.update(keep_jpg=False, keep_raw=False)
    names = tagging.keyword_names(said.keywords)
    if names:
        seen["keywords"] = names
    known = set(last.get("keywords") or ())
    keywords = [name for name in names if name not in known]
    return {**changes, "xmp": {k: v for k, v in seen.items() if v is not None}}, keywords


def _read_fields(
    photo: Photo,
    info: imaging.ExifInfo,
    *,
    folder: Path,
    source_name: str,
    files: storage.BaseFiles,
    tagged: Callable[[list[str]], None],
) -> dict[str, Any]:
    """The fields one read of the photo's files sets; ``tagged`` receives the XMP keywords
    to add as tags."""
    meta = _file_metadata(folder, source_name, files)
    fields = _exif_fields(info, meta)
    rated, keywords = _rating_fields(photo, folder, files, meta)
    tagged(keywords)
    seen = rated.pop("xmp")
    if seen:
        fields["metadata"]["xmp"] = seen
    # Clock corrections made here (``photos.capture``) outlive a new read of the file.
    corrections = (photo.metadata or {}).get(capture.CORRECTIONS_KEY)
    if corrections:
        fields["metadata"][capture.CORRECTIONS_KEY] = corrections
        if fields["taken_at"] is not None:
            shift = capture.clock_corrections_seconds(photo.metadata)
            fields["taken_at"] += timedelta(seconds=shift)
    return {**fields, **rated}


def _statuses(status: str, *, only: str | None = None) -> dict[str, Any]:
    """Both derivative statuses set to ``status``, or the one ``only`` names."""
    if only == imaging.THUMBNAIL:
        return {"thumbnail_status": status}
    if only == imaging.PREVIEW:
        return {"preview_status": status}
    return {"thumbnail_status": status, "preview_status": status}


def _jsonable(value: Any, *, offset: int | None = None) -> Any:
    """An event payload's value; a capture time as the API serializes it."""
    if isinstance(value, datetime):
        return imaging.capture_time_text(value, offset)
    return value


@dataclass
class DerivativesMade:
    """One photo's derivative work, done on disk, not yet recorded: the owned fields it sets
    (``photos_derivatives_record`` writes those that changed) and its outcome."""

    photo_id: int
    basename: str
    row: Photo | None  # the row as re-read before the work; None: gone
    changes: dict[str, Any] = field(default_factory=dict)
    outcome: str | ItemSkipped | ItemFailed = ""
    # The derivative files this work wrote, in the folder of ``row.project``: removed again
    # when the photo turns out to have moved meanwhile (``photos_derivatives_record``).
    written: list[Path] = field(default_factory=list)
    # XMP keywords to add as tags (``photos.tagging``), with the fields.
    keywords: list[str] = field(default_factory=list)

    @property
    def changed(self) -> dict[str, Any]:
        if self.row is None:
            return {}
        return {k: v for k, v in self.changes.items() if getattr(self.row, k) != v}


def photos_current(photo_ids: list[int]) -> dict[int, Photo]:
    """The rows of a batch of photos as they are now (with project and tenant), in one query:
    a photo moved to another project since its job was queued is processed where it is now."""
    return Photo.objects.select_related("project__tenant").in_bulk(list(dict.fromkeys(photo_ids)))


def photos_derivatives_record(
    made: list[DerivativesMade], *, job_id: int | None
) -> dict[int, str | ItemSkipped | ItemFailed]:
    """Write the owned fields that changed and their ``item`` events for a batch of photos.

    A fixed number of statements whatever the batch's size: the rows still there are locked
    in one query, written with one ``bulk_update`` per set of changed fields (only the fields
    this module owns, so keep flags, visibility and tags changed meanwhile stay), and their
    events inserted in one. Atomic on its own, or part of the caller's transaction (the items'
    statuses). Returns each photo's outcome: a photo removed meanwhile is skipped.

    A photo moved to another project while its derivatives were made (``image_move`` runs its
    file work outside any transaction) is checked under the row lock, which the move's own
    row write takes too: its row now names another project than the folder this work read
    and wrote in. Nothing is recorded for it (a ``missing`` seen in the emptied folder, or a
    ``generated`` whose files are not where the photo is, would be wrong), the derivative
    files it wrote in the old folder are removed (derivatives only, never an original; not
    when a photo of that name is in the old project again), and it is skipped: the move
    records its statuses from what is in the destination and its ``generate_derivatives``
    step makes what is missing (``photos.services.move``).
    """
    outcomes = {m.photo_id: m.outcome for m in made}
    changing = [(m, m.changed) for m in made]
    changing = [
        (m, changed)
        for m, changed in changing
        if (changed or m.written or m.keywords) and m.row is not None
    ]
    if not changing:
        return outcomes
    now = timezone.now()
    strays: list[DerivativesMade] = []
    with transaction.atomic():
        where_now = dict(
            Photo.objects.select_for_update()
            .filter(pk__in=[m.photo_id for m, _ in changing])
            .values_list("pk", "project_id")
        )
        moved = [
            m
            for m, _ in changing
            if m.photo_id in where_now and m.row and where_now[m.photo_id] != m.row.project_id
        ]
        if moved:
            taken = set(
                Photo.objects.filter(
                    project_id__in={m.row.project_id for m in moved if m.row},
                    basename__in={m.basename for m in moved},
                ).values_list("project_id", "basename")
            )
            strays = [m for m in moved if m.row and (m.row.project_id, m.basename) not in taken]
        groups: dict[tuple[str, ...], list[Photo]] = {}
        events = []
        tags_now = tagging.keyword_tags_add(
            {
                m.photo_id: (m.row.project_id, m.keywords)
                for m, _ in changing
                if m.keywords
                and m.row is not None
                and where_now.get(m.photo_id) == m.row.project_id
            }
        )
        for m, changed in changing:
            row = m.row
            assert row is not None
            if m.photo_id not in where_now:
                outcomes[m.photo_id] = ItemSkipped(
                    f"{m.basename}: the photo was removed meanwhile."
                )
                continue
            if where_now[m.photo_id] != row.project_id:
                outcomes[m.photo_id] = ItemSkipped(
                    f"{m.basename}: moved to another project meanwhile; its derivatives are "
                    "made there."
                )
                continue
            tags = tags_now.get(m.photo_id)
            if not changed and tags is None:
                continue
            for name, value in changed.items():
                setattr(row, name, value)
            row.updated_at = now
            groups.setdefault(tuple(sorted(changed)), []).append(row)
            events.append(
                item_event(
                    tenant_id=row.project.tenant_id,
                    project_id=row.project_id,
                    photo_id=row.pk,
                    job_id=job_id,
                    fields={
                        "basename": row.basename,
                        "changes": {
                            k: _jsonable(v, offset=row.taken_at_offset) for k, v in changed.items()
                        },
                        "source": "derivatives",
                        **({"tags": tags} if tags is not None else {}),
                    },
                )
            )
        for fields, rows in groups.items():
            Photo.objects.bulk_update(rows, [*fields, "updated_at"])
        # An XMP reject read here discards: the commit tray's counts change.
        discarded = {
            row.project_id: row.project.tenant_id
            for fields, rows in groups.items()
            if "keep_jpg" in fields or "keep_raw" in fields
            for row in rows
        }
        if discarded:
            events += pending_changes_events(projects=discarded, job_id=job_id)
        events_record_bulk(events)
        # Right after the check that no photo of the name is in the old project again, while
        # the moved row is still locked (its move cannot be undone meanwhile).
        for m in strays:
            _remove_quietly(*m.written)
    return outcomes


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def photo_derivatives_make(
    *,
    photo: Photo,
    current: Photo | None,
    force: bool = False,
    index: storage.FolderIndex | None = None,
    only: str | None = None,
) -> DerivativesMade:
    """Make the photo's thumbnail and preview and read its EXIF; write nothing in the database.

    ``current`` is the row re-read for this batch (``photos_current``; None: the photo is
    gone). Returns the owned fields to record and the outcome (``photos_derivatives_record``
    writes them, for a batch of photos at once).

    ``only`` splits the work in two passes (thumbnails first, SPEC §6):
    ``imaging.THUMBNAIL`` makes the thumbnail (shrink-on-load, or the RAW's embedded preview)
    and reads the metadata, leaving ``preview_status`` as it is; its ``item`` event announces
    the thumbnail. ``imaging.PREVIEW`` then makes the preview alone, without reading the
    metadata again; a photo whose thumbnail pass ended ``failed``, ``missing`` or
    ``not_supported`` is skipped (that outcome stands), one whose thumbnail was never made
    (``pending``) gets both.

    Metadata comes from exiv2 (``photos.metadata``) over every original of the photo, the
    source first; rating and label from its XMP (``_rating_fields``).

    Per-photo outcomes (the ``outcome``, for the job's items): ``ItemSkipped`` when the
    derivatives are up to date (unless ``force``) or no original decodes (a RAW LibRaw does
    not read: statuses ``not_supported``, the reason in ``metadata.not_supported_reason``);
    ``ItemFailed`` when no original is on disk (statuses ``missing``), the original is corrupt
    (statuses ``failed``, stale derivatives removed) or a write fails for this photo alone
    (``is_item_os_error``, e.g. a name the file system refuses: statuses ``failed``). Errors of
    the whole disk (full, read-only) propagate, so the job is retried.

    ``index``: the job's ``storage.FolderIndex`` (the folder is listed once per job, not per
    photo); ``None`` scans the folder for this photo.
    """
    made = DerivativesMade(photo_id=photo.pk, basename=photo.basename, row=current)
    if current is None:
        made.outcome = ItemSkipped(f"{photo.basename}: the photo no longer exists.")
        return made
    try:
        made.outcome = _make(
            current,
            force=force,
            index=index,
            only=only,
            record=made.changes.update,
            wrote=made.written.extend,
            tagged=made.keywords.extend,
        )
    except (ItemSkipped, ItemFailed) as exc:
        made.outcome = exc
    return made


def _make(  # noqa: C901 (one photo's derivatives: source choice, each size, XMP keywords)
    current: Photo,
    *,
    force: bool,
    index: storage.FolderIndex | None,
    only: str | None,
    record: Callable[[dict[str, Any]], None],
    wrote: Callable[[list[Path]], None],
    tagged: Callable[[list[str]], None],
) -> str:
    """The work of ``photo_derivatives_make``: returns the message or raises the outcome;
    ``record`` collects the fields to write, ``wrote`` the derivative files written,
    ``tagged`` the XMP keywords to add as tags."""
    if only == imaging.PREVIEW and current.thumbnail_status != DerivativeStatus.GENERATED:
        if current.thumbnail_status != DerivativeStatus.PENDING:
            raise ItemSkipped(
                f"{current.basename}: no preview (thumbnail {current.thumbnail_status})."
            )
        only = None  # The thumbnail pass never ran for it: make both.
    project = current.project
    try:
        folder = storage.project_dir(project)
        thumb = storage.thumbnail_path(project, current.basename)
        preview, preview_jpeg = storage.preview_paths(project, current.basename)
    except fsrules.UnsafePath as exc:
        raise ItemFailed(f"{current.basename}: {exc}")
    # The preview as it is on disk: a RAW's JPEG kept as it is, else the WebP.
    preview_now = preview_jpeg if preview_jpeg.is_file() else preview
    files = storage.originals(folder, current.basename, index=index)

    def missing() -> ItemFailed:
        record(_statuses(DerivativeStatus.MISSING))
        return ItemFailed(f"{current.basename}: no original file on disk.")

    if not files.all:
        raise missing()

    def not_supported(reason: str) -> ItemSkipped:
        # Keep the reason on the row: the item message is gone once jobs are pruned.
        metadata = {**(current.metadata or {}), "not_supported_reason": reason}
        record({**_statuses(DerivativeStatus.NOT_SUPPORTED), "metadata": metadata})
        return ItemSkipped(reason)

    source_name = derivative_source(files)
    if source_name is None:
        raise not_supported(
            f"{current.basename}: no thumbnail or preview for these files (not supported)."
        )
    try:
        source = storage.file_path(project, source_name)
    except fsrules.UnsafePath as exc:  # a symlink that leaves the project folder
        raise ItemFailed(f"{current.basename}: {exc}")
    try:
        source_mtime = source.stat().st_mtime_ns
    except FileNotFoundError:
        raise missing()

    wanted = {imaging.THUMBNAIL: (thumb,), imaging.PREVIEW: (preview_now,)}.get(
        only or "", (thumb, preview_now)
    )
    generated = _statuses(DerivativeStatus.GENERATED, only=only)
    if not force and all(_fresh(p, newer_than_ns=source_mtime) for p in wanted):
        if all(getattr(current, name) == value for name, value in generated.items()):
            raise ItemSkipped(f"{current.basename}: up to date.")
        if only == imaging.PREVIEW:
            record(generated)
            return f"{source_name}: preview already up to date."
        # Derivatives newer than the original but a row that does not know them (a rebuilt
        # database): adopt them, reading only the EXIF.
        try:
            info = imaging.read_exif(source)
        except imaging.ImagingError:
            info = None
        if info is not None:
            fields = _read_fields(
                current,
                info,
                folder=folder,
                source_name=source_name,
                files=files,
                tagged=tagged,
            )
            record({**fields, **generated})
            return f"{source_name}: derivatives already up to date; metadata read."

    try:
        fsrules.system_dir(folder, fsrules.THUMB_DIR, create=True)
        fsrules.system_dir(folder, fsrules.PREVIEW_DIR, create=True)
    except fsrules.UnsafePath as exc:
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
            only=only,
            preview_jpeg_path=preview_jpeg,
        )
    except FileNotFoundError:
        raise missing()
    except imaging.FormatNotSupported as exc:
        raise not_supported(str(exc))
    except imaging.ImageUnreadable as exc:
        # Derivatives of an earlier version of the file would show something that is gone. A
        # preview pass keeps the thumbnail its own pass made (a smaller decode can succeed).
        if only == imaging.PREVIEW:
            _remove_quietly(preview, preview_jpeg)
        else:
            _remove_quietly(thumb, preview, preview_jpeg)
        keep = only if only == imaging.PREVIEW else None
        record(_statuses(DerivativeStatus.FAILED, only=keep))
        raise ItemFailed(str(exc))
    except OSError as exc:
        if not is_item_os_error(exc):
            raise  # A full disk: the job is retried.
        # This photo's own file problem (a name the file system refuses): it fails alone. A
        # failed thumbnail pass leaves no preview to come (the preview pass skips the photo),
        # so both say failed, as for an unreadable original.
        keep = only if only == imaging.PREVIEW else None
        record(_statuses(DerivativeStatus.FAILED, only=keep))
        text = os_error_text(exc, root=settings.PHOTOS_ROOT)
        raise ItemFailed(f"{current.basename}: {text}") from exc

    made = []
    if result.thumbnail_size is not None:
        made.append("thumbnail {}×{}".format(*result.thumbnail_size))
    if result.preview_size is not None:
        made.append("preview {}×{}".format(*result.preview_size))
    written_preview = result.preview_file if result.preview_size is not None else None
    if written_preview is not None:
        # One preview per photo: the other kind, left from an earlier source, goes.
        _remove_quietly(*(p for p in (preview, preview_jpeg) if p != written_preview))
    wrote(
        ([thumb] if result.thumbnail_size is not None else [])
        + ([written_preview] if written_preview is not None else [])
    )

    if only == imaging.PREVIEW:
        record(generated)
    else:
        fields = _read_fields(
            current,
            result.exif,
            folder=folder,
            source_name=source_name,
            files=files,
            tagged=tagged,
        )
        # The hints were computed on the thumbnail just made: written with its status.
        hints = result.hints.fields() if result.hints is not None else {}
        record({**fields, **hints, **generated})
    return f"{source_name}: {', '.join(made)}."
