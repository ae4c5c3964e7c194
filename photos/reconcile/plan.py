"""The dry run of a whole ``maintenance`` or ``maintenance_global`` task, step by step."""

from __future__ import annotations

from photos.project_maintenance import folders_align, orphan_cleanup
from projects.models import Project, Tenant
from projects.reporting import Report

from .arrivals import folder_check
from .availability import manifest_check
from .cleaning import manifest_cleaning
from .duplicates import duplicates_resolve
from .trash import trash_purge


def maintenance_plan(
    *, tenant: Tenant, project: Project | None = None, report: Report | None = None
) -> Report:
    """What a ``maintenance`` (one project) or ``maintenance_global`` task would change.

    Each step is planned against the current state, not against the earlier steps' plans: a
    folder the alignment would rename is checked under its current name, a file a duplicate
    rename would move is listed under its current name.
    """
    report = report or Report(dry_run=True)
    if project is not None:
        projects = [project]
    else:
        projects = list(Project.objects.for_tenant(tenant).active().order_by("id"))
    for p in projects:
        trash_purge(project=p, dry_run=True, report=report)
    if project is None:
        for p in Project.objects.for_tenant(tenant).order_by("id"):
            orphan_cleanup(project=p, dry_run=True, report=report)
        for p in projects:
            duplicates_resolve(project=p, dry_run=True, report=report)
        folders_align(projects=projects, dry_run=True, report=report)
    for p in projects:
        manifest_check(project=p, dry_run=True, report=report)
    for p in projects:
        folder_check(project=p, dry_run=True, report=report)
    for p in projects:
        manifest_cleaning(project=p, dry_run=True, report=report)
    return report
