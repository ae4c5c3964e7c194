"""Handlers of the ``project_delete`` and scavenge tasks; thin adapters over photos.project_deletion."""

from __future__ import annotations

from jobs.context import JobContext
from jobs.exceptions import ScopeError
from jobs.models import Scope
from jobs.registry import handler
from photos.project_deletion import (
    project_folder_remove,
    project_jobs_stop,
    project_rows_delete,
    project_scavenge,
    projects_scavenge,
)
from projects.models import Project


def _project(ctx: JobContext) -> Project:
    if ctx.project is None:
        raise ScopeError(f"Job type '{ctx.job.type}' needs a project.")
    return ctx.project


@handler("project_stop_processes")
def project_stop_processes(ctx: JobContext) -> None:
    stopped = project_jobs_stop(
        project=_project(ctx),
        keep_task_id=ctx.job.task_id,
        keep_job_id=ctx.job.pk,
        check=ctx.check_cancel,
    )
    ctx.log("Canceled %d job(s)", len(stopped))


@handler("project_delete_files")
def project_delete_files(ctx: JobContext) -> None:
    removed = project_folder_remove(project=_project(ctx), job_id=ctx.job.pk)
    ctx.log("Folder %s", "deleted" if removed else "already gone")


@handler("project_cleanup_db")
def project_cleanup_db(ctx: JobContext) -> None:
    deleted = project_rows_delete(project=_project(ctx), job_id=ctx.job.pk, check=ctx.check_cancel)
    ctx.log("Deleted %d photo row(s)", deleted)


@handler("project_scavenge")
def project_scavenge_handler(ctx: JobContext) -> None:
    """Project scope: that archived project's folder. Global: every archived project's."""
    if ctx.scope == Scope.GLOBAL:
        removed = projects_scavenge(tenant=ctx.tenant, check=ctx.check_cancel)
    else:
        removed = []
        for project in ctx.target_projects(include_archived=True):
            ctx.check_cancel()
            if project_scavenge(project=project):
                removed.append(project.pk)
    ctx.log("Removed leftover folders of project(s) %s", removed)
