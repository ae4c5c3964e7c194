"""Undo a commit: the trash of a project and restoring photos from it (SPEC §3, §4, §9).

A commit moves discarded files into ``.trash/`` and records each (``TrashedFile``); a photo
whose last original went keeps its row, trashed (``trashed_at``). ``photos_restore`` checks a
request and starts one ``photo_restore`` task; ``photo_restore_files`` is the per-photo work
of its step: the photo's recorded files (originals and sidecars) go back under their own
names with ``fsrules.move_no_replace``, and the same row comes back with its id, tags, rating
and label. A name taken meanwhile (a file on disk, or a new live photo of that base name) is
that photo's error, and nothing of it moves. ``project_trash`` is what the trash lists.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import NoValidItems
from jobs.events import events_record_bulk
from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.tasks import StartedTask, start_task
from photos.events import item_event
from photos.fsrules import (
    TRASH_DIR,
    DestinationExists,
    UnsafePath,
    check_name,
    move_no_replace,
    system_dir,
    trashed_at,
)
from photos.models import DerivativeStatus, Photo, TrashedFile
from photos.pending import pending_changes_events
from photos.selectors import acting_tenant_id
from photos.storage import classify, originals, preview_file, project_dir, thumbnail_path
from projects.models import Project
from projects.selectors import project_for_user

from .items import ItemError, item_error, item_photo_id, items_check
from .results import DryRunReport

logger = logging.getLogger(__name__)

NOTHING_IN_TRASH = "The photo has no file in the trash."


def name_taken_message(basename: str) -> str:
    return f"A photo named '{basename}' already exists in the project; nothing was restored."


@dataclass(frozen=True)
class RestoreStarted:
    """A ``photo_restore`` task started; ``errors`` are the items it left out."""

    task: StartedTask
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task["task_id"]


# --- what the trash holds -----------------------------------------------------------------


@dataclass(frozen=True)
class TrashEntry:
    """One file of a photo in ``.trash/``: its own name, its trash name, when it is purged."""

    name: str
    trash_name: str
    trashed_at: datetime
    purge_due: datetime
    present: bool


@dataclass(frozen=True)
class TrashedPhoto:
    """A photo of the trash list: trashed whole (``trashed_at``) or with some files there."""

    photo: Photo
    trashed_at: datetime | None
    files: list[TrashEntry]
    # When the purge deletes a trashed row that has no file left in the trash.
    row_due: datetime | None = None

    @property
    def purge_due(self) -> datetime | None:
        """When the purge deletes the first of its files (then the row, if trashed whole)."""
        dues = [f.purge_due for f in self.files if f.present]
        return min(dues) if dues else self.row_due


def project_trash_queryset(*, user: Any, project: Project | int) -> QuerySet[Photo]:
    """The project's trashed photos and photos with files in ``.trash/``, newest first.

    ``NotFoundError`` for another tenant's project (like one that does not exist).
    """
    project = project_for_user(user=user, project=project)
    return (
        Photo.all_objects.filter(project=project)
        .restorable()
        .select_related("project__tenant")
        .prefetch_related("trashed_files", "tags")
        .order_by("-trashed_at", "basename", "id")
    )


def trash_entries(photos: list[Photo]) -> list[TrashedPhoto]:
    """Each photo's files in ``.trash/`` with their purge due time (the TTL counts from the
    moment the file was trashed: its inode change time, as the purge reads it)."""
    ttl = settings.PIPELINE_TRASH_TTL_SECONDS
    out = []
    folders: dict[int, Path | None] = {}
    for photo in photos:
        if photo.project_id not in folders:
            try:
                folders[photo.project_id] = system_dir(project_dir(photo.project), TRASH_DIR)
            except UnsafePath:
                folders[photo.project_id] = None
        trash = folders[photo.project_id]
        files = []
        for record in sorted(photo.trashed_files.all(), key=lambda r: (r.name, r.pk)):
            when = record.trashed_at
            present = False
            if trash is not None:
                try:
                    stat = (trash / check_name(record.trash_name)).lstat()
                    when = datetime.fromtimestamp(
                        trashed_at(stat), tz=timezone.get_current_timezone()
                    )
                    present = True
                except (OSError, UnsafePath):
                    pass
            files.append(
                TrashEntry(
                    name=record.name,
                    trash_name=record.trash_name,
                    trashed_at=record.trashed_at,
                    purge_due=when + timedelta(seconds=ttl),
                    present=present,
                )
            )
        row_due = photo.trashed_at + timedelta(seconds=ttl) if photo.trashed_at else None
        out.append(
            TrashedPhoto(photo=photo, trashed_at=photo.trashed_at, files=files, row_due=row_due)
        )
    return out


# --- starting a restore -------------------------------------------------------------------


def photos_restore(
    *, user: Any, items: list[dict], dry_run: bool = False
) -> RestoreStarted | DryRunReport:
    """Start one ``photo_restore`` task over the valid items (``{"photo_id"}``).

    Valid: a photo of the user's tenant, in an active project, trashed or with files in
    ``.trash/``. Per-item errors: unknown or foreign photo ("Photo not found."), nothing in the
    trash, a trashed photo whose base name a live photo of its project has taken meanwhile.
    No valid item is ``NoValidItems``; ``dry_run`` answers ``would_restore`` or ``error`` per
    item and starts nothing. A fixed number of queries whatever the item count. The role check
    (``Action.RESTORE``) is the caller's, as for every use case.
    """
    items = items_check(items)
    entries: list[tuple[Any, int | None, str]] = []
    for item in items:
        try:
            entries.append((item, item_photo_id(item), ""))
        except ItemError as exc:
            entries.append((item, None, str(exc)))
    ids = {pid for _, pid, _ in entries if pid is not None}
    candidates = list(
        Photo.all_objects.visible_to(user)
        .filter(pk__in=list(ids))
        .select_related("project__tenant")
    )
    tenant_id = acting_tenant_id(user, [p.project.tenant_id for p in candidates])
    photos = {p.pk: p for p in candidates if p.project.tenant_id == tenant_id}
    with_files = set(
        TrashedFile.objects.filter(photo_id__in=list(photos)).values_list("photo_id", flat=True)
    )
    trashed = [p for p in photos.values() if p.trashed_at is not None]
    taken = set(
        Photo.objects.filter(
            project_id__in={p.project_id for p in trashed},
            basename__in={p.basename for p in trashed},
        ).values_list("project_id", "basename")
    )
    errors: list[dict[str, Any]] = []
    per_item: list[dict[str, Any]] = []
    valid: dict[int, Photo] = {}
    for item, photo_id, error in entries:
        photo = photos.get(photo_id) if photo_id is not None else None
        if error:
            pass
        elif photo is None:
            error = "Photo not found."
        elif photo.pk in valid:
            per_item.append({"photo_id": photo.pk, "would_restore": True})
            continue
        elif photo.pk not in with_files and photo.trashed_at is None:
            error = NOTHING_IN_TRASH
        elif photo.trashed_at is not None and (photo.project_id, photo.basename) in taken:
            error = name_taken_message(photo.basename)
        if error or photo is None:
            errors.append(item_error(item, error))
            per_item.append(item_error(item, error))
            continue
        valid[photo.pk] = photo
        per_item.append({"photo_id": photo.pk, "would_restore": True})
    if dry_run:
        return DryRunReport(per_item=per_item, errors=errors)
    if not valid:
        raise NoValidItems("No photos can be restored.", errors)
    first = next(iter(valid.values()))
    projects = {p.project_id for p in valid.values()}
    started = start_task(
        "photo_restore",
        first.project.tenant,
        # One project: the task shows in its job list (and deleting it stops the restore).
        project=first.project if len(projects) == 1 else None,
        scope="photo_set",
        items=[{"photo_id": p.pk, "basename": p.basename} for p in valid.values()],
        source="user",
    )
    return RestoreStarted(task=started, errors=errors)


# --- the per-photo work of the photo_restore step -----------------------------------------


def _put_back(moved: list[tuple[Path, Path]]) -> list[str]:
    """Return restored files to the trash, newest first; what could not go back."""
    stuck = []
    for src, dst in reversed(moved):
        try:
            move_no_replace(dst, src)
        except OSError:  # DestinationExists included: never overwrite on the way back.
            logger.exception("Could not move %s back to %s", dst, src)
            stuck.append(dst.name)
    return stuck


def _restore_plan(
    photo: Photo, records: list[TrashedFile], folder: Path, trash: Path, journal: set[str]
) -> list[tuple[TrashedFile, Path, Path, bool]]:
    """``(record, in trash, back in folder, already back)`` for each file still to account
    for; ``ItemFailed`` when a name is taken (nothing has moved yet).

    ``journal``: the names an interrupted run of this item was about to move back, so a file
    found in the folder under one of them is this photo's own, not a name taken.
    """
    plan = []
    for record in records:
        src = trash / check_name(record.trash_name)
        dst = folder / check_name(record.name)
        in_trash, in_folder = os.path.lexists(src), os.path.lexists(dst)
        if in_trash and in_folder and record.name in journal and _same_file(src, dst):
            # Killed between the hard link and the unlink of ``move_no_replace``: finish it.
            src.unlink()
            in_trash = False
        if in_folder and not (record.name in journal and not in_trash):
            raise ItemFailed(
                f"'{record.name}' already exists in the project folder; nothing of "
                f"'{photo.basename}' was restored."
            )
        if not in_trash and not in_folder:
            continue  # Purged or taken out of the trash by hand: nothing to bring back.
        plan.append((record, src, dst, not in_trash))
    return plan


def _same_file(a: Path, b: Path) -> bool:
    try:
        first, second = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _restore_photo_get(tenant_id: int, photo_id: int | None) -> Photo:
    """The tenant's photo row, trashed or not; ``ItemSkipped`` when it no longer exists."""
    if photo_id is None:
        raise ItemSkipped("The photo no longer exists.")
    photo = (
        Photo.all_objects.select_related("project__tenant")
        .filter(pk=photo_id, project__tenant_id=tenant_id)
        .first()
    )
    if photo is None:
        raise ItemSkipped("The photo no longer exists.")
    return photo


def photo_restore_files(
    *,
    tenant_id: int,
    photo_id: int | None,
    journal: list[str] | None = None,
    on_plan: Callable[[list[str]], None] | None = None,
    job_id: int | None = None,
) -> str:
    """Bring one photo's files back from ``.trash/`` and the row back to life.

    Idempotent and kill-safe: ``on_plan`` durably records the names about to move back before
    any move, and a rerun given them as ``journal`` counts a file already back as its own. A
    photo already restored (no record left, not trashed) is done. Every file moves with
    ``move_no_replace``; a name taken on disk or by a live row fails the photo with every file
    it moved put back in the trash. The row keeps its id, tags, rating and label; its
    availability is read from disk and the keep flag of each restored class is set (a file
    brought back is kept). Derivatives missing on disk, or made from another source than a
    restored JPG, are marked pending for the task's ``generate_derivatives`` step.
    """
    photo = _restore_photo_get(tenant_id, photo_id)
    project = photo.project
    if not project.is_active:
        raise ItemSkipped("The photo's project is archived.")
    records = list(TrashedFile.objects.filter(photo=photo).order_by("id"))
    if not records:
        if photo.trashed_at is None:
            return "Nothing in the trash: already restored."
        raise ItemFailed("Its files are no longer in the trash (purged).")
    if (
        photo.trashed_at is not None
        and Photo.objects.filter(project=project, basename=photo.basename).exists()
    ):
        raise ItemFailed(name_taken_message(photo.basename))
    try:
        folder = project_dir(project)
        if not folder.is_dir():
            raise ItemFailed("The project's folder is missing.")
        trash = system_dir(folder, TRASH_DIR)
        plan = _restore_plan(photo, records, folder, trash, set(journal or []))
        thumb, preview = (
            thumbnail_path(project, photo.basename),
            preview_file(project, photo.basename),
        )
    except UnsafePath as exc:
        raise ItemFailed(str(exc)) from exc
    if not plan:
        raise ItemFailed("Its files are no longer in the trash (purged).")
    if on_plan is not None:
        on_plan(sorted(record.name for record, *_ in plan))
    moved: list[tuple[Path, Path]] = [(src, dst) for _, src, dst, back in plan if back]
    try:
        for _, src, dst, back in plan:
            if not back:
                move_no_replace(src, dst)
                moved.append((src, dst))
    except (OSError, UnsafePath) as exc:
        stuck = _put_back(moved)
        note = f" Could not put back: {', '.join(stuck)}." if stuck else " Nothing was restored."
        if isinstance(exc, DestinationExists):
            raise ItemFailed(
                f"A file of '{photo.basename}' appeared in the project folder.{note}"
            ) from exc
        raise ItemFailed(f"Restoring '{photo.basename}' failed: {exc}.{note}") from exc
    try:
        return _row_restore(photo, [r for r, *_ in plan], folder, thumb, preview, job_id=job_id)
    except IntegrityError as exc:
        # A live photo of this base name was created between the check and the update.
        stuck = _put_back(moved)
        note = f" Could not put back: {', '.join(stuck)}." if stuck else ""
        raise ItemFailed(name_taken_message(photo.basename) + note) from exc


def _row_restore(
    photo: Photo,
    restored: list[TrashedFile],
    folder: Path,
    thumb: Path,
    preview: Path,
    *,
    job_id: int | None,
) -> str:
    """The row's half of a restore, in one transaction with its records and events."""
    present = originals(folder, photo.basename)
    classes = {classify(r.name) for r in restored}
    was_trashed = photo.trashed_at is not None
    fields: dict[str, Any] = {
        "trashed_at": None,
        "jpg_available": bool(present.jpg),
        "raw_available": bool(present.raw),
        "other_available": bool(present.other),
        "keep_jpg": bool(present.jpg) and (photo.keep_jpg or "jpg" in classes),
        "keep_raw": bool(present.raw) and (photo.keep_raw or "raw" in classes),
        "ext": present.ext or photo.ext,
    }
    # A JPG back after the derivatives were made from what stayed (the RAW: a photo still live,
    # or trashed whole by a later commit): make them again from the JPG. Missing derivatives
    # (removed by an older rule, or by hand) too.
    later = len({r.trashed_at for r in restored}) > 1
    remake = ("jpg" in classes and (not was_trashed or later)) or not (
        thumb.is_file() and preview.is_file()
    )
    if remake:
        fields["thumbnail_status"] = DerivativeStatus.PENDING
        fields["preview_status"] = DerivativeStatus.PENDING
    changed = {k: v for k, v in fields.items() if getattr(photo, k) != v}
    with transaction.atomic():
        Photo.all_objects.filter(pk=photo.pk).update(**changed, updated_at=timezone.now())
        # With the restored files' records go those of files gone from the trash meanwhile
        # (purged, taken out by hand): they can never come back.
        TrashedFile.objects.filter(photo=photo).delete()
        payload = {
            "photo_id": photo.pk,
            "project_id": photo.project_id,
            "basename": photo.basename,
            **{k: v for k, v in changed.items() if k != "trashed_at"},
            "restored": sorted(r.name for r in restored),
        }
        if was_trashed:
            payload["trashed_at"] = None
        events_record_bulk(
            [
                item_event(
                    tenant_id=photo.project.tenant_id,
                    project_id=photo.project_id,
                    photo_id=photo.pk,
                    fields=payload,
                    job_id=job_id,
                ),
                *pending_changes_events(
                    projects={photo.project_id: photo.project.tenant_id}, job_id=job_id
                ),
            ]
        )
    return f"Restored {len(restored)} file(s)."
