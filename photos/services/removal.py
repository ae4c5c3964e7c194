"""File removal: the per-photo work of a commit's ``file_removal`` step, written in batches.

A photo's discarded JPG and/or RAW files are moved into the project's ``.trash/`` (never
deleted: the purge does that after the trash TTL, SPEC §3), then the batch's rows, trash
records and events are written in a fixed number of statements. The job handler
(``file_removal``) calls ``photos_file_removal`` once per batch of items.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from jobs.events import events_record_bulk
from jobs.exceptions import ItemFailed, ItemSkipped
from photos.events import item_event
from photos.fsrules import (
    TRASH_DIR,
    UnsafePath,
    split_name,
    system_dir,
    trash_move,
    trashed_at,
    unlink_quietly,
)
from photos.models import DerivativeStatus, Photo, TrashedFile
from photos.storage import (
    FolderIndex,
    classify,
    originals,
    preview_path,
    preview_paths,
    project_dir,
    sidecar_bases,
    thumbnail_path,
)

# A photo's outcome in a batch: the item's message when it is done, or the skip / failure.
RemovalOutcome = str | ItemSkipped | ItemFailed


class TrashFailed(ItemFailed):
    """A photo's files could not all be trashed; ``trashed`` lists those that were."""

    def __init__(self, message: str, *, photo: Photo, trashed: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.photo = photo
        self.trashed = trashed


@dataclass
class _RowChange:
    """What one photo's row needs once its files are in the trash.

    ``whole``: its last original went, the row is trashed (``trashed_at``), not deleted.
    ``trashed``: ``{"file", "trash"}`` of each file moved into ``.trash/`` by this run.
    """

    photo: Photo
    whole: bool
    changed: dict[str, Any]
    payload: dict[str, Any]
    message: str
    trashed: list[dict[str, str]]


_TRASH_SUFFIX = re.compile(r"~\d+(?=(\.[^.]*)?$)")


def _trashed_earlier(
    folder: Path,
    basename: str,
    *,
    since: float,
    recorded: set[str],
    classes: set[str],
    sidecars: bool,
) -> list[dict[str, str]]:
    """Files of ``basename`` an interrupted attempt of this job moved into ``.trash/`` without
    recording them: unrecorded entries trashed since ``since`` whose name, without the
    ``~<n>`` a clash in the trash added, is an original of a class in ``classes`` (or, with
    ``sidecars``, a sidecar) of this photo. Only read on a retry, when a discarded file is
    already gone from the folder."""
    trash = system_dir(folder, TRASH_DIR)  # a linked .trash is refused, never listed
    found = []
    try:
        entries = list(os.scandir(trash))
    except OSError:
        return []
    for entry in entries:
        if entry.name in recorded or not entry.is_file(follow_symlinks=False):
            continue
        original = _TRASH_SUFFIX.sub("", entry.name, count=1)
        kind = classify(original)
        if kind is not None:
            if split_name(original)[0] != basename or kind.value not in classes:
                continue
        elif not (sidecars and basename in sidecar_bases(original)):
            continue
        try:
            if trashed_at(entry.stat(follow_symlinks=False)) < since:
                continue
        except OSError:
            continue
        found.append({"file": original, "trash": entry.name})
    return sorted(found, key=lambda t: t["trash"])


def _photo_files_remove(  # noqa: C901 (each file class's trash rule; a file-safety path, split it only with its tests)
    photo: Photo | None,
    *,
    project_id: int | None,
    index: FolderIndex | None,
    folders: dict[int, Path],
    since: float | None = None,
    recorded: Callable[[int], set[str]] | None = None,
) -> _RowChange:
    """Trash one photo's discarded files; return the row change, writing nothing in the DB.

    Raises ``ItemSkipped`` / ``ItemFailed`` for this photo only. ``folders`` holds the batch's
    project folders, checked (containment, present) once per batch.
    """
    if photo is None:
        raise ItemSkipped("The photo no longer exists.")
    if project_id is not None and photo.project_id != project_id:
        raise ItemSkipped("The photo is no longer in this project.")
    project = photo.project
    if not project.is_active:
        raise ItemSkipped("The photo's project is archived.")
    if not photo.pending_delete:
        raise ItemSkipped("Nothing to remove: no discarded file is pending.")

    drop_jpg = photo.jpg_available and not photo.keep_jpg
    drop_raw = photo.raw_available and not photo.keep_raw
    try:
        folder = folders.get(project.pk)
        if folder is None:
            # Once per project and batch: the folder stays inside the tenant root, and
            # .thumb/.preview are real folders (a photo keeping its JPG fails on a linked
            # .thumb too: nothing of a project with an unsafe system folder moves).
            thumbnail_path(project, photo.basename)
            preview_path(project, photo.basename)
            folder = folders[project.pk] = project_dir(project)
        # Only a photo losing its JPG loses its derivatives: build their paths then.
        derivatives = (
            [thumbnail_path(project, photo.basename), *preview_paths(project, photo.basename)]
            if drop_jpg
            else []
        )
    except UnsafePath as exc:
        raise ItemFailed(str(exc)) from exc
    if not folder.is_dir():
        # An unmounted share looks like an empty folder: never delete rows on that evidence.
        raise ItemFailed(f"The folder of project {project.pk} is missing.")
    present = originals(folder, photo.basename, index=index)
    names = (present.jpg if drop_jpg else []) + (present.raw if drop_raw else [])
    # The last original going: the photo goes to the trash whole (its row stays, trashed) and
    # keeps its derivatives until the purge, so the trash can show it.
    whole = not (set(present.all) - set(names))
    trashed = []
    gone: list[str] = []
    try:
        for name in sorted(names):
            target = trash_move(folder, name)
            gone.append(name)  # Trashed now, or already gone (None): out of the folder.
            if target is not None:
                trashed.append({"file": name, "trash": target})
        missing = {
            k
            for k, drop, now in (("jpg", drop_jpg, present.jpg), ("raw", drop_raw, present.raw))
            if drop and not now
        }
        if since is not None and recorded is not None and missing:
            # A retry: an earlier attempt trashed some of these files and died before their
            # records were written. Find them in the trash so a restore can bring them back.
            seen = recorded(project.pk) | {t["trash"] for t in trashed}
            earlier = _trashed_earlier(
                folder, photo.basename, since=since, recorded=seen, classes=missing, sidecars=whole
            )
            trashed.extend(earlier)
            recorded(project.pk).update(t["trash"] for t in earlier)
        if not whole:
            for path in derivatives:
                unlink_quietly(path)
        if index is not None:
            index.record(folder, removed=gone)  # our own renames: no rescan for the lookup
        left = originals(folder, photo.basename, index=index)
        if not left.all:
            # The last original went: its edit files (XMP, pp3…) follow it into the trash, so
            # a restore from the trash brings the photo back with its edits.
            for name in sorted(left.sidecars):
                target = trash_move(folder, name)
                gone.append(name)
                if target is not None:
                    trashed.append({"file": name, "trash": target})
    except (OSError, UnsafePath) as exc:
        # One unreadable file (or a .trash that is a link or a file) fails its photo, not the
        # commit: the photo stays pending, what was trashed stays trashed (and recorded, so it
        # can be restored), and the next commit finishes it.
        raise TrashFailed(
            f"Could not trash the files of '{photo.basename}': {exc}", photo=photo, trashed=trashed
        ) from exc
    finally:
        if index is not None:
            index.record(folder, removed=gone)

    left = originals(folder, photo.basename, index=index)  # after the recorded removals
    base = {"photo_id": photo.pk, "project_id": project.pk, "basename": photo.basename}
    if not left.all:
        # The row stays, trashed and hidden, until the purge deletes its files (SPEC §3).
        fields: dict[str, Any] = {
            "jpg_available": False,
            "raw_available": False,
            "other_available": False,
            "keep_jpg": False,
            "keep_raw": False,
        }
        changed = {k: v for k, v in fields.items() if getattr(photo, k) != v}
        return _RowChange(
            photo=photo,
            whole=True,
            changed=changed,
            payload={**base, "reason": "trashed", "trashed": trashed},
            message=f"Trashed {len(trashed)} file(s); no file left, photo moved to the trash.",
            trashed=trashed,
        )
    fields = {
        "jpg_available": bool(left.jpg),
        "raw_available": bool(left.raw),
        "other_available": bool(left.other),
        "keep_jpg": False if drop_jpg else photo.keep_jpg,
        "keep_raw": False if drop_raw else photo.keep_raw,
        "ext": left.ext,
    }
    if drop_jpg:
        # The derivatives went with the JPG; what is left (another image, or the RAW's
        # embedded preview) makes them again: the commit task's last step regenerates them.
        fields["thumbnail_status"] = DerivativeStatus.PENDING
        fields["preview_status"] = DerivativeStatus.PENDING
    changed = {k: v for k, v in fields.items() if getattr(photo, k) != v}
    return _RowChange(
        photo=photo,
        whole=False,
        changed=changed,
        payload={**base, **changed, "trashed": trashed},
        message=f"Trashed {len(trashed)} file(s).",
        trashed=trashed,
    )


def _row_changes_write(
    changes: list[_RowChange],
    *,
    tenant_id: int,
    job_id: int | None,
    failed: Sequence[TrashFailed] = (),
) -> None:
    """Write a batch's rows, trash records and events with a fixed number of statements.

    Rows that take the same new values (most of a batch: the discarded class gone, its keep
    flag off) share one ``UPDATE`` of exactly those fields, so a field this commit did not
    change is never written back with the value read before it. A photo whose last original
    went gets ``trashed_at`` (its row stays, hidden, until the purge). Every file moved into
    ``.trash/`` gets a ``TrashedFile`` record (also those of a photo that failed halfway), so
    a restore knows its trash name.
    """
    now = timezone.now()
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for change in changes:
        values = dict(change.changed)
        if change.whole:
            values["trashed_at"] = now
        groups.setdefault(tuple(sorted(values.items())), []).append(change.photo.pk)
    for values_key, ids in groups.items():
        Photo.objects.filter(pk__in=ids).update(**dict(values_key), updated_at=now)
    records = [
        TrashedFile(photo_id=photo.pk, name=t["file"], trash_name=t["trash"], trashed_at=now)
        for photo, trashed in [(c.photo, c.trashed) for c in changes]
        + [(f.photo, f.trashed) for f in failed]
        for t in trashed
    ]
    if records:
        TrashedFile.objects.bulk_create(records)
    events_record_bulk(
        item_event(
            tenant_id=tenant_id,
            project_id=c.photo.project_id,
            photo_id=c.photo.pk,
            fields={**c.payload, "trashed_at": now.isoformat()} if c.whole else c.payload,
            job_id=job_id,
            removed=c.whole,
        )
        for c in changes
    )


def photos_file_removal(
    *,
    tenant_id: int,
    photo_ids: list[int],
    project_id: int | None = None,
    job_id: int | None = None,
    index: FolderIndex | None = None,
    since: float | None = None,
) -> dict[int, RemovalOutcome]:
    """Trash the discarded JPG and/or RAW files of a batch of photos; update or trash their rows.

    Returns each photo id's outcome: the message of a photo done, or the ``ItemSkipped`` /
    ``ItemFailed`` of a photo skipped (gone, moved out of ``project_id``, archived, no longer
    pending) or failed (a file that cannot be trashed, a missing folder). Sidecars
    (``storage.sidecar_bases``) go to the trash only with the photo's last original; such a
    photo's row is trashed (``trashed_at``), never deleted here, and keeps its derivatives
    until the purge. Each trashed file is recorded (``TrashedFile``) for a restore.

    Files first, rows last: every photo's files are renamed into the trash (each a single
    rename, so every original is in its folder or in ``.trash/`` at every instant), then the
    batch's rows and events are written in a few statements. The caller commits them with the
    items' statuses in one transaction. A crash in between leaves files in the trash whose rows
    still list them: the retry re-reads the rows, finds those files gone from the folder,
    counts them as done (never trashing anything twice) and finishes the rows. The rows are
    read when the batch starts, so a keep flag changed after the commit started is honoured.

    ``since`` (the job's creation time) lets a retry find files an interrupted attempt of the
    job trashed without recording them (``_trashed_earlier``), so they stay restorable.

    ``index`` is the job's ``FolderIndex``: the folder is then listed once per job, and the
    files trashed here are recorded in it. Without one (``None``) each lookup scans the folder.
    """
    wanted = list(dict.fromkeys(photo_ids))
    photos = Photo.objects.select_related("project__tenant").filter(project__tenant_id=tenant_id)
    found = photos.in_bulk(wanted)
    outcomes: dict[int, RemovalOutcome] = {}
    changes: list[_RowChange] = []
    failed: list[TrashFailed] = []
    folders: dict[int, Path] = {}
    names_recorded: dict[int, set[str]] = {}

    def recorded(project_pk: int) -> set[str]:
        """The trash names already recorded in a project (read once per batch, on a retry)."""
        if project_pk not in names_recorded:
            names_recorded[project_pk] = set(
                TrashedFile.objects.filter(photo__project_id=project_pk).values_list(
                    "trash_name", flat=True
                )
            )
        return names_recorded[project_pk]

    for photo_id in wanted:
        try:
            change = _photo_files_remove(
                found.get(photo_id),
                project_id=project_id,
                index=index,
                folders=folders,
                since=since,
                recorded=recorded,
            )
        except TrashFailed as exc:
            outcomes[photo_id] = exc
            if exc.trashed:
                failed.append(exc)
            continue
        except (ItemSkipped, ItemFailed) as exc:
            outcomes[photo_id] = exc
            continue
        changes.append(change)
        outcomes[photo_id] = change.message
    _row_changes_write(changes, tenant_id=tenant_id, job_id=job_id, failed=failed)
    return outcomes


def photo_file_removal(
    *,
    tenant_id: int,
    photo_id: int | None,
    project_id: int | None = None,
    job_id: int | None = None,
    index: FolderIndex | None = None,
) -> tuple[str, int | None]:
    """``photos_file_removal`` of one photo: returns ``(message, project_id touched)``.

    Raises the photo's ``ItemSkipped`` / ``ItemFailed``.
    """
    if photo_id is None:
        raise ItemSkipped("The photo no longer exists.")
    project = Photo.objects.filter(pk=photo_id).values_list("project_id", flat=True).first()
    outcome = photos_file_removal(
        tenant_id=tenant_id, photo_ids=[photo_id], project_id=project_id, job_id=job_id, index=index
    )[photo_id]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome, project
