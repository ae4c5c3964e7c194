"""Move photos to another project of the same tenant (SPEC §6 image_move_files, §9).

``photos_move`` checks the request and starts one ``image_move`` task; ``photo_move_files``
is the per-photo work of its first step. A photo keeps its row id, tags (re-created by name
in the destination project), keep flags, visibility and derivatives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFoundError, NoValidItems
from core.limits import id_parse
from jobs.events import EventType, events_record_bulk
from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.models import Event
from jobs.tasks import start_task
from photos.derivatives import derivative_statuses_on_disk
from photos.fsrules import UnsafePath, move_no_replace, system_dir
from photos.models import Photo, Tag
from photos.selectors import photos_visible
from photos.storage import (
    BaseFiles,
    FolderIndex,
    folder_files,
    originals,
    preview_jpeg_path,
    preview_path,
    project_dir,
    thumbnail_path,
)
from projects.models import Project
from projects.selectors import ProjectArchived

from .items import (
    ItemError,
    item_error,
    item_photo_id,
    items_check,
)
from .results import DryRunReport, MoveStarted

logger = logging.getLogger(__name__)


def _exists_message(basename: str) -> str:
    return f"A photo named '{basename}' already exists in the destination project."


def _destination_get(user: Any, dest_project_id: Any) -> Project:
    """The user's active project ``dest_project_id``: ``NotFoundError``, ``ProjectArchived``."""
    dest_pk = id_parse(dest_project_id)
    if dest_pk is None:
        raise NotFoundError("Destination project not found.")
    dest = Project.objects.for_user(user).select_related("tenant").filter(pk=dest_pk).first()
    if dest is None:
        raise NotFoundError("Destination project not found.")
    if not dest.is_active:
        raise ProjectArchived(dest, f"Destination project {dest.pk} is archived.")
    return dest


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
    dest = _destination_get(user, dest_project_id)
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
        (preview_jpeg_path(src, basename), preview_jpeg_path(dest, basename)),
    ]


def _put_back(moved: list[tuple[Path, Path]]) -> list[str]:
    """Undo moves newest first; return what could not be put back."""
    stuck = []
    for src, dst in reversed(moved):
        try:
            move_no_replace(dst, src)
        except OSError:  # DestinationExists included: never overwrite on the way back.
            logger.exception("Could not move %s back to %s", dst, src)
            stuck.append(str(dst))
    return stuck


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


# A photo's outcome in a batch: the item's message when it is done, or the skip / failure.
MoveOutcome = str | ItemSkipped | ItemFailed


@dataclass
class _FilesMoved:
    """One photo whose files are in the destination, its row not yet."""

    photo: Photo
    src_dir: Path
    dest_dir: Path
    to_move: list[str]
    involved: list[str]
    moved: list[tuple[Path, Path]]


@dataclass
class MoveBatch:
    """A batch of photos after its file work (``photos_move_files_prepare``): the outcomes
    already known and the photos whose rows ``photos_move_files_record`` moves."""

    dest: Project | None
    outcomes: dict[int, MoveOutcome] = field(default_factory=dict)
    moved: list[_FilesMoved] = field(default_factory=list)


def _move_plan_check(
    photo: Photo | None, dest: Project | None
) -> tuple[Photo, Project, Path, Path, list[tuple[Path, Path]]]:
    """The photo, the destination, both folders and the derivative paths of a photo about
    to move; raises its ``ItemSkipped`` / ``ItemFailed``, or ``_AlreadyThere``."""
    if photo is None:
        raise ItemSkipped("The photo no longer exists.")
    if dest is None:
        raise ItemFailed("The destination project does not exist or is archived.")
    if photo.project_id == dest.pk:
        raise _AlreadyThere()
    src = photo.project
    if not src.is_active:
        raise ItemSkipped("The photo's project is archived.")
    try:
        src_dir, dest_dir = project_dir(src), project_dir(dest)
        derivatives = _derivative_pairs(src, dest, photo.basename)
    except UnsafePath as exc:
        raise ItemFailed(str(exc)) from exc
    if not dest_dir.is_dir():
        raise ItemFailed("The destination project's folder is missing.")
    if not src_dir.is_dir():
        raise ItemFailed("The photo's project folder is missing.")
    return photo, dest, src_dir, dest_dir, derivatives


class _AlreadyThere(Exception):
    """The photo's row already points at the destination: done."""


ALREADY_THERE = "Already in the destination project."


def _files_move(
    photo: Photo,
    *,
    src_dir: Path,
    dest_dir: Path,
    derivatives: list[tuple[Path, Path]],
    ours: set[str],
    to_move: list[str],
    in_dest: list[str],
    involved: list[str],
    index: FolderIndex | None,
) -> _FilesMoved:
    """Move one photo's originals, sidecars and derivatives; put them back and raise
    ``ItemFailed`` when one cannot move."""
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
        _index_record(index, src_dir, dest_dir, moved=to_move, involved=involved, complete=False)
        note = f" Could not put back: {', '.join(stuck)}." if stuck else " Nothing was moved."
        raise ItemFailed(f"Moving '{photo.basename}' failed: {exc}.{note}") from exc
    _index_record(index, src_dir, dest_dir, moved=to_move, involved=involved, complete=True)
    return _FilesMoved(
        photo=photo,
        src_dir=src_dir,
        dest_dir=dest_dir,
        to_move=to_move,
        involved=involved,
        moved=moved,
    )


def photos_move_files_prepare(
    *,
    tenant_id: int,
    photos: list[tuple[int | None, dict[str, Any] | None]],
    dest_project_id: int,
    on_plans: Callable[[dict[int, dict[str, Any]]], None] | None = None,
    index: FolderIndex | None = None,
) -> MoveBatch:
    """The file work of moving a batch of photos (``(photo_id, journal)`` pairs) to the
    destination; no row changes yet (``photos_move_files_record`` writes them).

    Runs outside any transaction. The batch's rows are read in one query, its name clashes
    with the destination's rows in another. ``on_plans`` durably records, before any file
    moves, each photo's plan (``{"photo_id", "dest", "files"}``: the originals and sidecars
    it moves); the caller passes it back as the photo's ``journal`` after a crash, so files
    already in the destination are recognised as the photo's own rather than as a clash.
    Two photos of one batch with the same base name: the second fails (a plan never claims
    another photo's files).
    """
    wanted = list(dict.fromkeys(pid for pid, _ in photos if pid is not None))
    journals = {pid: journal for pid, journal in photos if pid is not None}
    found = (
        Photo.objects.select_related("project__tenant")
        .filter(project__tenant_id=tenant_id)
        .in_bulk(wanted)
    )
    dest = (
        Project.objects.select_related("tenant")
        .filter(pk=dest_project_id, tenant_id=tenant_id, status=Project.Status.ACTIVE)
        .first()
    )
    batch = MoveBatch(dest=dest)
    taken: set[str] = set()
    if dest is not None:
        names = {p.basename for p in found.values()}
        taken = set(
            Photo.objects.filter(project=dest, basename__in=names)
            .exclude(pk__in=wanted)
            .values_list("basename", flat=True)
        )
    plans: dict[int, dict[str, Any]] = {}
    work: list[tuple[Photo, dict[str, Any]]] = []
    claimed: set[str] = set()
    for photo_id in wanted:
        try:
            photo, to, src_dir, dest_dir, derivatives = _move_plan_check(found.get(photo_id), dest)
        except _AlreadyThere:
            batch.outcomes[photo_id] = ALREADY_THERE
            continue
        except (ItemSkipped, ItemFailed) as exc:
            batch.outcomes[photo_id] = exc
            continue
        basename = photo.basename
        journal = journals.get(photo_id)
        ours: set[str] = set()
        if journal and journal.get("photo_id") == photo.pk and journal.get("dest") == to.pk:
            ours = set(journal.get("files") or [])
        # Sidecars (XMP and other edit files) move with their photo, and clash like originals.
        to_move = originals(src_dir, basename, index=index).with_sidecars
        in_dest = originals(dest_dir, basename, index=index).with_sidecars
        clash = [name for name in in_dest if name not in ours]
        if clash or basename in taken or basename in claimed:
            batch.outcomes[photo_id] = ItemFailed(_exists_message(basename))
            continue
        claimed.add(basename)
        involved = sorted(ours | set(to_move))
        plans[photo.pk] = {"photo_id": photo.pk, "dest": to.pk, "files": involved}
        work.append(
            (
                photo,
                {
                    "src_dir": src_dir,
                    "dest_dir": dest_dir,
                    "derivatives": derivatives,
                    "ours": ours,
                    "to_move": to_move,
                    "in_dest": in_dest,
                    "involved": involved,
                },
            )
        )
    if plans and on_plans is not None:
        on_plans(plans)
    for photo, how in work:
        try:
            batch.moved.append(_files_move(photo, index=index, **how))
        except ItemFailed as exc:
            batch.outcomes[photo.pk] = exc
    return batch


def _relink_tags(moved: list[Photo], dest: Project) -> dict[int, list[str]]:
    """Point the photos' tags at same-named tags of ``dest`` (created when missing), in a
    fixed number of statements; returns each photo's tag names."""
    through = Photo.tags.through
    ids = [p.pk for p in moved]
    names: dict[int, list[str]] = {pk: [] for pk in ids}
    for photo_id, name in through.objects.filter(photo_id__in=ids).values_list(
        "photo_id", "tag__name"
    ):
        names[photo_id].append(name)
    wanted = sorted({n for tags in names.values() for n in tags})
    if not wanted:
        return names
    Tag.objects.bulk_create([Tag(project=dest, name=n) for n in wanted], ignore_conflicts=True)
    dest_tags = dict(Tag.objects.filter(project=dest, name__in=wanted).values_list("name", "pk"))
    tagged = [pk for pk, tags in names.items() if tags]
    through.objects.filter(photo_id__in=tagged).delete()
    through.objects.bulk_create(
        [through(photo_id=pk, tag_id=dest_tags[n]) for pk in tagged for n in sorted(names[pk])]
    )
    return {pk: sorted(tags) for pk, tags in names.items()}


def _rows_move(moved: list[_FilesMoved], dest: Project) -> list[_FilesMoved]:
    """Point the rows at ``dest`` in one ``UPDATE``; a row whose name the destination took
    meanwhile (a unique-name clash) is left out: returns those."""
    now = timezone.now()
    try:
        with transaction.atomic():
            Photo.objects.filter(pk__in=[m.photo.pk for m in moved]).update(
                project=dest, updated_at=now
            )
    except IntegrityError:
        pass
    else:
        return []
    clashed = []
    for one in moved:  # Rare: find the clashing rows one by one.
        try:
            with transaction.atomic():
                Photo.objects.filter(pk=one.photo.pk).update(project=dest, updated_at=now)
        except IntegrityError:
            clashed.append(one)
    return clashed


def _derivatives_settle(
    done: list[_FilesMoved], dest: Project, *, states: dict[int, tuple[Any, Any, Any]]
) -> None:
    """Under the moved rows' lock: bring along derivatives a derivative job wrote in the
    source folder after the file work moved the photo's (it read the row before the move),
    then record the statuses the destination shows (``derivative_statuses_on_disk``), in one
    ``bulk_update``. A job that recorded ``missing`` (it looked in the emptied source folder)
    or ``generated`` (its files were left behind) is so corrected; what is ``pending`` is made
    by the task's ``generate_derivatives`` step. A derivative job recording after this sees
    the move under the same lock and records nothing (``photos_derivatives_record``).
    """
    updates: list[Photo] = []
    for one in done:
        basename = one.photo.basename
        try:
            pairs = _derivative_pairs(one.photo.project, dest, basename)
        except UnsafePath:
            continue
        for old, new in pairs:
            if not old.exists():
                continue
            try:
                system_dir(one.dest_dir, new.parent.name, create=True)
                os.replace(old, new)  # Derivatives only: newer than what the file work moved.
            except (OSError, UnsafePath) as exc:
                logger.warning("Could not bring %s along to %s: %s", old, new, exc)
        files = BaseFiles(basename)
        for name in one.involved:
            files.add(name)
        thumbnail_status, preview_status, width = states[one.photo.pk]
        changes = derivative_statuses_on_disk(
            folder=one.dest_dir,
            thumb=pairs[0][1],
            preview=pairs[2][1] if pairs[2][1].is_file() else pairs[1][1],
            files=files,
            thumbnail_status=thumbnail_status,
            preview_status=preview_status,
            metadata_read=width is not None,
        )
        if changes:
            fields = {"thumbnail_status": thumbnail_status, "preview_status": preview_status}
            updates.append(Photo(pk=one.photo.pk, **{**fields, **changes}))
    if updates:
        Photo.objects.bulk_update(updates, ["thumbnail_status", "preview_status"])


def photos_move_files_record(
    batch: MoveBatch, *, tenant_id: int, job_id: int | None = None, index: FolderIndex | None = None
) -> dict[int, MoveOutcome]:
    """Write the rows of a batch whose files moved (``photos_move_files_prepare``): their
    project, tags and ``item_moved`` events, in a fixed number of statements. Call it in the
    transaction that also records the items' outcomes; returns every photo's outcome.

    A row gone meanwhile is skipped (its files stay in the destination, where discovery finds
    them); a row whose base name the destination took meanwhile fails, its files put back.
    """
    outcomes = dict(batch.outcomes)
    dest = batch.dest
    if not batch.moved or dest is None:
        return outcomes
    states = {
        pk: (thumbnail_status, preview_status, width)
        for pk, thumbnail_status, preview_status, width in Photo.objects.select_for_update()
        .filter(pk__in=[m.photo.pk for m in batch.moved])
        .values_list("pk", "thumbnail_status", "preview_status", "width")
    }
    locked = set(states)
    present = []
    for one in batch.moved:
        if one.photo.pk in locked:
            present.append(one)
        else:
            outcomes[one.photo.pk] = ItemSkipped("The photo no longer exists.")
    clashed = _rows_move(present, dest)
    for one in clashed:
        _put_back(one.moved)
        _index_record(
            index,
            one.src_dir,
            one.dest_dir,
            moved=one.to_move,
            involved=one.involved,
            complete=False,
        )
        outcomes[one.photo.pk] = ItemFailed(_exists_message(one.photo.basename))
    clashed_ids = {one.photo.pk for one in clashed}
    done = [one for one in present if one.photo.pk not in clashed_ids]
    tags = _relink_tags([one.photo for one in done], dest)
    _derivatives_settle(done, dest, states=states)
    events_record_bulk(
        Event(
            tenant_id=tenant_id,
            type=EventType.ITEM_MOVED,
            project_id=dest.pk,
            photo_id=one.photo.pk,
            job_id=job_id,
            payload={
                "photo_id": one.photo.pk,
                "basename": one.photo.basename,
                "from_project_id": one.photo.project_id,
                "to_project_id": dest.pk,
                "files": one.involved,
                "tags": tags[one.photo.pk],
            },
        )
        for one in done
    )
    for one in done:
        outcomes[one.photo.pk] = f"Moved {len(one.to_move)} file(s) to project {dest.pk}."
    return outcomes


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
    """Move one photo's originals, sidecars and derivatives, then its row, to the destination
    (``photos_move_files_prepare`` and ``photos_move_files_record`` for one photo).

    Safe to rerun: ``on_plan`` durably records the originals about to move before any moves,
    so a rerun given it back as ``journal`` recognises files already in the destination as
    its own rather than as a name clash. A photo whose row already points at the destination
    is done. A failed move puts back what moved and raises ``ItemFailed``.
    """
    if photo_id is None:
        raise ItemSkipped("The photo no longer exists.")
    batch = photos_move_files_prepare(
        tenant_id=tenant_id,
        photos=[(photo_id, journal)],
        dest_project_id=dest_project_id,
        on_plans=(lambda plans: on_plan(plans[photo_id])) if on_plan else None,
        index=index,
    )
    with transaction.atomic():
        outcome = photos_move_files_record(batch, tenant_id=tenant_id, job_id=job_id, index=index)[
            photo_id
        ]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
