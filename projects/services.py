"""Write paths for tenants and users, and the rule of a project's name (SPEC §3, §12).

Every interface calls these: the API, the admin and the management commands. They return rows
and raise domain errors (``ApplicationError`` subclasses); each caller turns those into its own
reply. What a project does on disk, in events and in jobs (create, rename, archive, delete,
maintenance) is the photos app's (``photos.services.projects``): projects know neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.errors import ApplicationError

from .models import Membership, Tenant
from .names import name_characters_problem, name_normalize
from .roles import Role


def project_name_clean(name: str) -> str:
    """A project name stripped and in NFC (SPEC §4); ``ApplicationError`` when it is empty or
    holds control, invisible or base-less combining characters (``projects.names``)."""
    name = name_normalize((name or "").strip())
    if not name:
        raise ApplicationError("A project needs a name.")
    if problem := name_characters_problem(name, what="A project name"):
        raise ApplicationError(problem)
    return name


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


# Models whose rows belong to a tenant; staff get every permission on them (see below).
STAFF_APPS = ("projects", "photos", "jobs", "sharing")
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
