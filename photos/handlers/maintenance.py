"""Handlers of the maintenance job types (SPEC §6); thin adapters over the services in
``photos.reconcile`` and ``photos.project_maintenance``.

Each handler dispatches on scope through ``ctx.target_projects()`` (the job's project, a photo
set's affected projects, or every active project of the tenant), reports progress in projects,
checks for cancellation between projects and between chunks of photos, and leaves the events
to the services, which write them in the transaction of each change. Re-running any of them is
safe: the services compare disk and database and only act on differences.

A project that fails (a permission error, a file vanishing mid-rename) is logged and the job
goes on with the next one, so one bad folder does not stop a tenant's maintenance; the next
run tries it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from django.conf import settings

from core.errors import ApplicationError
from jobs.context import JobContext
from jobs.exceptions import JobCanceled, JobLost, TaskAlreadyRunning
from jobs.models import Scope
from jobs.registry import handler
from photos import project_maintenance as maintenance
from photos.reconcile import arrivals, availability, cleaning, duplicates, fingerprint, trash
from photos.reconcile.fingerprint import Fingerprints
from photos.services.projects import maintenance_start
from photos.tus import resumable_uploads_purge
from projects.models import Project
from projects.reporting import Change, Report, where
from projects.selectors import ProjectArchived

logger = logging.getLogger(__name__)

# A loop over projects stores its progress at most this often (and at its end).
PROGRESS_WRITE_SECONDS = 1.0


def _fingerprints(ctx: JobContext, projects: list[Project]) -> Fingerprints | None:
    """The fingerprints of a global job's projects; ``None`` (check everything) for a project
    or photo-set job, and with ``payload["full"]`` (``manage.py maintenance --full``)."""
    if ctx.scope != Scope.GLOBAL or ctx.payload.get("full") or settings.PIPELINE_MAINTENANCE_FULL:
        return None
    return Fingerprints(projects)


def _each_project(
    ctx: JobContext,
    work: Callable[[Project, Report], object],
    *,
    include_archived: bool = False,
    skip: Callable[[Project], bool] | None = None,
    projects: list[Project] | None = None,
) -> Report:
    report = Report()
    if projects is None:
        projects = _active(ctx, include_archived=include_archived)
    ctx.set_total(len(projects))
    skipped = 0
    progress_at = time.monotonic()
    for index, project in enumerate(projects):
        ctx.check_cancel()
        try:
            if skip is not None and skip(project):
                # No progress write per skipped project: the next project worked on, or the
                # end of the loop, reports it.
                skipped += 1
                continue
            work(project, report)
        except (JobCanceled, JobLost):
            raise
        except (OSError, ApplicationError) as exc:
            logger.exception("%s failed for project %s; going on", ctx.job.type, project.pk)
            ctx.unit_failed(f"project {project.pk} ({project.folder}): {exc}")
            report.add(Change(ctx.job.type, "error", where(project), "", str(exc)))
        if time.monotonic() - progress_at >= PROGRESS_WRITE_SECONDS:
            # Most projects of a tenant-wide step are checked in a few milliseconds: a progress
            # write (a commit) each would cost more than the check.
            ctx.progress(index + 1)
            progress_at = time.monotonic()
    ctx.progress(len(projects))
    ctx.log("%s (%d unchanged project(s) skipped)", report.summary(), skipped)
    return report


def _active(ctx: JobContext, *, include_archived: bool = False) -> list[Project]:
    projects = ctx.target_projects(include_archived=include_archived)
    if not include_archived:
        # A project-scoped job names its project whatever its status; an archived project's
        # folder belongs to project_delete / project_scavenge, not to reconciliation.
        projects = [p for p in projects if p.status == Project.Status.ACTIVE]
    return projects


def _each_changed_project(
    ctx: JobContext,
    work: Callable[[Project, Report], object],
    *,
    before: Callable[[Fingerprints, Project], None] | None = None,
    after: Callable[[Fingerprints, Project], None] | None = None,
) -> Report:
    """``_each_project`` that skips, in a global job, a project unchanged since its last full
    check (``photos.reconcile.fingerprint``)."""
    projects = _active(ctx)
    prints = _fingerprints(ctx, projects)
    if prints is None:
        return _each_project(ctx, work, projects=projects)

    def checked(project: Project, report: Report) -> None:
        if before is not None:
            before(prints, project)
        work(project, report)
        if after is not None:
            after(prints, project)

    return _each_project(ctx, checked, skip=prints.unchanged, projects=projects)


@handler("trash_maintenance")
def trash_maintenance(ctx: JobContext) -> None:
    def work(project: Project, report: Report) -> None:
        trash.trash_purge(project=project, report=report, checkpoint=ctx.check_cancel)

    projects = _active(ctx)
    skip = None
    if _fingerprints(ctx, []) is not None:
        # Walk a trash only when an entry is due or the trash changed since the last walk.
        skip = partial(fingerprint.trash_unchanged, roots={})
    _each_project(ctx, work, skip=skip, projects=projects)
    # Abandoned resumable uploads go with the trash's purge (PIPELINE_UPLOAD_TTL_HOURS).
    purged = resumable_uploads_purge(tenant_id=ctx.job.tenant_id, project_id=ctx.job.project_id)
    if purged:
        ctx.log("Deleted %d abandoned resumable upload(s).", purged)


@handler("orphaned_project_cleanup")
def orphaned_project_cleanup(ctx: JobContext) -> None:
    # "A later run" means archived before this job was created, so a retry never removes what
    # its own first attempt archived.
    def work(project: Project, report: Report) -> None:
        maintenance.orphan_cleanup(
            project=project,
            report=report,
            archived_before=ctx.job.created_at,
            job_id=ctx.job.pk,
            checkpoint=ctx.check_cancel,
        )

    _each_project(ctx, work, include_archived=True)


@handler("duplicate_resolution")
def duplicate_resolution(ctx: JobContext) -> None:
    def work(project: Project, report: Report) -> None:
        duplicates.duplicates_resolve(project=project, report=report, checkpoint=ctx.check_cancel)

    # A fully checked project has a row for every base name in its folder: nothing to rename.
    _each_changed_project(ctx, work)


@handler("folder_alignment")
def folder_alignment(ctx: JobContext) -> None:
    projects = [p for p in ctx.target_projects() if p.status == Project.Status.ACTIVE]
    ctx.set_total(len(projects))
    report = maintenance.folders_align(
        projects=projects, job_id=ctx.job.pk, checkpoint=ctx.check_cancel
    )
    ctx.progress(len(projects))
    ctx.log("%s", report.summary())


@handler("manifest_check")
def manifest_check(ctx: JobContext) -> None:
    def work(project: Project, report: Report) -> None:
        availability.manifest_check(
            project=project, report=report, checkpoint=ctx.check_cancel, job_id=ctx.job.pk
        )

    _each_changed_project(ctx, work, before=Fingerprints.started)


@handler("folder_check")
def folder_check(ctx: JobContext) -> None:
    def work(project: Project, report: Report) -> None:
        arrivals.folder_check(
            project=project, report=report, checkpoint=ctx.check_cancel, job_id=ctx.job.pk
        )

    _each_changed_project(ctx, work)


@handler("manifest_cleaning")
def manifest_cleaning(ctx: JobContext) -> None:
    def work(project: Project, report: Report) -> None:
        cleaning.manifest_cleaning(
            project=project, report=report, checkpoint=ctx.check_cancel, job_id=ctx.job.pk
        )

    _each_changed_project(ctx, work, after=Fingerprints.finished)


@handler("folder_discovery")
def folder_discovery(ctx: JobContext) -> None:
    """Discover folders of the job's tenant, then reconcile each new or returning project."""
    ctx.set_total(1)
    touched = maintenance.folders_discover(
        tenant=ctx.tenant, job_id=ctx.job.pk, checkpoint=ctx.check_cancel
    )
    # A discovered folder's photos are ingested by its own maintenance task, not in this job,
    # so a tenant root of many new folders is worked through in parallel and resumably.
    for project in touched:
        try:
            maintenance_start(tenant=ctx.tenant, project=project, source="maintenance")
        except (TaskAlreadyRunning, ProjectArchived):
            pass  # Already being reconciled, or deleted since discovery touched it.
    ctx.progress(1)
    ctx.log("discovered or re-activated %d project(s)", len(touched))
