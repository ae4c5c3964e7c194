"""Derivative statuses and stray derivatives, from the disk (part of ``folder_check``).

A row's ``thumbnail_status`` / ``preview_status`` can disagree with its folder: a derivative
job that raced a move recorded ``missing`` for a photo whose files had just left, a
derivative was deleted by hand, a database was restored. And a derivative can outlive its
photo in a folder (written by a job that read the row just before the photo moved away).
``derivatives_repair`` sets the statuses from what the folder holds
(``photos.derivatives.derivative_statuses_on_disk``) and removes derivatives whose base name
has no photo in the project. Only ``.thumb/*.webp`` and ``.preview/*.webp`` files are ever
removed: they are generated, never a photographer's; originals and sidecars are not touched.

Cost: ``.thumb`` and ``.preview`` are listed once each (``os.scandir``); a row is looked at
further (its originals, two ``stat`` calls) only when its statuses and those listings
disagree: ``generated`` with no file, a file with a status other than ``generated``, or
``missing``.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from jobs.events import events_record_bulk
from jobs.models import Event
from photos import fsrules, storage
from photos.derivatives import derivative_statuses_on_disk
from photos.events import item_event
from photos.models import DerivativeStatus, Photo
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from .scan import FolderScan, photo_chunks

logger = logging.getLogger(__name__)

_SUFFIXES = tuple(f".{ext}" for ext in storage.DERIVATIVE_EXTENSIONS)


def _derivative_base(name: str) -> str | None:
    """The base name of a derivative file's name; ``None`` when it is not one of ours."""
    if name.startswith("."):
        return None  # A writer's temporary file.
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _derivative_bases(folder: Path, kind: str) -> set[str] | None:
    """The base names (in NFC) of the derivatives in ``folder/kind``; ``None`` when the
    system folder is unsafe (a symlink or a file: never read, never written here)."""
    try:
        path = fsrules.system_dir(folder, kind)
    except fsrules.UnsafePath:
        return None
    bases: set[str] = set()
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                base = _derivative_base(entry.name)
                if base is not None and entry.is_file(follow_symlinks=False):
                    bases.add(fsrules.nfc(base))
    except FileNotFoundError:
        pass
    return bases


def _suspect(status: str | None, present: bool) -> bool:
    if status == DerivativeStatus.GENERATED:
        return not present
    return present or status == DerivativeStatus.MISSING


def derivatives_repair(
    *,
    project: Project,
    folder: Path,
    scan: FolderScan,
    report: Report,
    dry_run: bool,
    job_id: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> list[int]:
    """Set derivative statuses from the disk; remove derivatives of no photo of the project.

    Returns the ids of the photos whose statuses went ``pending`` (the caller starts
    ``upload_postprocess`` for them). A row changed after the step started is left for the
    next run (a derivative job may be recording it). A derivative is a stray when its base
    name has neither an original in the folder (a new one is ingested first) nor a row in
    the project (a trashed row included), checked in the database after the listing.
    """
    step = "folder_check"
    label = where(project)
    thumbs = _derivative_bases(folder, fsrules.THUMB_DIR)
    previews = _derivative_bases(folder, fsrules.PREVIEW_DIR)
    if thumbs is None or previews is None:
        return []
    started = timezone.now()
    candidates = {b for b in thumbs | previews if b not in scan}
    pending: list[int] = []
    index = storage.FolderIndex()
    fields = ("basename", "thumbnail_status", "preview_status", "width", "updated_at")
    for rows in photo_chunks(project, *fields):
        checkpoint()
        updates: list[Photo] = []
        events: list[Event] = []
        chunk_pending: list[int] = []
        for pk, base, thumb_status, preview_status, width, updated_at in rows:
            key = fsrules.nfc(base)
            candidates.discard(key)
            if updated_at >= started or key not in scan:
                continue  # Changing now, or no original: not this step's to judge.
            if not (
                _suspect(thumb_status, key in thumbs) or _suspect(preview_status, key in previews)
            ):
                continue
            try:
                thumb = storage.thumbnail_path(project, base)
                preview = storage.preview_file(project, base)
            except fsrules.UnsafePath:
                continue
            changes = derivative_statuses_on_disk(
                folder=folder,
                thumb=thumb,
                preview=preview,
                files=storage.originals(folder, base, index=index),
                thumbnail_status=thumb_status,
                preview_status=preview_status,
                metadata_read=width is not None,
            )
            if not changes:
                continue
            report.add(
                Change(
                    step,
                    "repair_derivative_status",
                    label,
                    base,
                    ", ".join(f"{k}={v}" for k, v in changes.items()),
                )
            )
            if dry_run:
                continue
            statuses = {"thumbnail_status": thumb_status, "preview_status": preview_status}
            statuses.update(changes)
            updates.append(Photo(pk=pk, updated_at=timezone.now(), **statuses))
            if DerivativeStatus.PENDING in changes.values():
                chunk_pending.append(pk)
            events.append(
                item_event(
                    tenant_id=project.tenant_id,
                    project_id=project.pk,
                    photo_id=pk,
                    job_id=job_id,
                    fields={"basename": base, "changes": changes, "source": step},
                )
            )
        if updates:
            with transaction.atomic():
                # Only rows not changed meanwhile: a derivative job's own record wins.
                unchanged = set(
                    Photo.objects.select_for_update()
                    .filter(pk__in=[p.pk for p in updates], updated_at__lt=started)
                    .values_list("pk", flat=True)
                )
                Photo.objects.bulk_update(
                    [p for p in updates if p.pk in unchanged],
                    ["thumbnail_status", "preview_status", "updated_at"],
                )
                events_record_bulk(e for e in events if e.photo_id in unchanged)
            pending += [pk for pk in chunk_pending if pk in unchanged]
    _strays_remove(
        project=project, folder=folder, candidates=candidates, report=report, dry_run=dry_run
    )
    return pending


def _strays_remove(
    *, project: Project, folder: Path, candidates: set[str], report: Report, dry_run: bool
) -> None:
    """Remove the derivatives of ``candidates``: base names with no row seen and no original
    in the scan, both checked again now (a photo uploaded or moved in meanwhile keeps its)."""
    if not candidates:
        return
    spellings = candidates | {unicodedata.normalize("NFD", b) for b in candidates}
    # A trashed photo keeps its derivatives until the purge (the Trash view shows them), so
    # its row claims them too: ``all_objects``, not the live-only default manager.
    claimed = {
        fsrules.nfc(b)
        for b in Photo.all_objects.filter(
            project_id=project.pk, basename__in=spellings
        ).values_list("basename", flat=True)
    }
    claimed |= {b for b, files in storage.folder_files(folder, candidates).items() if files.all}
    strays = candidates - claimed
    label = where(project)
    for kind in (fsrules.THUMB_DIR, fsrules.PREVIEW_DIR):
        try:
            path = fsrules.system_dir(folder, kind)
            with os.scandir(path) as it:
                entries = [e for e in it if _derivative_base(e.name) is not None]
        except (FileNotFoundError, fsrules.UnsafePath):
            continue
        for entry in entries:
            if fsrules.nfc(_derivative_base(entry.name) or "") not in strays:
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            report.add(
                Change("folder_check", "remove_stray_derivative", label, f"{kind}/{entry.name}")
            )
            if not dry_run:
                try:
                    (path / entry.name).unlink(missing_ok=True)
                except OSError as exc:
                    logger.warning("Could not remove %s/%s in %s: %s", kind, entry.name, label, exc)
