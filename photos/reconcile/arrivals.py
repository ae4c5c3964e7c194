"""``folder_check``: rows for new base names on disk; unaccepted files reported, never moved."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from jobs.events import EventType, event_record
from photos import storage
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from .derivative_repair import derivatives_repair
from .duplicates import new_bases, new_bases_ingest
from .scan import FolderScan, start_postprocess, usable_folder

# How many unaccepted file names a report or an ``unaccepted_files`` event lists.
UNACCEPTED_SHOWN = 50


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
    """Rows for new base names (then ``upload_postprocess``); unaccepted files reported;
    derivative statuses repaired from the disk and stray derivatives removed
    (``derivatives_repair``; photos whose derivatives went ``pending`` get
    ``upload_postprocess`` too).

    Nothing is moved: a file that is neither an original nor a sidecar of a photo (a video, a
    client's ``notes.txt``) is counted on the project and reported (``unaccepted_report``).

    Hidden entries (``.DS_Store``, the manifest, ``.thumb``, ``.preview``, ``.trash``) and
    sub-folders are left alone. A new base name that belongs to another project of the tenant
    is renamed to ``<base>_duplicate<N>`` first, as ``duplicate_resolution`` would, so the rule
    holds whichever task ingests the file.
    """
    report = report or Report(dry_run=dry_run)
    step = "folder_check"
    folder = usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    scan = FolderScan.of(folder)
    new = new_bases(project, scan)
    too_long = {b for b in new if storage.basename_problem(b)}
    long_names = [n for files in storage.folder_files(folder, too_long).values() for n in files.all]
    checkpoint()
    unaccepted_report(
        project=project,
        scan=scan,
        report=report,
        dry_run=dry_run,
        job_id=job_id,
        extra=long_names,
    )
    new_bases_ingest(
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
    checkpoint()
    repaired = derivatives_repair(
        project=project,
        folder=folder,
        scan=scan,
        report=report,
        dry_run=dry_run,
        job_id=job_id,
        checkpoint=checkpoint,
    )
    if repaired and followup:
        start_postprocess(project=project, photo_ids=repaired)
    return report
