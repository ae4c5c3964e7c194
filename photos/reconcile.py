"""Reconciling a project's folder with its photo rows (SPEC §6): the per-project maintenance steps.

Services here, one per job type, each for one project:

- ``trash_purge`` (``trash_maintenance``): purge ``.trash/`` entries older than the TTL,
  counted from the moment they were trashed.
- ``manifest_check``: write a missing, unreadable or wrong ``.project.yaml``; set availability
  (and ``ext``) from disk. Never touches keep flags.
- ``folder_check``: rows for base names found on disk (then ``upload_postprocess``);
  unaccepted files are reported and counted on the project, never moved.
- ``duplicates_resolve`` (``duplicate_resolution``): a new base name that belongs to a photo of
  another project of the tenant is renamed ``<base>_duplicate<N>`` with all its files, then
  ingested.
- ``manifest_cleaning``: delete rows that have no file of any class left.

Every service takes ``dry_run`` and reports what it changes (or would change) to a ``Report``,
which is how ``manage.py maintenance --dry-run`` prints its plan. Every service is idempotent,
never creates a missing project folder, and does nothing to a project whose folder is missing
(that is ``orphaned_project_cleanup``'s business) or whose manifest names another project of the
tenant (a folder swapped on disk needs an operator; guessing would lose keep flags and tags).

Memory: a folder is scanned once into a compact ``{base name: small int}`` map (``FolderScan``)
and rows are streamed in keyset-paginated chunks of ``PIPELINE_MANIFEST_CHUNK``, so a project of
100,000 photos never has its rows in memory at once.

Races with uploads, moves and commits running at the same time: a row changed after the scan
started (``updated_at``) is left for the next run, and a row is deleted only when a second look
at the folder confirms that none of its files is there.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, event_record, events_record_bulk
from jobs.models import Event
from projects.manifest import manifest_data, manifest_read, manifest_write
from projects.models import Project

from . import storage
from .ingest import photos_rows_for_disk
from .models import DerivativeStatus, Photo
from .services.files import move_no_replace

logger = logging.getLogger(__name__)

Checkpoint = Callable[[], None]

JPG_BIT, RAW_BIT, OTHER_BIT = 1, 2, 4
_CLASS_BIT = {
    storage.FileClass.JPG: JPG_BIT,
    storage.FileClass.RAW: RAW_BIT,
    storage.FileClass.OTHER: OTHER_BIT,
}
# The class whose extension a row records first (``storage.BaseFiles.ext``): JPG, other, RAW.
_EXT_RANK = {storage.FileClass.JPG: 0, storage.FileClass.OTHER: 1, storage.FileClass.RAW: 2}

DUPLICATE_SUFFIX = "_duplicate"
# How many unaccepted file names a report or an ``unaccepted_files`` event lists.
UNACCEPTED_SHOWN = 50
_PENDING_STATUSES = {
    "thumbnail_status": DerivativeStatus.PENDING,
    "preview_status": DerivativeStatus.PENDING,
}


# --- reporting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change a maintenance step made, or would make in a dry run."""

    step: str
    action: str
    where: str
    target: str = ""
    detail: str = ""

    def __str__(self) -> str:
        text = f"[{self.step}] {self.where}: {self.action}"
        if self.target:
            text += f" {self.target}"
        if self.detail:
            text += f" ({self.detail})"
        return text


# Actions that only describe a situation; they change nothing and are not counted as changes.
NOTICE_ACTIONS = frozenset(
    {
        "skipped_folder_missing",
        "skipped_manifest_conflict",
        "alignment_blocked",
        "error",
        "unaccepted_files",
    }
)


@dataclass
class Report:
    """Collects changes: counts by action, the first ``keep`` of them, and an optional sink.

    A sink (a dry-run command's ``print``) sees every change as it happens, so a plan for a
    project of 100,000 photos is streamed, not held in memory.
    """

    dry_run: bool = False
    sink: Callable[[Change], None] | None = None
    keep: int = 500
    counts: Counter = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.counts[change.action] += 1
        if len(self.changes) < self.keep:
            self.changes.append(change)
        if self.sink is not None:
            self.sink(change)

    @property
    def total(self) -> int:
        """How many real changes (notices excluded)."""
        return sum(n for action, n in self.counts.items() if action not in NOTICE_ACTIONS)

    def summary(self) -> str:
        if not self.counts:
            return "nothing to do"
        return ", ".join(f"{action}: {n}" for action, n in sorted(self.counts.items()))


def where(project: Project) -> str:
    return f"{project.tenant.slug}/{project.folder} (project {project.pk})"


def no_checkpoint() -> None:
    return None


# --- scanning -----------------------------------------------------------------------------


class FolderScan:
    """The originals of a project folder: base name → class bits and best extension.

    One small int per base name (``bits | ext_index << 3``; CPython shares ints below 257), so
    50,000 base names cost a few megabytes. Hidden entries, directories and symlinks are
    ignored, exactly as ``storage.scan_originals`` does.
    """

    __slots__ = ("_entries", "_exts", "_index", "_ranks", "rejected")

    def __init__(self) -> None:
        self._entries: dict[str, int] = {}
        self._exts: list[str] = []
        self._ranks: list[int] = []
        self._index: dict[str, int] = {}
        self.rejected: list[str] = []

    @classmethod
    def of(cls, folder: Path) -> FolderScan:
        scan = cls()
        with os.scandir(folder) as it:
            for entry in it:
                if storage.is_hidden(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                if storage.classify(entry.name) is None:
                    scan.rejected.append(entry.name)
                    continue
                scan.add(entry.name)
        return scan

    def add(self, filename: str) -> None:
        """Record one original (an accepted file name)."""
        kind = storage.classify(filename)
        if kind is None:
            return
        base, ext = storage.split_name(filename)
        index = self._index.get(ext)
        if index is None:
            index = self._index[ext] = len(self._exts)
            self._exts.append(ext)
            self._ranks.append(_EXT_RANK[kind])
        bit = _CLASS_BIT[kind]
        current = self._entries.get(base)
        if current is None:
            self._entries[base] = bit | (index << 3)
            return
        best = current >> 3
        rank, best_rank = self._ranks[index], self._ranks[best]
        if rank < best_rank or (rank == best_rank and self._exts[index] < self._exts[best]):
            current = (current & 7) | (index << 3)
        self._entries[base] = current | bit

    def __contains__(self, base: object) -> bool:
        return base in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def bases(self) -> Iterator[str]:
        return iter(self._entries)

    def bits(self, base: str) -> int:
        return self._entries.get(base, 0) & 7

    def ext(self, base: str) -> str:
        """The extension a row records (``storage.BaseFiles.ext``), or "" when no file."""
        value = self._entries.get(base)
        return "" if value is None else self._exts[value >> 3].lower()

    def forget(self, base: str) -> None:
        self._entries.pop(base, None)


def collect_files(folder: Path, names: set[str]) -> dict[str, storage.BaseFiles]:
    """Every original (and sidecar) of the given base names, in one pass over the folder.

    A base name with sidecars but no original is left out: it has no photo.
    """
    found: dict[str, storage.BaseFiles] = {}
    if not names:
        return found
    try:
        it = os.scandir(folder)
    except FileNotFoundError:
        return found
    with it:
        for entry in it:
            bases = [b for b in storage.photo_bases(entry.name) if b in names]
            if not bases or not entry.is_file(follow_symlinks=False):
                continue
            for base in bases:
                found.setdefault(base, storage.BaseFiles(base)).add(entry.name)
    return {base: files for base, files in found.items() if files.all}


def _photo_chunks(project: Project, *fields: str, size: int | None = None) -> Iterator[list[Any]]:
    """The project's photos as ``values_list`` rows (pk first), keyset-paginated by id."""
    size = size or settings.PIPELINE_MANIFEST_CHUNK
    last = 0
    while True:
        rows = list(
            Photo.objects.filter(project_id=project.pk, pk__gt=last)
            .order_by("pk")
            .values_list("pk", *fields)[:size]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


# --- guards -------------------------------------------------------------------------------


def project_folder(project: Project) -> Path | None:
    """The project's folder when it exists on disk (never created here), else ``None``."""
    try:
        folder = storage.project_dir(project)
    except storage.UnsafePath:
        logger.warning("Project %s has an unsafe folder %r; skipped", project.pk, project.folder)
        return None
    return folder if folder.is_dir() else None


def manifest_conflict(project: Project, folder: Path) -> str | None:
    """The uid of another project of the tenant that the folder's manifest names, if any."""
    uid = manifest_uid(manifest_read(folder))
    if uid is None or uid == project.uid:
        return None
    other = (
        Project.objects.filter(tenant_id=project.tenant_id, uid=uid).exclude(pk=project.pk).exists()
    )
    return str(uid) if other else None


def manifest_uid(data: dict[str, Any] | None) -> uuid.UUID | None:
    """The manifest's uid when it is a valid UUID (a hand-edited manifest may hold anything)."""
    if not data or not data.get("uid"):
        return None
    try:
        return uuid.UUID(str(data["uid"]))
    except ValueError:
        return None


def _usable_folder(project: Project, *, step: str, report: Report) -> Path | None:
    folder = project_folder(project)
    if folder is None:
        report.add(Change(step, "skipped_folder_missing", where(project)))
        return None
    uid = manifest_conflict(project, folder)
    if uid is not None:
        logger.warning(
            "Folder %s carries the manifest of project %s, not of project %s; left alone",
            folder,
            uid,
            project.pk,
        )
        report.add(Change(step, "skipped_manifest_conflict", where(project), detail=f"uid {uid}"))
        return None
    return folder


# --- trash --------------------------------------------------------------------------------


def trashed_at(stat: os.stat_result) -> float:
    """When an entry was trashed: its inode change time.

    Not ``st_mtime``: a photo shot years ago keeps its old mtime through the move into the
    trash. ``st_ctime`` is set by the move (a rename or a hard link changes the inode;
    ``photos.services.files.trash_move`` also stamps it with a same-mode chmod for mounts that
    do not) and any later metadata change only moves it later, so a file is never purged
    early; at worst it stays a little longer.
    """
    return stat.st_ctime


def trash_purge(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    now: float | None = None,
    ttl_seconds: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> Report:
    """Delete ``.trash/`` entries trashed more than the TTL ago (files, links, emptied folders).

    Never creates the project folder or its trash folder.
    """
    report = report or Report(dry_run=dry_run)
    now = time.time() if now is None else now
    ttl = settings.PIPELINE_TRASH_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    folder = project_folder(project)
    if folder is None:
        return report
    trash = folder / storage.TRASH_DIR
    if not trash.is_dir() or trash.is_symlink():
        return report
    label = where(project)
    for dirpath, dirnames, filenames in os.walk(trash, topdown=False):
        checkpoint()
        base = Path(dirpath)
        for name in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            path = base / name
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            age = now - trashed_at(stat)
            if age <= ttl:
                continue
            report.add(
                Change(
                    "trash_maintenance",
                    "purge",
                    label,
                    str(path.relative_to(folder)),
                    f"trashed {int(age)} s ago",
                )
            )
            if not dry_run:
                path.unlink(missing_ok=True)
        if base != trash and not dry_run:
            try:
                base.rmdir()  # Only once emptied: a folder with fresh trash in it stays.
            except OSError:
                pass
    return report


# --- manifest_check -----------------------------------------------------------------------


def manifest_check(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    job_id: int | None = None,
    chunk_size: int | None = None,
    followup: bool = True,
) -> Report:
    """Write the manifest if missing, unreadable or wrong; set availability and ext from disk.

    Keep flags are never changed. When a file class disappears its ``*_available`` goes false
    and ``keep_*`` stays as the user left it (pending-delete and keep-mismatch are computed from
    both; changing keep here would silently undo a cull). When a class appears on disk for an
    existing photo, availability goes true and keep stays too; when that gives the photo a new
    derivative source (a JPG, else another image, else a RAW alone), the derivative statuses go
    ``pending`` and ``upload_postprocess`` is started for those photos (with ``followup``).
    """
    report = report or Report(dry_run=dry_run)
    step = "manifest_check"
    folder = _usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    label = where(project)

    if manifest_read(folder) != manifest_data(project):
        report.add(Change(step, "write_manifest", label, storage.MANIFEST_NAME))
        if not dry_run:
            with transaction.atomic():
                if manifest_write(folder, project):
                    event_record(
                        tenant_id=project.tenant_id,
                        type=EventType.MANIFEST_CHANGED,
                        project_id=project.pk,
                        job_id=job_id,
                        payload={"project_id": project.pk, "manifest": manifest_data(project)},
                    )

    started = timezone.now()
    scan = FolderScan.of(folder)
    arrivals: list[int] = []
    fields = ("basename", "jpg_available", "raw_available", "other_available", "ext", "updated_at")
    for rows in _photo_chunks(project, *fields, size=chunk_size):
        checkpoint()
        updates: list[Photo] = []
        with_status: list[Photo] = []
        events: list[Event] = []
        for pk, base, jpg, raw, other, ext, updated_at in rows:
            if updated_at >= started:
                continue  # Changed while we scanned: the next run looks at it with fresh eyes.
            bits = scan.bits(base)
            new = {
                "jpg_available": bool(bits & JPG_BIT),
                "raw_available": bool(bits & RAW_BIT),
                "other_available": bool(bits & OTHER_BIT),
                "ext": scan.ext(base) or ext,
            }
            old = {"jpg_available": jpg, "raw_available": raw, "other_available": other, "ext": ext}
            changed = {k: v for k, v in new.items() if old[k] != v}
            if not changed:
                continue
            # The derivative source (the JPG, else another image, else the RAW) is new: a JPG
            # dropped next to its RAW, a RAW back alone, not a PNG next to a JPG (same rule as
            # photos.ingest).
            image_arrived = (
                (new["jpg_available"] and not jpg)
                or (new["other_available"] and not other and not new["jpg_available"])
                or (
                    new["raw_available"]
                    and not raw
                    and not new["jpg_available"]
                    and not new["other_available"]
                )
            )
            if image_arrived:
                changed["thumbnail_status"] = changed["preview_status"] = DerivativeStatus.PENDING
            report.add(
                Change(
                    step,
                    "update_availability",
                    label,
                    base,
                    ", ".join(f"{k}={v}" for k, v in changed.items()),
                )
            )
            if dry_run:
                continue
            if image_arrived:
                arrivals.append(pk)
                with_status.append(Photo(pk=pk, **new, **_PENDING_STATUSES))
            else:
                updates.append(Photo(pk=pk, **new))
            events.append(
                Event(
                    tenant_id=project.tenant_id,
                    type=EventType.ITEM,
                    project_id=project.pk,
                    photo_id=pk,
                    job_id=job_id,
                    payload={"photo_id": pk, "basename": base, "changes": changed, "source": step},
                )
            )
        if events:
            now = timezone.now()
            columns = ["jpg_available", "raw_available", "other_available", "ext", "updated_at"]
            with transaction.atomic():
                for photos, extra in ((updates, []), (with_status, [*_PENDING_STATUSES])):
                    for photo in photos:
                        photo.updated_at = now
                    if photos:
                        Photo.objects.bulk_update(photos, columns + extra, batch_size=500)
                events_record_bulk(events)
    if arrivals and followup:
        start_postprocess(project=project, photo_ids=arrivals)
    return report


# --- folder_check and duplicate_resolution ------------------------------------------------


def _new_bases(project: Project, scan: FolderScan) -> set[str]:
    """Base names on disk that have no row in the project."""
    new = set(scan.bases())
    for rows in _photo_chunks(project, "basename"):
        new.difference_update(base for _, base in rows)
    return new


def _foreign_bases(project: Project, names: set[str]) -> set[str]:
    """Those of ``names`` that belong to a photo of another project of the same tenant."""
    foreign: set[str] = set()
    ordered = sorted(names)
    size = settings.PIPELINE_MANIFEST_CHUNK
    for start in range(0, len(ordered), size):
        foreign.update(
            Photo.objects.filter(
                project__tenant_id=project.tenant_id, basename__in=ordered[start : start + size]
            )
            .exclude(project_id=project.pk)
            .values_list("basename", flat=True)
        )
    return foreign


def duplicate_name(*, project: Project, folder: Path, base: str, scan: FolderScan) -> str:
    """``<base>_duplicate<N>`` with the smallest N free in the folder and in the tenant's rows.

    The base is shortened (whole characters) when the suffix would take the name over
    ``storage.BASENAME_MAX_BYTES``, so the renamed photo's derived names still fit.
    """
    n = 1
    while True:
        suffix = f"{DUPLICATE_SUFFIX}{n}"
        stem = storage.basename_truncate(base, storage.BASENAME_MAX_BYTES - len(suffix))
        candidate = f"{stem}{suffix}"
        # The scan is a snapshot; a file that appears since is never overwritten
        # (``move_no_replace``), the rename is undone and the next run picks the next N.
        if (
            candidate not in scan
            and not Photo.objects.filter(
                project__tenant_id=project.tenant_id, basename=candidate
            ).exists()
        ):
            return candidate
        n += 1


def _renamed(files: storage.BaseFiles, new_base: str) -> storage.BaseFiles:
    """The same files under ``new_base`` (each extension and its case kept), sidecars too."""
    cut = len(files.basename)
    return storage.BaseFiles(
        new_base,
        [new_base + name[cut:] for name in files.jpg],
        [new_base + name[cut:] for name in files.raw],
        [new_base + name[cut:] for name in files.other],
        [new_base + name[cut:] for name in files.sidecars],
    )


def _rename_base(folder: Path, files: storage.BaseFiles, renamed: storage.BaseFiles) -> None:
    """Rename every file of a base name, never over an existing file; undo on failure, so a
    base name is never left split between two names."""
    done: list[tuple[Path, Path]] = []
    try:
        for old, new in zip(files.with_sidecars, renamed.with_sidecars, strict=True):
            source, target = folder / old, folder / storage.check_name(new)
            move_no_replace(source, target)
            done.append((source, target))
    except OSError:
        for source, target in reversed(done):
            move_no_replace(target, source)
        raise


def _ingest(
    *,
    project: Project,
    folder: Path,
    scan: FolderScan,
    step: str,
    report: Report,
    dry_run: bool,
    duplicates_only: bool,
    followup: bool,
    new: set[str] | None = None,
) -> list[int]:
    """Rename duplicates among the new base names, then create rows (all new, or only those).

    ``new``: the new base names when the caller has them (``new_bases``). A base name over
    ``storage.BASENAME_MAX_BYTES`` is never ingested or renamed: it is reported (``error``)
    and its files stay as they are. Returns the ids of the rows created (none in a dry run).
    """
    label = where(project)
    if new is None:
        new = _new_bases(project, scan)
    for base in sorted(b for b in new if storage.basename_problem(b)):
        report.add(Change(step, "error", label, base[:40], "base name too long; not ingested"))
    new = {b for b in new if storage.basename_problem(b) is None}
    if not new:
        return []
    foreign = _foreign_bases(project, new)
    planned: list[str] = []
    groups: dict[str, storage.BaseFiles] = {}
    originals = collect_files(folder, foreign)
    for base in sorted(foreign):
        files = originals.get(base)
        if files is None or not files.all:
            continue  # Gone since the scan.
        new_base = duplicate_name(project=project, folder=folder, base=base, scan=scan)
        report.add(
            Change(
                step, "rename_duplicate", label, base, f"to {new_base}; {len(files.all)} file(s)"
            )
        )
        renamed = _renamed(files, new_base)
        if not dry_run:
            try:
                _rename_base(folder, files, renamed)
            except OSError as exc:
                logger.warning("Could not rename duplicate %s in %s: %s", base, folder, exc)
                report.add(Change(step, "error", label, base, str(exc)))
                continue
            scan.forget(base)
        # Record the new name, so the next duplicate of this run takes the next free N.
        for name in renamed.all:
            scan.add(name)
        planned.append(new_base)
        groups[new_base] = renamed
    if not duplicates_only:
        others = new - foreign
        if dry_run:
            planned.extend(others)
        else:
            found = collect_files(folder, others)
            planned.extend(found)
            groups.update(found)
    for base in sorted(planned):
        report.add(Change(step, "create_row", label, base))
    if dry_run or not groups:
        return []
    ids = [photo.pk for photo in photos_rows_for_disk(project=project, groups=groups)]
    if followup and ids:
        start_postprocess(project=project, photo_ids=ids)
    return ids


def start_postprocess(*, project: Project, photo_ids: list[int]) -> str:
    """Start ``upload_postprocess`` for ingested rows (auto-chunked past 2,000 items)."""
    from jobs.orchestrator import start_task

    started = start_task(
        "upload_postprocess",
        project.tenant,
        project=project,
        items=photo_ids,
        source="maintenance",
    )
    return started["task_id"]


def duplicates_resolve(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    followup: bool = True,
) -> Report:
    """Rename new base names that belong to another project of the tenant, then ingest them.

    Only base names without a row in this project count: a photo already ingested here is this
    project's, whatever other projects hold, so two projects never rename each other's files.
    """
    report = report or Report(dry_run=dry_run)
    step = "duplicate_resolution"
    folder = _usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    checkpoint()
    _ingest(
        project=project,
        folder=folder,
        scan=FolderScan.of(folder),
        step=step,
        report=report,
        dry_run=dry_run,
        duplicates_only=True,
        followup=followup,
    )
    return report


def unaccepted_names(scan: FolderScan) -> list[str]:
    """The files of a scan that are neither originals nor sidecars of a photo on disk."""
    return sorted(
        name
        for name in scan.rejected
        if not any(base in scan for base in storage.sidecar_bases(name))
    )


def unaccepted_report(
    *,
    project: Project,
    scan: FolderScan,
    report: Report,
    dry_run: bool,
    job_id: int | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """Report the unaccepted files of a scan; store their count on the project.

    ``extra``: originals that are not ingested either (a base name over the length cap).

    The files are never moved or deleted: a client's ``notes.txt`` or a video is the user's.
    An ``unaccepted_files`` event (count and the first names, relative to the project folder)
    is written when the count changes, in the transaction that stores it.
    """
    names = sorted([*unaccepted_names(scan), *extra])
    if names:
        shown = ", ".join(names[:UNACCEPTED_SHOWN])
        report.add(
            Change("folder_check", "unaccepted_files", where(project), str(len(names)), shown)
        )
    if dry_run:
        return names
    with transaction.atomic():
        changed = (
            Project.objects.filter(pk=project.pk)
            .exclude(unaccepted_files=len(names))
            .update(unaccepted_files=len(names))
        )
        if changed:
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.UNACCEPTED_FILES,
                project_id=project.pk,
                job_id=job_id,
                payload={
                    "project_id": project.pk,
                    "count": len(names),
                    "files": names[:UNACCEPTED_SHOWN],
                },
            )
    project.unaccepted_files = len(names)
    return names


def folder_check(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    followup: bool = True,
    job_id: int | None = None,
) -> Report:
    """Rows for new base names (then ``upload_postprocess``); unaccepted files reported.

    Nothing is moved: a file that is neither an original nor a sidecar of a photo (a video, a
    client's ``notes.txt``) is counted on the project and reported (``unaccepted_report``).

    Hidden entries (``.DS_Store``, the manifest, ``.thumb``, ``.preview``, ``.trash``) and
    sub-folders are left alone. A new base name that belongs to another project of the tenant
    is renamed to ``<base>_duplicate<N>`` first, as ``duplicate_resolution`` would, so the rule
    holds whichever task ingests the file.
    """
    report = report or Report(dry_run=dry_run)
    step = "folder_check"
    folder = _usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    scan = FolderScan.of(folder)
    new = _new_bases(project, scan)
    too_long = {b for b in new if storage.basename_problem(b)}
    long_names = [n for files in collect_files(folder, too_long).values() for n in files.all]
    checkpoint()
    unaccepted_report(
        project=project,
        scan=scan,
        report=report,
        dry_run=dry_run,
        job_id=job_id,
        extra=long_names,
    )
    _ingest(
        project=project,
        folder=folder,
        scan=scan,
        step=step,
        report=report,
        dry_run=dry_run,
        duplicates_only=False,
        followup=followup,
        new=new,
    )
    return report


# --- manifest_cleaning --------------------------------------------------------------------


def manifest_cleaning(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    job_id: int | None = None,
) -> Report:
    """Delete rows that have no file of any class (JPG, RAW or other) left on disk.

    Judged from the disk, not the availability flags, so a PNG-only photo stays. A row changed
    after the scan started is left for the next run, and each candidate is confirmed by a
    second look at the folder just before its deletion.
    """
    report = report or Report(dry_run=dry_run)
    step = "manifest_cleaning"
    folder = _usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    label = where(project)
    started = timezone.now()
    scan = FolderScan.of(folder)
    for rows in _photo_chunks(project, "basename", "updated_at"):
        checkpoint()
        candidates = {
            pk: base for pk, base, updated_at in rows if base not in scan and updated_at < started
        }
        if not candidates:
            continue
        present = collect_files(folder, set(candidates.values()))
        doomed = {pk: base for pk, base in candidates.items() if base not in present}
        for pk, base in doomed.items():
            report.add(Change(step, "delete_row", label, base, f"photo {pk}"))
        if dry_run or not doomed:
            continue
        with transaction.atomic():
            ids = list(
                Photo.objects.filter(pk__in=list(doomed), updated_at__lt=started).values_list(
                    "pk", flat=True
                )
            )
            events_record_bulk(
                Event(
                    tenant_id=project.tenant_id,
                    type=EventType.ITEM_REMOVED,
                    project_id=project.pk,
                    job_id=job_id,
                    # The photo FK would be nulled by the delete: the id travels in the payload.
                    payload={
                        "photo_id": pk,
                        "basename": doomed[pk],
                        "project_id": project.pk,
                        "reason": "no_files",
                    },
                )
                for pk in ids
            )
            Photo.objects.filter(pk__in=ids).delete()
        for pk in ids:
            _remove_derivatives(project, doomed[pk])
    return report


def _remove_derivatives(project: Project, basename: str) -> None:
    """Drop a deleted row's thumbnail and preview (generated files, never originals), so a new
    photo of the same name later never shows a stale one."""
    for path_of in (storage.thumbnail_path, storage.preview_path):
        try:
            path_of(project, basename).unlink(missing_ok=True)
        except (OSError, storage.UnsafePath):
            logger.warning("Could not remove a derivative of %s in %s", basename, where(project))
