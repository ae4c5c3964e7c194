"""``manifest_check``: the manifest and the photos' availability flags, from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, event_record, events_record_bulk
from jobs.models import Event
from photos import storage
from photos.events import item_event
from photos.manifest import manifest_data, manifest_read, manifest_write
from photos.models import DerivativeStatus, Photo
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from .scan import (
    JPG_BIT,
    OTHER_BIT,
    RAW_BIT,
    FolderScan,
    photo_chunks,
    start_postprocess,
    usable_folder,
)

_PENDING_STATUSES = {
    "thumbnail_status": DerivativeStatus.PENDING,
    "preview_status": DerivativeStatus.PENDING,
}


def _manifest_align(
    project: Project,
    folder: Path,
    *,
    report: Report,
    label: str,
    dry_run: bool,
    job_id: int | None,
) -> None:
    """Write the manifest if missing, unreadable or wrong (its event with it)."""
    if manifest_read(folder) == manifest_data(project):
        return
    report.add(Change("manifest_check", "write_manifest", label, storage.MANIFEST_NAME))
    if dry_run:
        return
    with transaction.atomic():
        if manifest_write(folder, project):
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.MANIFEST_CHANGED,
                project_id=project.pk,
                job_id=job_id,
                payload={"project_id": project.pk, "manifest": manifest_data(project)},
            )


def _image_arrived(new: dict[str, Any], *, jpg: bool, raw: bool, other: bool) -> bool:
    """Whether the derivative source (the JPG, else another image, else the RAW) is new: a
    JPG dropped next to its RAW, a RAW back alone, not a PNG next to a JPG (same rule as
    photos.ingest). ``jpg``, ``raw``, ``other``: what was available before."""
    return bool(
        (new["jpg_available"] and not jpg)
        or (new["other_available"] and not other and not new["jpg_available"])
        or (
            new["raw_available"]
            and not raw
            and not new["jpg_available"]
            and not new["other_available"]
        )
    )


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
    folder = usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    label = where(project)
    _manifest_align(project, folder, report=report, label=label, dry_run=dry_run, job_id=job_id)

    started = timezone.now()
    scan = FolderScan.of(folder)
    arrivals: list[int] = []
    fields = ("basename", "jpg_available", "raw_available", "other_available", "ext", "updated_at")
    for rows in photo_chunks(project, *fields, size=chunk_size):
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
            image_arrived = _image_arrived(new, jpg=jpg, raw=raw, other=other)
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
                item_event(
                    tenant_id=project.tenant_id,
                    project_id=project.pk,
                    photo_id=pk,
                    job_id=job_id,
                    fields={"basename": base, "changes": changed, "source": step},
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
