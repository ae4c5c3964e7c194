"""Exports (SPEC §18): start one, make its ZIP item by item, expire it.

- ``export_start``: a selection (``items``, per-item errors as the bulk endpoints give them) or
  a live share link's photos, an ``Export`` row and its ``export`` task, in one transaction.
- ``export_item_make`` / ``export_zip_make``: what the ``export_files`` job does per photo and
  at its end (``sharing/handlers.py``). A JPEG rendition is written to the export's staging
  folder as it completes and never made again; the ZIP is assembled from the items done.
- ``exports_expired_delete``: called by maintenance; deletes the files of expired exports.

Every status change of an export goes through the functions here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.errors import ApplicationError, NotFoundError, NoValidItems
from jobs.exceptions import ItemFailed
from jobs.models import Job, JobItem, JobItemStatus, JobStatus
from jobs.tasks import StartedTask, start_task
from photos.fsrules import split_name
from photos.models import Photo
from photos.selectors import acting_tenant_id, photos_visible
from photos.services.items import ItemError, item_error, item_photo_id, items_check
from projects.models import Project, Tenant

from . import exportfiles
from .models import Export, ShareLink, SharePick

TASK_TYPE = "export"
JOB_TYPE = "export_files"


@dataclass(frozen=True)
class ExportStarted:
    export: Export
    task: StartedTask
    errors: list[dict[str, Any]] = field(default_factory=list)


class ExportNotReady(ApplicationError):
    """The export's ZIP is not there (yet, or any more)."""


def _ttl() -> timedelta:
    return timedelta(hours=settings.EXPORT_TTL_HOURS)


# --- start --------------------------------------------------------------------------------


def _photos_of_items(user: Any, items: Any) -> tuple[list[Photo], list[dict[str, Any]]]:
    """The valid photos of ``items`` in request order (first occurrence), all of the tenant
    acted in, and the item errors; one query whatever the count."""
    entries: list[tuple[Any, int | None, str]] = []
    for item in items_check(items):
        try:
            entries.append((item, item_photo_id(item), ""))
        except ItemError as exc:
            entries.append((item, None, str(exc)))
    wanted = {pid for _, pid, _ in entries if pid is not None}
    found = {
        p.pk: p for p in photos_visible(user, wanted).select_related("project__tenant").order_by()
    }
    tenant_id = acting_tenant_id(
        user, [found[pid].project.tenant_id for _, pid, _ in entries if pid in found]
    )
    photos: dict[int, Photo] = {}
    errors: list[dict[str, Any]] = []
    for item, photo_id, error in entries:
        photo = found.get(photo_id) if photo_id is not None else None
        if not error and (photo is None or photo.project.tenant_id != tenant_id):
            error = "Photo not found."
        if error or photo is None:
            errors.append(item_error(item, error))
            continue
        photos.setdefault(photo.pk, photo)
    return list(photos.values()), errors


def share_photos(link: ShareLink, *, picks_only: bool = False) -> QuerySet[Photo]:
    """The photos a live link shows (public ones of active projects), in the gallery's order;
    with ``picks_only`` only those a client picked."""
    photos = link.photos.filter(
        visibility=Photo.Visibility.PUBLIC, project__status=Project.Status.ACTIVE
    )
    if picks_only:
        picked = SharePick.objects.filter(link=link, picked=True).values("photo_id")
        photos = photos.filter(pk__in=picked)
    return photos.select_related("project__tenant").order_by("taken_at", "basename", "id")


def export_start(
    *,
    user: Any,
    kind: str,
    items: Sequence[Any] | None = None,
    share_id: int | None = None,
    picks_only: bool = False,
    long_edge: int | None = None,
    quality: int | None = None,
    watermark: str = "",
    name_template: str = exportfiles.DEFAULT_TEMPLATE,
) -> ExportStarted:
    """Create an ``Export`` and start its ``export`` task (one ``export_files`` job whose items
    are the photos, in order), in one transaction.

    ``items``: unknown ids, other tenants' and archived projects' photos are item errors;
    ``NoValidItems`` when none is left. ``share_id``: a live link of the user's tenant
    (``NotFoundError`` otherwise), its visible photos (only the picked ones with
    ``picks_only``). JPEG exports default to ``DEFAULT_LONG_EDGE`` and ``DEFAULT_QUALITY``.
    """
    problem = exportfiles.template_problem(name_template)
    if problem:
        raise ApplicationError(problem)
    link: ShareLink | None = None
    errors: list[dict[str, Any]] = []
    if share_id is not None:
        link = ShareLink.objects.for_user(user).live().filter(pk=share_id).first()
        if link is None:
            raise NotFoundError("Share link not found.")
        photos = list(share_photos(link, picks_only=picks_only))
        if not photos:
            raise ApplicationError("The share link has no photos to export.")
    else:
        photos, errors = _photos_of_items(user, items or [])
        if not photos:
            raise NoValidItems("No valid photos to export.", errors)
    tenant = link.tenant if link is not None else photos[0].project.tenant
    jpeg = kind == Export.Kind.JPEG
    with transaction.atomic():
        export = Export.objects.create(
            tenant=tenant,
            created_by=user if getattr(user, "pk", None) else None,
            share=link,
            kind=kind,
            long_edge=(long_edge or exportfiles.DEFAULT_LONG_EDGE) if jpeg else None,
            quality=(quality or exportfiles.DEFAULT_QUALITY) if jpeg else None,
            watermark=watermark if jpeg else "",
            name_template=name_template,
            photo_count=len(photos),
            file_name=f"{tenant.slug}-export-{timezone.localdate():%Y-%m-%d}",
            # Counted again from completion; a stuck or failed export's leftovers go too.
            expires_at=timezone.now() + _ttl(),
        )
        export.file_name = f"{export.file_name}-{export.pk}.zip"
        started = start_task(
            TASK_TYPE,
            tenant,
            scope="photo_set",
            items=[{"photo_id": p.pk, "basename": p.basename} for p in photos],
            payload={"export_id": export.pk},
            source="user",
            auto_chunk=False,
        )
        export.task_id = started["task_id"]
        export.save(update_fields=["file_name", "task"])
    return ExportStarted(export=export, task=started, errors=errors)


# --- the job ------------------------------------------------------------------------------


def export_for_job(*, export_id: Any, tenant_id: int) -> Export:
    export = (
        Export.objects.for_tenant(tenant_id)
        .filter(pk=export_id if isinstance(export_id, int) else -1)
        .select_related("tenant")
        .first()
    )
    if export is None:
        raise NotFoundError(f"Export {export_id} not found.")
    return export


def export_running(export: Export) -> None:
    Export.objects.filter(pk=export.pk, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING
    )
    export.status = Export.Status.RUNNING


def export_item_make(export: Export, item: JobItem) -> str:
    """One photo's part of the export: a JPEG export renders it into the staging folder (once:
    a rendition already there, from an attempt that crashed before its item was marked done,
    is kept); an originals export checks its files are there (they are read at the end)."""
    photo = item.photo
    if photo is None:
        raise ItemFailed(f"{item.basename}: the photo no longer exists.")
    if export.kind == Export.Kind.ORIGINALS:
        files = exportfiles.original_files(photo)
        if not files:
            raise ItemFailed(f"{photo.basename}: no original file.")
        return f"{len(files)} file{'s' if len(files) != 1 else ''}"
    path = exportfiles.rendition_path(export.tenant.slug, export.pk, item.pk)
    if path.is_file():
        return "rendered before"
    try:
        size = exportfiles.rendition_write(
            photo,
            path,
            long_edge=export.long_edge or exportfiles.DEFAULT_LONG_EDGE,
            quality=export.quality or exportfiles.DEFAULT_QUALITY,
            watermark=export.watermark,
        )
    except exportfiles.RenditionFailed as exc:
        raise ItemFailed(str(exc)) from None
    return f"{size} bytes"


def _members(export: Export, done: list[JobItem]) -> Iterator[exportfiles.Member]:
    names = exportfiles.UniqueNames()
    width = exportfiles.seq_width(len(done))
    for seq, item in enumerate(done, start=1):
        photo = item.photo
        if photo is None:
            continue
        stem = exportfiles.member_stem(export.name_template, photo=photo, seq=seq, width=width)
        if export.kind == Export.Kind.JPEG:
            sources = [exportfiles.rendition_path(export.tenant.slug, export.pk, item.pk)]
        else:
            sources = exportfiles.original_files(photo)
        exts = [split_name(path.name)[1] for path in sources]
        for name, path in zip(names.take(stem, exts), sources, strict=True):
            yield exportfiles.Member(name, path)


def export_zip_make(
    export: Export, *, job_id: int, checkpoint: Callable[[], object] = lambda: None
) -> Export:
    """Assemble the ZIP from the job's items done, in item order (``{seq}`` counts them), then
    mark the export completed (or failed when no photo could be exported). Renditions are
    deleted once the ZIP is in place."""
    done = list(
        JobItem.objects.filter(job_id=job_id, status=JobItemStatus.DONE)
        .select_related("photo__project__tenant")
        .order_by("id")
    )
    failed = JobItem.objects.filter(job_id=job_id, status=JobItemStatus.FAILED).count()
    slug = export.tenant.slug
    if export.status == Export.Status.COMPLETED:
        return export  # A retry after the ZIP was published (its staging is gone): done.
    exportfiles.zip_temps_remove(slug, export.pk)
    if not done:
        return export_failed(export, error=f"No photo could be exported ({failed} failed).")
    written = exportfiles.zip_write(
        exportfiles.zip_path(slug, export.pk), _members(export, done), checkpoint=checkpoint
    )
    staging = exportfiles.staging_dir(slug, export.pk)
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.COMPLETED,
        size=written.size,
        photo_count=len(done),
        completed_at=now,
        expires_at=now + _ttl(),
        error=f"{failed} photo{'s' if failed != 1 else ''} could not be exported."
        if failed
        else "",
    )
    exportfiles.staging_remove(staging)
    export.refresh_from_db()
    return export


def export_failed(export: Export, *, error: str) -> Export:
    Export.objects.filter(pk=export.pk).update(status=Export.Status.FAILED, error=error[:2000])
    export.refresh_from_db()
    return export


# --- reading ------------------------------------------------------------------------------


def export_status(export: Export) -> str:
    """The status to show: a queued or running export whose task failed or was canceled (the
    job gave up after its retries) is failed."""
    active = export.status in (Export.Status.QUEUED, Export.Status.RUNNING)
    if (
        active
        and export.task is not None
        and export.task.status in (JobStatus.FAILED, JobStatus.CANCELED)
    ):
        return Export.Status.FAILED
    return export.status


def exports_with_progress(exports: QuerySet[Export]) -> QuerySet[Export]:
    """``exports`` with their job's ``progress_done`` and ``progress_total`` as subqueries of
    the list's one query (``job_done``, ``job_total``): no query per export."""
    job = Job.objects.filter(task_id=OuterRef("task_id")).order_by("id")
    return exports.annotate(
        job_done=Subquery(job.values("progress_done")[:1]),
        job_total=Subquery(job.values("progress_total")[:1]),
    )


def export_progress(export: Export) -> dict[str, int]:
    """Photos done of the export's photos, from its job (``exports_with_progress``, else one
    query)."""
    if export.status == Export.Status.COMPLETED:
        return {"done": export.photo_count, "total": export.photo_count}
    if hasattr(export, "job_done"):
        done, total = export.job_done, getattr(export, "job_total", 0)
    else:
        row = (
            Job.objects.filter(task_id=export.task_id)
            .order_by("id")
            .values("progress_done", "progress_total")
            .first()
        )
        done, total = (row["progress_done"], row["progress_total"]) if row else (0, 0)
    return {"done": done or 0, "total": total or export.photo_count}


def export_file(export: Export) -> Any:
    """The path of a completed export's ZIP; ``ExportNotReady`` before completion, after
    expiry or when the file is gone."""
    if export.status != Export.Status.COMPLETED:
        raise ExportNotReady(f"Export {export.pk} is {export_status(export)}, not ready.")
    path = exportfiles.zip_path(export.tenant.slug, export.pk)
    if not path.is_file():
        raise ExportNotReady(f"The file of export {export.pk} is gone.")
    return path


# --- expiry -------------------------------------------------------------------------------


def exports_expired_delete(*, now: datetime | None = None, tenant: Tenant | None = None) -> int:
    """Delete the files of exports past ``expires_at`` (completed ones, and the leftovers of
    failed ones and of ones whose task failed or was canceled) and mark them ``expired``;
    returns how many. An export whose task still runs is left alone. Only files under
    ``EXPORTS_ROOT`` are deleted; the rows stay as history."""
    now = now or timezone.now()
    ended = Q(status__in=(Export.Status.COMPLETED, Export.Status.FAILED)) | Q(
        task__status__in=(JobStatus.FAILED, JobStatus.CANCELED)
    )
    due = (
        Export.objects.filter(ended, expires_at__lte=now)
        .exclude(status=Export.Status.EXPIRED)
        .select_related("tenant")
    )
    if tenant is not None:
        due = due.for_tenant(tenant)
    count = 0
    for export in due.iterator():
        exportfiles.export_files_delete(export.tenant.slug, export.pk)
        count += Export.objects.filter(pk=export.pk, status=export.status).update(
            status=Export.Status.EXPIRED
        )
    return count
