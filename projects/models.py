"""Tenants, memberships and projects (SPEC §3).

Tenant scoping lives here: ``Project.objects.for_tenant(tenant)`` / ``.for_user(user)`` and the
``TenantScopedQuerySet`` that every other tenant-owned model reuses.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

_M = TypeVar("_M", bound=models.Model)


class TenantScopedQuerySet(models.QuerySet[_M, _M]):
    """A queryset of rows that belong to one tenant through ``tenant_lookup``.

    The one place that turns "who is asking" into "which rows may they see": a superuser sees
    every tenant, anyone else only the tenant of their membership, an anonymous user nothing.
    """

    tenant_lookup = "tenant"

    def for_tenant(self, tenant: Tenant | int | None) -> Self:
        if tenant is None:
            return self.none()
        return self.filter(**{self.tenant_lookup: tenant})

    def for_user(self, user: AbstractBaseUser | AnonymousUser | None) -> Self:
        if user is None or not user.is_authenticated:
            return self.none()
        # ``is_superuser`` comes from PermissionsMixin, which a user model need not have.
        if getattr(user, "is_superuser", False):
            return self.all()
        tenant_id = tenant_id_for_user(user)
        if tenant_id is None:
            return self.none()
        return self.filter(**{f"{self.tenant_lookup}_id": tenant_id})


def _membership_of(user: Any) -> tuple[int | None, str | None]:
    """The user's ``(tenant id, role)``, read once and cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    cached = getattr(user, "_photolib_membership", None)
    if cached is None:
        row = Membership.objects.filter(user_id=user.pk).values_list("tenant_id", "role").first()
        cached = row if row is not None else (None, None)
        user._photolib_membership = cached
    return cached


def tenant_id_for_user(user: Any) -> int | None:
    """The id of the user's tenant, cached on the user object for the request."""
    return _membership_of(user)[0]


def role_of(user: Any) -> str | None:
    """The user's role (``projects.roles.Role``): ``owner`` for a superuser, ``None`` without a
    membership. Cached on the user object for the request, with the tenant id.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_superuser", False):
        return Role.OWNER
    return _membership_of(user)[1]


class TenantQuerySet(TenantScopedQuerySet["Tenant"]):
    tenant_lookup = "pk"

    def for_user(self, user: Any) -> Self:
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        tenant_id = tenant_id_for_user(user)
        return self.filter(pk=tenant_id) if tenant_id is not None else self.none()


class Tenant(models.Model):
    slug = models.SlugField(
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", "Use lowercase letters, digits, - and _.")
        ],
        help_text="Folder name under PHOTOS_ROOT; lowercase letters, digits, - and _.",
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name or self.slug


class Membership(models.Model):
    Role = Role

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    # What the member may do (``projects.roles``); owners may do everything, as every member
    # could before roles existed.
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class ProjectQuerySet(TenantScopedQuerySet["Project"]):
    def active(self) -> Self:
        return self.filter(status=Project.Status.ACTIVE)

    def visible_to(self, user: Any) -> Self:
        """The active projects ``user`` sees (``for_user``): what they may work on."""
        return self.for_user(user).active()


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class ArchiveReason(models.TextChoices):
        NONE = "", "-"
        # The user deleted the project: its folder may be removed (project_delete, scavenger).
        DELETED = "deleted", "Deleted"
        # Maintenance found its folder gone: the folder must never be removed if it comes back.
        FOLDER_MISSING = "folder_missing", "Folder missing"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="projects")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    folder = models.CharField(max_length=240)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_reason = models.CharField(
        max_length=32, choices=ArchiveReason.choices, blank=True, default=""
    )
    # Files in the folder that are neither originals nor sidecars, as folder_check last counted
    # them: never moved by the system, shown so the user can deal with them.
    unaccepted_files = models.PositiveIntegerField(default=0)
    # What the folder and rows looked like when maintenance last checked them in full, so an
    # unchanged project is skipped (photos.reconcile.fingerprint).
    checked_fingerprint = models.JSONField(default=dict, db_default={}, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "folder"], name="project_folder_unique_per_tenant"
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", archived_at__isnull=True, archive_reason="")
                | models.Q(status="archived"),
                name="project_archived_at_only_when_archived",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="project_tenant_status")]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.slug}/{self.folder})"

    @property
    def is_active(self) -> bool:
        """Open for work; an archived (deleted) project takes no new work."""
        return self.status == Project.Status.ACTIVE
