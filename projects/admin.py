"""Staff admin of tenants and memberships (SPEC §11).

The projects' admin is ``photos/admin_projects.py``: its columns count photos and jobs and its
actions start photo tasks, which this app does not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from projects.admin_scoping import TenantScopedAdminMixin
from projects.models import Membership, Project, Tenant

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TenantCounts(TypedDict):
    """What ``TenantAdmin.get_queryset`` annotates on each tenant."""

    projects_n: int
    members_n: int


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "project_count", "member_count", "created_at")
    search_fields = ("slug", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                projects_n=Coalesce(
                    Subquery(
                        Project.objects.filter(tenant=OuterRef("pk"))
                        .order_by()
                        .values("tenant")
                        .annotate(n=Count("*"))
                        .values("n"),
                        output_field=IntegerField(),
                    ),
                    0,
                ),
                members_n=Coalesce(
                    Subquery(
                        Membership.objects.filter(tenant=OuterRef("pk"))
                        .order_by()
                        .values("tenant")
                        .annotate(n=Count("*"))
                        .values("n"),
                        output_field=IntegerField(),
                    ),
                    0,
                ),
            )
        )

    # Tenants are created by superusers (or the tenant_user command); staff only look.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    @admin.display(description="projects", ordering="projects_n")
    def project_count(self, tenant: WithAnnotations[Tenant, _TenantCounts]) -> int:
        return tenant.projects_n

    @admin.display(description="members", ordering="members_n")
    def member_count(self, tenant: WithAnnotations[Tenant, _TenantCounts]) -> int:
        return tenant.members_n


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "tenant")
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)

    # Who belongs to which tenant decides what they can see: superusers only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
