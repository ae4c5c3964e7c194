"""Tenant scoping for every ModelAdmin (SPEC §11, §14).

Staff see and act on their own tenant's rows only; superusers see every tenant and get a tenant
filter and column. Every admin of a tenant-owned model mixes in ``TenantScopedAdminMixin``:

- ``get_queryset`` starts from ``.for_user(request.user)`` (the one place of tenant scoping);
- foreign-key and many-to-many choices are limited to the user's tenant;
- related list filters list only the user's tenant's rows (Django's default lists every row of
  the related table, which would reveal other tenants' project names);
- object permissions: a staff user may view, change or delete an object only of their tenant;
- roles (SPEC §14): viewing needs ``Action.READ``, changing, adding and deleting the actions the
  admin names in ``role_change_action`` and kin, and every admin action declares its
  ``Action`` through ``permissions=[...]`` (``has_commit_permission`` and kin below), so Django
  offers a member only the actions their role allows and refuses a POST of another. The
  answers come from ``projects.permissions.may``, the table the API and the workspace read.
  Superusers keep every permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.models import tenant_id_for_user
from projects.permissions import may
from projects.roles import Action


def admin_may(user: Any, action: str | None) -> bool:
    """Whether ``user`` may take ``action`` in the admin: a superuser always, else their role;
    ``None`` (no action of the roles table covers it) is for superusers only."""
    if getattr(user, "is_superuser", False):
        return True
    return action is not None and may(user, action)


def scoped_choices(model: type[models.Model], user: Any) -> QuerySet | None:
    """The rows of ``model`` that ``user`` may pick or filter by, or ``None`` if not scoped."""
    if model is get_user_model():
        if user.is_superuser:
            return model._default_manager.all()
        return model._default_manager.filter(membership__tenant_id=tenant_id_for_user(user))
    queryset = model._default_manager.get_queryset()
    if not hasattr(queryset, "for_user"):
        return None
    queryset = queryset.for_user(user)
    # Project.__str__ reads its tenant: fetch it with the row, not once per choice.
    if any(f.name == "tenant" and f.is_relation for f in model._meta.fields):
        queryset = queryset.select_related("tenant")
    return queryset


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related filter that offers only rows of the user's tenant."""

    def field_choices(self, field, request, model_admin):
        choices = scoped_choices(field.related_model, request.user)
        if choices is None:
            # Not a tenant-owned model: offer only values that occur in the scoped rows.
            return admin.RelatedOnlyFieldListFilter.field_choices(self, field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            choices = choices.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in choices]


class TenantScopedAdminMixin:
    """Mix into a ``ModelAdmin`` of a model whose default manager is a ``TenantScopedQuerySet``.

    ``tenant_path`` (derived from the queryset's ``tenant_lookup`` when not set) is the lookup
    from the model to its tenant, e.g. ``"tenant"`` or ``"project__tenant"``.
    """

    tenant_path: str | None = None
    # What adding, changing and deleting rows is in the roles table; ``None``: superusers only.
    # Viewing is ``Action.READ``.
    role_add_action: str | None = None
    role_change_action: str | None = None
    role_delete_action: str | None = None

    # --- which rows ----------------------------------------------------------------------

    def get_tenant_path(self) -> str:
        if self.tenant_path:
            return self.tenant_path
        queryset = self.model._default_manager.get_queryset()  # type: ignore[attr-defined]
        lookup = getattr(queryset, "tenant_lookup", None)
        if lookup is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: {self.model.__name__} is not tenant-scoped."  # type: ignore[attr-defined]
            )
        return lookup

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if not hasattr(queryset, "for_user"):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: the queryset of {self.model.__name__} has no for_user()."  # type: ignore[attr-defined]
            )
        return queryset.for_user(request.user)

    def object_tenant_id(self, obj: models.Model) -> int | None:
        """The tenant id of ``obj``, following ``tenant_path`` (``pk`` for a tenant itself)."""
        path = self.get_tenant_path()
        if path == "pk":
            return obj.pk
        *hops, last = path.split("__")
        target: Any = obj
        for hop in hops:
            target = getattr(target, hop, None)
            if target is None:
                return None
        return getattr(target, f"{last}_id", None)

    def user_owns(self, request: HttpRequest, obj: models.Model | None) -> bool:
        user = request.user
        if obj is None or user.is_superuser:
            return True
        tenant_id = tenant_id_for_user(user)
        return tenant_id is not None and self.object_tenant_id(obj) == tenant_id

    # --- object permissions --------------------------------------------------------------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_view_permission(request, obj)  # type: ignore[misc]
            and self.user_owns(request, obj)
            and admin_may(request.user, Action.READ)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and admin_may(  # type: ignore[misc]
            request.user, self.role_add_action
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_change_permission(request, obj)  # type: ignore[misc]
            and self.user_owns(request, obj)
            and admin_may(request.user, self.role_change_action)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_delete_permission(request, obj)  # type: ignore[misc]
            and self.user_owns(request, obj)
            and admin_may(request.user, self.role_delete_action)
        )

    # --- the admin actions' permissions (``@admin.action(permissions=["commit"])``) --------
    # An action needs the model's Django "change" permission (staff get it from
    # ``staff_permissions_grant``) and a role that may take the action.

    def action_allowed(self, request: HttpRequest, action: str) -> bool:
        opts = self.model._meta  # type: ignore[attr-defined]
        codename = get_permission_codename("change", opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}") and admin_may(
            request.user, action
        )

    def has_cull_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.CULL)

    def has_process_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.PROCESS)

    def has_move_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.MOVE)

    def has_commit_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.COMMIT)

    def has_revert_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.REVERT)

    def has_maintenance_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.MAINTENANCE)

    def has_job_control_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.JOB_CONTROL)

    # --- form choices --------------------------------------------------------------------

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = scoped_choices(db_field.related_model, request.user)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = scoped_choices(db_field.related_model, request.user)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    # --- list filters and columns --------------------------------------------------------

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters: list[Any] = []
        for entry in super().get_list_filter(request):  # type: ignore[misc]
            if isinstance(entry, str) and self._is_relation_path(entry):
                entry = (entry, ScopedRelatedFieldListFilter)
            filters.append(entry)
        path = self.get_tenant_path()
        if request.user.is_superuser and path != "pk":
            filters.append((path, admin.RelatedFieldListFilter))
        return filters

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if request.user.is_superuser and self.get_tenant_path() != "pk":
            columns.append("tenant_column")
        return columns

    def get_list_select_related(self, request: HttpRequest) -> Any:
        related = super().get_list_select_related(request)  # type: ignore[misc]
        path = self.get_tenant_path()
        if not request.user.is_superuser or path == "pk" or related is True:
            return related
        return [*(related or ()), path]

    @admin.display(description="tenant")
    def tenant_column(self, obj: models.Model) -> str:
        target: Any = obj
        for hop in self.get_tenant_path().split("__"):
            target = getattr(target, hop, None)
            if target is None:
                return "-"
        return target.slug

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)  # type: ignore[misc]
        if self.get_tenant_path() == "tenant" and not request.user.is_superuser:
            initial.setdefault("tenant", tenant_id_for_user(request.user))
        return initial

    def _is_relation_path(self, path: str) -> bool:
        model = self.model  # type: ignore[attr-defined]
        field = None
        for part in path.split("__"):
            try:
                field = model._meta.get_field(part)
            except Exception:
                return False
            if not field.is_relation:
                return False
            model = field.related_model
        return field is not None
