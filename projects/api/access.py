"""Who may touch what through the API: the caller's tenant and projects (SPEC §9, §14).

Another tenant's project is a 404 with the same text as a project that does not exist.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError

from jobs.exceptions import PipelineError
from projects.models import Project, Tenant, tenant_id_for_user


def request_tenant(user: Any) -> Tenant:
    """The caller's own tenant (for work that names no project); 400 without a membership."""
    tenant_id = tenant_id_for_user(user)
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id is not None else None
    if tenant is None:
        raise ValidationError({"detail": "Your account belongs to no tenant."})
    return tenant


def project_for_user(user: Any, project_id: int | None) -> Project | None:
    """The caller's project ``project_id`` (``None`` for ``None``); 404 when not theirs."""
    if project_id is None:
        return None
    project = Project.objects.for_user(user).select_related("tenant").filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} not found.")
    return project


def project_writable(project: Project) -> Project:
    """Refuse new work on an archived (deleted) project, as the photo services do (400)."""
    if project.status == Project.Status.ARCHIVED:
        raise PipelineError(f"Project {project.pk} is archived.")
    return project
