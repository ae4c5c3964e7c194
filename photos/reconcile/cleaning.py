"""``manifest_cleaning``: delete rows that have no file of any class left on disk."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, events_record_bulk
from jobs.models import Event
from photos import storage
from photos.fsrules import UnsafePath
from photos.models import Photo
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from .scan import FolderScan, photo_chunks, usable_folder

logger = logging.getLogger(__name__)


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
    folder = usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    label = where(project)
    started = timezone.now()
    scan = FolderScan.of(folder)
    for rows in photo_chunks(project, "basename", "updated_at"):
        checkpoint()
        candidates = {
            pk: base for pk, base, updated_at in rows if base not in scan and updated_at < started
        }
        if not candidates:
            continue
        present = {
            base
            for base, files in storage.folder_files(folder, candidates.values()).items()
            if files.all
        }
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
    for path_of in (storage.thumbnail_path, storage.preview_path, storage.preview_jpeg_path):
        try:
            path_of(project, basename).unlink(missing_ok=True)
        except (OSError, UnsafePath):
            logger.warning("Could not remove a derivative of %s in %s", basename, where(project))
