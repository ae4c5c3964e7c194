"""Write paths for projects: create, rename, archive (SPEC §3, §9)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.events import EventType, event_record
from jobs.exceptions import PipelineError
from photos.storage import project_dir, tenant_root

from .folders import folder_name_unique
from .manifest import manifest_write
from .models import Project, Tenant
from .names import name_characters_problem


def project_folder_for(*, tenant: Tenant, name: str, own: Project | None = None) -> str:
    """The unique folder for ``name`` in the tenant (database rows and folders on disk)."""
    taken_rows = Project.objects.filter(tenant=tenant)
    if own is not None:
        taken_rows = taken_rows.exclude(pk=own.pk)
    taken = set(taken_rows.values_list("folder", flat=True))
    root = tenant_root(tenant)

    def is_taken(candidate: str) -> bool:
        if candidate.lower() in {t.lower() for t in taken}:
            return True
        return (root / candidate).exists() and (own is None or candidate != own.folder)

    return folder_name_unique(name, taken=is_taken, own_folder=own.folder if own else None)


def project_create(*, tenant: Tenant, name: str, actor_id: int | None = None) -> Project:
    """Create the project row, its folder and its manifest."""
    name = (name or "").strip()
    if not name:
        raise PipelineError("A project needs a name.")
    if problem := name_characters_problem(name, what="A project name"):
        raise PipelineError(problem)
    for _ in range(5):
        folder = project_folder_for(tenant=tenant, name=name)
        try:
            with transaction.atomic():
                project = Project.objects.create(tenant=tenant, name=name, folder=folder)
                path = project_dir(project)
                path.mkdir(parents=True, exist_ok=False)
                manifest_write(path, project)
                event_record(
                    tenant_id=tenant.pk,
                    type=EventType.PROJECT_DISCOVERED,
                    actor_id=actor_id,
                    project_id=project.pk,
                    payload={
                        "project_id": project.pk,
                        "name": name,
                        "folder": folder,
                        "created": True,
                    },
                )
            return project
        except (IntegrityError, FileExistsError):
            continue  # Someone took the folder between the check and the create: pick again.
    raise PipelineError(f"Could not find a free folder for project {name!r}.")


def project_rename(*, project: Project, name: str, actor_id: int | None = None) -> Project:
    """Change the display name; the folder follows in maintenance (``folder_alignment``)."""
    name = (name or "").strip()
    if not name:
        raise PipelineError("A project needs a name.")
    if problem := name_characters_problem(name, what="A project name"):
        raise PipelineError(problem)
    with transaction.atomic():
        old = project.name
        project.name = name
        project.save(update_fields=["name", "updated_at"])
        event_record(
            tenant_id=project.tenant_id,
            type=EventType.MANIFEST_CHANGED,
            actor_id=actor_id,
            project_id=project.pk,
            payload={"project_id": project.pk, "old_name": old, "name": name},
        )
    return project


def project_archive(*, project: Project, actor_id: int | None = None, reason: str = "") -> bool:
    """Mark a project archived (idempotent). Returns whether it changed.

    The reason is kept on the row: only a project archived because the user deleted it may
    lose its folder (``project_delete``, the scavenger). Deleting an already archived project
    turns its reason into ``deleted``.
    """
    with transaction.atomic():
        changed = Project.objects.filter(pk=project.pk, status=Project.Status.ACTIVE).update(
            status=Project.Status.ARCHIVED, archived_at=timezone.now(), archive_reason=reason
        )
        if not changed and reason == Project.ArchiveReason.DELETED:
            changed = (
                Project.objects.filter(pk=project.pk, status=Project.Status.ARCHIVED)
                .exclude(archive_reason=reason)
                .update(archive_reason=reason)
            )
        if changed:
            project.refresh_from_db()
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.PROJECT_ARCHIVED,
                actor_id=actor_id,
                project_id=project.pk,
                payload={"project_id": project.pk, "reason": reason},
            )
    return bool(changed)
