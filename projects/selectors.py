"""Tenant-scoped reads of projects and tenants (SPEC §9, §14): one rule for every interface.

Another tenant's project is ``NotFoundError`` with the same text as a project that does not
exist, whoever asks (the API, the admin, the photo services, project deletion).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from core.errors import ApplicationError, NotFoundError

from .models import Project, Tenant, tenant_id_for_user


class ProjectArchived(ApplicationError):
    """New work on an archived (deleted) project is refused."""

    def __init__(self, project: Project, message: str = "") -> None:
        super().__init__(message or f"Project {project.pk} is archived.")
        self.project = project


def projects_with_counts(queryset: QuerySet[Project]) -> QuerySet[Project]:
    """Annotate ``photo_count`` and ``pending_delete_count`` from the counts the database
    keeps (``photos.ProjectPhotoCounts``, by triggers): one join on the primary key, never a
    recount of photos. The API's project list and the admin's changelist both read them here.
    """
    return queryset.annotate(
        photo_count=Coalesce(F("photo_counts__photo_count"), 0),
        pending_delete_count=Coalesce(F("photo_counts__pending_delete_count"), 0),
    )


def project_for_user(*, user: Any, project: Project | int) -> Project:
    """The project (a row or an id) re-read through the user's scope, with its tenant.

    Raises ``NotFoundError`` ("Project N not found.") when it does not exist or is not the
    user's. Archived projects are returned: reads and deletion accept them.
    """
    pk = project.pk if isinstance(project, Project) else project
    found = Project.objects.for_user(user).select_related("tenant").filter(pk=pk).first()
    if found is None:
        raise NotFoundError(f"Project {pk} not found.")
    return found


def project_require_active(project: Project) -> Project:
    """``project`` when it is active; ``ProjectArchived`` when it was archived (deleted)."""
    if project.status != Project.Status.ACTIVE:
        raise ProjectArchived(project)
    return project


def tenant_for_user(*, user: Any) -> Tenant:
    """The user's own tenant, for work that names no project; ``ApplicationError`` without one."""
    tenant_id = tenant_id_for_user(user)
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id is not None else None
    if tenant is None:
        raise ApplicationError("Your account belongs to no tenant.")
    return tenant
