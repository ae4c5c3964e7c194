"""Write paths of projects on disk, in events and in jobs: create, rename, archive, and the
starts of maintenance and discovery (SPEC §3, §5, §9, §12).

A project's row is the projects app's; its folder, manifest, events and tasks are here, where
the files and the engine are known. Every interface calls these: the API, the admin, the
management commands and the job handlers. They return rows or the started task and raise
domain errors (``ApplicationError`` subclasses); each caller turns those into its own reply.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from jobs.events import EventType, event_record
from jobs.tasks import StartedTask, start_task
from photos.manifest import manifest_write
from photos.storage import project_dir, tenant_root
from projects.folders import folder_name_unique
from projects.models import Project, Tenant
from projects.selectors import project_require_active
from projects.services import project_name_clean


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
    name = project_name_clean(name)
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
        except (IntegrityError, FileExistsError):
            continue  # Someone took the folder between the check and the create: pick again.
        else:
            return project
    raise ApplicationError(f"Could not find a free folder for project {name!r}.")


def project_rename(*, project: Project, name: str, actor_id: int | None = None) -> Project:
    """Change the display name; the folder follows in maintenance (``folder_alignment``)."""
    name = project_name_clean(name)
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


# --- starting maintenance and discovery ---------------------------------------------------


def maintenance_start(
    *, tenant: Tenant, project: Project | None = None, source: str, full: bool = False
) -> StartedTask:
    """Start ``maintenance`` of one active project, or ``maintenance_global`` of the tenant.

    The one rule set of every trigger (API, admin, command, discovery, schedules through
    ``source``): single flight (``TaskAlreadyRunning`` when one is queued or running for the
    tenant, and project), ``ProjectArchived`` for an archived project, ``ApplicationError`` for a
    project of another tenant. ``full``: check every project of a ``maintenance_global``, even
    those unchanged since their last check (``photos.reconcile.fingerprint``).
    """
    if project is not None:
        if project.tenant_id != tenant.pk:
            raise ApplicationError(f"Project {project.pk} belongs to another tenant.")
        project_require_active(project)
    task_type = "maintenance" if project is not None else "maintenance_global"
    return start_task(
        task_type,
        tenant,
        project=project,
        source=source,
        single_flight=True,
        payload={"full": True} if full else None,
    )


def discovery_start(*, tenant: Tenant, source: str) -> StartedTask:
    """Start ``folder_discovery`` over the tenant root (single flight, like maintenance)."""
    return start_task("folder_discovery", tenant, source=source, single_flight=True)
