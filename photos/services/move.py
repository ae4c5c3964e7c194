"""Move photos to another project of the same tenant (SPEC §6 image_move_files, §9).

``photos_move`` checks the request and starts one ``image_move`` task; ``photo_move_files``
is the per-photo work of its first step. A photo keeps its row id, tags (re-created by name
in the destination project), keep flags, visibility and derivatives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from jobs.events import EventType, event_record
from jobs.exceptions import ItemFailed, ItemSkipped, NotFoundError, NoValidItems
from jobs.tasks import start_task
from photos.fsrules import UnsafePath, move_no_replace, system_dir
from photos.models import Photo, Tag
from photos.storage import (
    FolderIndex,
    folder_files,
    originals,
    preview_path,
    project_dir,
    thumbnail_path,
)
from projects.models import Project
from projects.selectors import ProjectArchived

from .items import (
    ItemError,
    id_parse,
    item_error,
    item_photo_id,
    items_check,
    photos_visible,
)
from .results import DryRunReport, MoveStarted

logger = logging.getLogger(__name__)


def _exists_message(basename: str) -> str:
    return f"A photo named '{basename}' already exists in the destination project."


def photos_move(
    *, user: Any, items: list[dict], dest_project_id: int, dry_run: bool = False
) -> MoveStarted | DryRunReport:
    """Start one ``image_move`` task moving the valid photos into ``dest_project_id``.

    A destination outside the user's tenant is ``NotFoundError``, an archived one
    ``ProjectArchived``; no valid item is ``NoValidItems``. Per-item errors: unknown photo,
    already in the destination, a base name the destination already has (a row or a file on
    disk), or a base name another item of the same request claims. The task's project is the
    destination, so its job list shows the move and deleting it stops the move. ``dry_run``
    answers per item (``would_move`` or ``error``, in request order), starts nothing and
    moves nothing; its query count is fixed whatever the item count.
    """
    dest_pk = id_parse(dest_project_id)
    if dest_pk is None:
        raise NotFoundError("Destination project not found.")
    dest = Project.objects.for_user(user).select_related("tenant").filter(pk=dest_pk).first()
    if dest is None:
        raise NotFoundError("Destination project not found.")
    if dest.status != Project.Status.ACTIVE:
        raise ProjectArchived(dest, f"Destination project {dest.pk} is archived.")

    items = items_check(items)
    entries: list[tuple[Any, int | None, str]] = []
    for item in items:
        try:
            entries.append((item, item_photo_id(item), ""))
        except ItemError as exc:
            entries.append((item, None, str(exc)))
    photos = {
        p.pk: p
        for p in photos_visible(user, {pid for _, pid, _ in entries if pid is not None}).filter(
            project__tenant_id=dest.tenant_id
        )
    }
    names = {p.basename for p in photos.values()}
    taken = set(
        Photo.objects.filter(project=dest, basename__in=names).values_list("basename", flat=True)
    )
    on_disk = folder_files(project_dir(dest), names)
    taken |= {base for base, files in on_disk.items() if files.all}

    errors: list[dict[str, Any]] = []
    per_item: list[dict[str, Any]] = []
    valid: dict[int, Photo] = {}
    claimed: set[str] = set()
    for item, photo_id, error in entries:
        photo = photos.get(photo_id) if photo_id is not None else None
        if error:
            pass
        elif photo is None:
            error = "Photo not found."
        elif photo.pk in valid:
            per_item.append({"photo_id": photo.pk, "would_move": True})
            continue
        elif photo.project_id == dest.pk:
            error = "The photo is already in the destination project."
        elif photo.basename in taken:
            error = _exists_message(photo.basename)
        elif photo.basename in claimed:
            error = f"Another photo named '{photo.basename}' is moved in this request."
        if error or photo is None:
            errors.append(item_error(item, error))
            per_item.append(item_error(item, error))
            continue
        valid[photo.pk] = photo
        claimed.add(photo.basename)
        per_item.append({"photo_id": photo.pk, "would_move": True})
    if dry_run:
        return DryRunReport(per_item=per_item, errors=errors)
    if not valid:
        raise NoValidItems("No photos can be moved.", errors)
    started = start_task(
        "image_move",
        dest.tenant,
        project=dest,
        scope="photo_set",
        items=[{"photo_id": p.pk, "basename": p.basename} for p in valid.values()],
        payload={"dest_project_id": dest.pk},
        source="user",
    )
    return MoveStarted(task=started, destination_project=dest.pk, errors=errors)


# --- the per-photo work of image_move_files -----------------------------------------------


def _derivative_pairs(src: Project, dest: Project, basename: str) -> list[tuple[Path, Path]]:
    return [
        (thumbnail_path(src, basename), thumbnail_path(dest, basename)),
        (preview_path(src, basename), preview_path(dest, basename)),
    ]


def _put_back(moved: list[tuple[Path, Path]]) -> list[str]:
    """Undo moves newest first; return what could not be put back."""
    stuck = []
    for src, dst in reversed(moved):
        try:
            move_no_replace(dst, src)
        except OSError as exc:  # DestinationExists included: never overwrite on the way back.
            logger.error("Could not move %s back to %s: %s", dst, src, exc)
            stuck.append(str(dst))
    return stuck


def _relink_tags(photo: Photo, dest: Project) -> list[str]:
    """Point the photo's tags at same-named tags of ``dest`` (created when missing)."""
    names = sorted(photo.tags.values_list("name", flat=True))
    if not names:
        return []
    Tag.objects.bulk_create([Tag(project=dest, name=name) for name in names], ignore_conflicts=True)
    photo.tags.set(Tag.objects.filter(project=dest, name__in=names))
    return names


def _index_record(
    index: FolderIndex | None,
    src_dir: Path,
    dest_dir: Path,
    *,
    moved: list[str],
    involved: list[str],
    complete: bool,
) -> None:
    """Tell the job's folder index where the photo's originals are now.

    After a complete move ``moved`` left the source and everything ``involved`` is in the
    destination. After a failure (files put back, or stuck) any of them may be in either
    folder: both are told they may have them, and lookups check each name on disk.
    """
    if index is None:
        return
    if complete:
        index.record(src_dir, removed=moved)
        index.record(dest_dir, added=involved)
    else:
        index.record(src_dir, added=involved)
        index.record(dest_dir, added=involved)


def photo_move_files(
    *,
    tenant_id: int,
    photo_id: int | None,
    dest_project_id: int,
    journal: dict[str, Any] | None = None,
    on_plan: Callable[[dict[str, Any]], None] | None = None,
    job_id: int | None = None,
    index: FolderIndex | None = None,
) -> str:
    """Move one photo's originals, sidecars and derivatives, then its row, to the destination.

    Safe to rerun: ``on_plan`` durably records the originals about to move before any moves
    (the handler keeps it in the job item), so a rerun after a crash recognises files already
    in the destination as its own rather than as a name clash. A photo whose row already
    points at the destination is done. A failed move puts back what moved and fails the item.

    ``index`` is the job's ``FolderIndex`` (source and destination folders listed once per
    job, not per photo); the moves made here are recorded in it. ``None``: each lookup scans.
    """
    photo = (
        Photo.objects.select_related("project__tenant")
        .filter(pk=photo_id, project__tenant_id=tenant_id)
        .first()
        if photo_id is not None
        else None
    )
    if photo is None:
        raise ItemSkipped("The photo no longer exists.")
    dest = (
        Project.objects.select_related("tenant")
        .filter(pk=dest_project_id, tenant_id=tenant_id, status=Project.Status.ACTIVE)
        .first()
    )
    if dest is None:
        raise ItemFailed("The destination project does not exist or is archived.")
    if photo.project_id == dest.pk:
        return "Already in the destination project."
    src = photo.project
    if src.status != Project.Status.ACTIVE:
        raise ItemSkipped("The photo's project is archived.")
    basename = photo.basename
    try:
        src_dir, dest_dir = project_dir(src), project_dir(dest)
        derivatives = _derivative_pairs(src, dest, basename)
    except UnsafePath as exc:
        raise ItemFailed(str(exc)) from exc
    if not dest_dir.is_dir():
        raise ItemFailed("The destination project's folder is missing.")
    if not src_dir.is_dir():
        raise ItemFailed("The photo's project folder is missing.")

    ours: set[str] = set()
    if journal and journal.get("photo_id") == photo.pk and journal.get("dest") == dest.pk:
        ours = set(journal.get("files") or [])
    # Sidecars (XMP and other edit files) move with their photo, and clash like originals.
    to_move = originals(src_dir, basename, index=index).with_sidecars
    in_dest = originals(dest_dir, basename, index=index).with_sidecars
    clash = [name for name in in_dest if name not in ours]
    row_clash = Photo.objects.filter(project=dest, basename=basename).exclude(pk=photo.pk)
    if clash or row_clash.exists():
        raise ItemFailed(_exists_message(basename))
    involved = sorted(ours | set(to_move))
    if on_plan is not None:
        on_plan({"photo_id": photo.pk, "dest": dest.pk, "files": involved})

    complete = False
    try:
        # Files an interrupted attempt already moved go back too if this one fails.
        moved: list[tuple[Path, Path]] = [
            (src_dir / n, dest_dir / n) for n in sorted(ours & set(in_dest))
        ]
        try:
            for name in to_move:
                pair = (src_dir / name, dest_dir / name)
                move_no_replace(*pair)
                moved.append(pair)
            for old, new in derivatives:
                if old.exists():
                    # A .thumb/.preview that became a link or a file since: refuse, put back.
                    system_dir(dest_dir, new.parent.name, create=True)
                    # A derivative already there belongs to no photo row of dest: it is stale.
                    os.replace(old, new)
                    moved.append((old, new))
        except (OSError, UnsafePath) as exc:
            stuck = _put_back(moved)
            note = f" Could not put back: {', '.join(stuck)}." if stuck else " Nothing was moved."
            raise ItemFailed(f"Moving '{basename}' failed: {exc}.{note}") from exc

        try:
            with transaction.atomic():
                locked = Photo.objects.select_for_update().get(pk=photo.pk)
                locked.project = dest
                locked.save(update_fields=["project", "updated_at"])
                tags = _relink_tags(locked, dest)
                event_record(
                    tenant_id=tenant_id,
                    type=EventType.ITEM_MOVED,
                    project_id=dest.pk,
                    photo_id=photo.pk,
                    job_id=job_id,
                    payload={
                        "photo_id": photo.pk,
                        "basename": basename,
                        "from_project_id": src.pk,
                        "to_project_id": dest.pk,
                        "files": involved,
                        "tags": tags,
                    },
                )
        except IntegrityError as exc:
            # A same-named row appeared in the destination meanwhile.
            _put_back(moved)
            raise ItemFailed(_exists_message(basename)) from exc
        complete = True
    finally:
        _index_record(index, src_dir, dest_dir, moved=to_move, involved=involved, complete=complete)
    return f"Moved {len(to_move)} file(s) to project {dest.pk}."
