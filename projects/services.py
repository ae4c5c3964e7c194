"""Write paths for tenants, users and projects: create, rename, archive, and the starts of
maintenance, discovery and any task by name (SPEC §3, §5, §9, §12).

Every interface calls these: the API, the admin, the management commands and the job
handlers. They return rows or the started task and raise domain errors (``ApplicationError``
subclasses); each caller turns those into its own reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.errors import ApplicationError
from jobs.events import EventType, event_record
from jobs.exceptions import TaskNotStartable
from jobs.tasks import StartedTask, start_task, task_definition
from photos.manifest import manifest_write
from photos.storage import project_dir, tenant_root

from .folders import folder_name_unique
from .models import Membership, Project, Tenant
from .names import name_characters_problem, name_normalize
from .roles import Role
from .selectors import project_require_active

# Started only by their own use case, never by name: deleting a project also archives it and
# frees its folder name (``projects.deletion.project_delete``).
TASKS_NOT_STARTABLE_BY_NAME = {
    "project_delete": "A project_delete task starts only by deleting its project.",
    "export": "An export task starts only through POST /api/exports/.",
}


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


def project_name_clean(name: str) -> str:
    """A project name stripped and in NFC (SPEC §4); ``ApplicationError`` when it is empty or
    holds control, invisible or base-less combining characters (``projects.names``)."""
    name = name_normalize((name or "").strip())
    if not name:
        raise ApplicationError("A project needs a name.")
    if problem := name_characters_problem(name, what="A project name"):
        raise ApplicationError(problem)
    return name


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
            return project
        except (IntegrityError, FileExistsError):
            continue  # Someone took the folder between the check and the create: pick again.
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


# --- tenants and users --------------------------------------------------------------------


class MembershipConflict(ApplicationError):
    """The user already belongs to another tenant (a user has one tenant)."""

    def __init__(self, username: str, tenant_slug: str) -> None:
        super().__init__(f"User {username} already belongs to tenant {tenant_slug}.")
        self.username = username
        self.tenant_slug = tenant_slug


@dataclass(frozen=True)
class TenantUser:
    tenant: Tenant
    user: Any
    token: str
    tenant_created: bool
    user_created: bool


def tenant_user_ensure(
    *,
    slug: str,
    username: str,
    password: str | None = None,
    staff: bool = False,
    superuser: bool = False,
    role: str | None = None,
    tenant_name: str | None = None,
) -> TenantUser:
    """The tenant ``slug`` and its user ``username``, created when missing (idempotent).

    One transaction: a refused slug or a user of another tenant (``MembershipConflict``)
    writes nothing. A new tenant is named ``tenant_name`` (default: the slug). ``role``
    (``projects.roles.Role``) sets the membership's role, new or existing; a new membership
    without one is an ``owner``, an existing one keeps its role. ``password`` replaces the user's; a new user without one gets an unusable password.
    Staff get the admin permissions. The user's API token is created when missing.
    """
    try:
        Tenant._meta.get_field("slug").run_validators(slug)
    except ValidationError as exc:
        raise ApplicationError(f"Invalid tenant slug {slug!r}: {exc}") from exc
    if role is not None and role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    is_staff = staff or superuser
    with transaction.atomic():
        tenant, tenant_created = Tenant.objects.get_or_create(
            slug=slug, defaults={"name": tenant_name or slug}
        )
        user, user_created = get_user_model().objects.get_or_create(username=username)
        membership = Membership.objects.select_related("tenant").filter(user=user).first()
        if membership is not None and membership.tenant_id != tenant.pk:
            raise MembershipConflict(user.get_username(), membership.tenant.slug)
        if membership is None:
            Membership.objects.create(user=user, tenant=tenant, role=role or Role.OWNER)
        elif role is not None and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        if password:
            user.set_password(password)
        elif user_created:
            user.set_unusable_password()
        if is_staff:
            user.is_staff = True
        if superuser:
            user.is_superuser = True
        user.save()
        if is_staff:
            staff_permissions_grant(user=user)
        token, _ = Token.objects.get_or_create(user=user)
    return TenantUser(
        tenant=tenant,
        user=user,
        token=token.key,
        tenant_created=tenant_created,
        user_created=user_created,
    )


# --- starting tasks -----------------------------------------------------------------------


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


def task_start(
    *,
    tenant: Tenant,
    task_type: str,
    project: Project | None = None,
    scope: str | None = None,
    items: Sequence[Any] | None = None,
    payload: dict[str, Any] | None = None,
    source: str,
) -> StartedTask:
    """Start a task by name for the tenant (``POST /api/tasks/``, ``manage.py start_task``).

    ``UnknownTaskType`` for a name no definition has; ``TaskNotStartable`` for a task that
    only its use case starts (``project_delete``: its project must be archived and its folder
    name freed in the same transaction, which ``projects.deletion.project_delete`` does);
    ``ProjectArchived`` for new work on an archived project. Single-flight types (maintenance,
    discovery) raise ``TaskAlreadyRunning`` when one is queued or running, as the scheduler's do.
    """
    definition = task_definition(task_type)
    if task_type in TASKS_NOT_STARTABLE_BY_NAME:
        raise TaskNotStartable(task_type, TASKS_NOT_STARTABLE_BY_NAME[task_type])
    if project is not None:
        if project.tenant_id != tenant.pk:
            raise ApplicationError(f"Project {project.pk} belongs to another tenant.")
        project_require_active(project)
    return start_task(
        task_type,
        tenant,
        project=project,
        scope=scope,
        items=items,
        payload=payload,
        source=source,
        single_flight=definition.single_flight,
    )


# Models whose rows belong to a tenant; staff get every permission on them (see below).
STAFF_APPS = ("projects", "photos", "jobs")
STAFF_EXCLUDED_MODELS = ("tenant", "membership")
# Lanes are shared by every tenant: one studio pausing them would stop all studios' work, so
# changing a lane stays with superusers (operators); staff keep the view permission.
STAFF_EXCLUDED_PERMISSIONS = ("add_lanestate", "change_lanestate", "delete_lanestate")


def staff_permissions_grant(*, user: Any) -> None:
    """Give a staff user every permission on the tenant-owned models (scoping limits the rows).

    Tenants, memberships and changing the shared lanes stay with superusers. Mirrors
    ``tenant_user --staff``.
    """
    perms = (
        Permission.objects.filter(content_type__app_label__in=STAFF_APPS)
        .exclude(content_type__model__in=STAFF_EXCLUDED_MODELS)
        .exclude(content_type__app_label="jobs", codename__in=STAFF_EXCLUDED_PERMISSIONS)
    )
    user.user_permissions.add(*perms)
    # Take back what an earlier grant gave, so re-running ``tenant_user --staff`` converges.
    user.user_permissions.remove(
        *Permission.objects.filter(
            content_type__app_label="jobs", codename__in=STAFF_EXCLUDED_PERMISSIONS
        )
    )
