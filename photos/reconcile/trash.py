"""``trash_maintenance``: purge ``.trash/`` entries trashed more than the TTL ago, then the
trash records (``TrashedFile``) of files gone from the trash and the trashed photo rows left
without a file there (SPEC §3: a trashed row is deleted only when the purge deletes its files).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from jobs.events import EventType, events_record_bulk
from jobs.models import Event
from photos import storage
from photos.fsrules import TRASH_DIR, UnsafePath, trashed_at
from photos.models import Photo, TrashedFile
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from . import fingerprint
from .scan import project_folder

logger = logging.getLogger(__name__)


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
    trash = folder / TRASH_DIR
    try:
        walked_mtime: int | None = trash.lstat().st_mtime_ns  # before the walk: see fingerprint
    except FileNotFoundError:
        walked_mtime = None
    if walked_mtime is None:
        rows_due = trashed_rows_purge(
            project=project, trash=None, dry_run=dry_run, report=report, now=now, ttl=ttl
        )
        if not dry_run:
            fingerprint.trash_walked(project, mtime_ns=None, due=rows_due, now=now)
        return report
    if not trash.is_dir() or trash.is_symlink():
        return report
    label = where(project)
    due: float | None = None
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
                entry_due = trashed_at(stat) + ttl
                due = entry_due if due is None else min(due, entry_due)
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
    rows_due = trashed_rows_purge(
        project=project, trash=trash, dry_run=dry_run, report=report, now=now, ttl=ttl
    )
    if rows_due is not None:
        due = rows_due if due is None else min(due, rows_due)
    if not dry_run:
        fingerprint.trash_walked(project, mtime_ns=walked_mtime, due=due, now=now)
    return report


def trashed_rows_purge(
    *,
    project: Project,
    trash: Path | None,
    dry_run: bool,
    report: Report,
    now: float,
    ttl: float,
    job_id: int | None = None,
) -> float | None:
    """After the walk: forget trash records whose file left ``.trash/`` (purged, or taken out
    by hand), then delete the project's trashed rows that have no record left and were trashed
    more than the TTL ago. Returns when the next remaining trashed row falls due, or ``None``.

    Only called with the project folder present (an unmounted share never empties the
    records). ``trash`` is ``None`` when the project has no ``.trash/`` folder at all. A row
    whose files are still in the trash stays until they are purged; a trashed row's
    derivatives go with it unless a live photo of the same name has taken them over.
    """
    label = where(project)
    records = list(
        TrashedFile.objects.filter(photo__project_id=project.pk).values_list("pk", "trash_name")
    )
    gone_records = [
        pk
        for pk, name in records
        if trash is None or "/" in name or not os.path.lexists(trash / name)
    ]
    cutoff = datetime.fromtimestamp(now - ttl, tz=UTC)
    trashed = Photo.all_objects.filter(project_id=project.pk).trashed()
    kept = TrashedFile.objects.filter(photo=OuterRef("pk")).exclude(pk__in=gone_records)
    doomed = list(
        trashed.filter(trashed_at__lte=cutoff).exclude(Exists(kept)).values_list("pk", "basename")
    )
    for pk, base in doomed:
        report.add(Change("trash_maintenance", "delete_trashed_row", label, base, f"photo {pk}"))
    if not dry_run and (gone_records or doomed):
        with transaction.atomic():
            TrashedFile.objects.filter(pk__in=gone_records).delete()
            ids = list(
                Photo.all_objects.filter(pk__in=[pk for pk, _ in doomed], trashed_at__lte=cutoff)
                .exclude(Exists(TrashedFile.objects.filter(photo=OuterRef("pk"))))
                .values_list("pk", flat=True)
            )
            names = dict(doomed)
            events_record_bulk(
                Event(
                    tenant_id=project.tenant_id,
                    type=EventType.ITEM_REMOVED,
                    project_id=project.pk,
                    job_id=job_id,
                    payload={
                        "photo_id": pk,
                        "basename": names[pk],
                        "project_id": project.pk,
                        "reason": "purged",
                    },
                )
                for pk in ids
            )
            Photo.all_objects.filter(pk__in=ids).delete()
        live = set(
            Photo.objects.filter(
                project_id=project.pk, basename__in=[names[pk] for pk in ids]
            ).values_list("basename", flat=True)
        )
        for pk in ids:
            if names[pk] not in live:
                _derivatives_remove(project, names[pk])
    first = (
        Photo.all_objects.filter(project_id=project.pk)
        .trashed()
        .order_by("trashed_at")
        .values_list("trashed_at", flat=True)
        .first()
    )
    return None if first is None else first.timestamp() + ttl


def _derivatives_remove(project: Project, basename: str) -> None:
    """Drop a purged photo's thumbnail and preview (generated files, never originals)."""
    for path_of in (storage.thumbnail_path, storage.preview_path, storage.preview_jpeg_path):
        try:
            path_of(project, basename).unlink(missing_ok=True)
        except (OSError, UnsafePath):
            logger.warning("Could not remove a derivative of %s in %s", basename, where(project))
