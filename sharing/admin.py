"""Share links in the admin (SPEC §11, §18): the studio's links with their counters, and a
"Revoke" action. Tenant-scoped like every admin (``TenantScopedAdminMixin``).

Links are made from the workspace or the API, where the token can be shown once; the admin
lists and revokes them, and changes what ``share_update`` changes (never the token, the
password or the photos, whose visibility is the visibility service's).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.api.throttling import RateLimited, throttle_check
from core.errors import ApplicationError
from projects.admin_scoping import TenantScopedAdminMixin
from projects.roles import Action

from .models import ShareLink
from .selectors import shares_for_user
from .services import share_revoke, share_update

EDITABLE = ["title", "message", "expires_at", "downloads", "watermark", "allow_picks"]


@admin.register(ShareLink)
class ShareLinkAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "photos",
        "expires_at",
        "revoked",
        "view_count",
        "download_count",
        "picks",
        "created_at",
    ]
    list_filter = ["downloads", "allow_picks", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "token_hint"]
    date_hierarchy = "created_at"
    actions = ["revoke"]
    fields = [
        *EDITABLE,
        "token_hint",
        "created_by",
        "created_at",
        "revoked_at",
        "view_count",
        "download_count",
    ]
    readonly_fields = [
        "token_hint",
        "created_by",
        "created_at",
        "revoked_at",
        "view_count",
        "download_count",
    ]
    role_change_action = Action.SHARE
    role_delete_action = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShareLink]:
        scoped = super().get_queryset(request)
        # The counters as subqueries of the list's one query (no query per row).
        return shares_for_user(request.user).filter(pk__in=scoped.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # The token is shown once: links are made in the workspace or the API.

    @admin.display(description="photos", ordering="photo_count")
    def photos(self, link: Any) -> int:
        return link.photo_count

    @admin.display(description="picks", ordering="picks_count")
    def picks(self, link: Any) -> int:
        return link.picks_count

    @admin.display(description="revoked", boolean=True, ordering="revoked_at")
    def revoked(self, link: ShareLink) -> bool:
        return link.revoked_at is not None

    def has_share_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.SHARE)

    @admin.action(description="Revoke (the links answer 404 at once)", permissions=["share"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        try:
            throttle_check(scope="bulk", user=request.user)
        except RateLimited as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        count = 0
        for link in queryset:
            if link.revoked_at is None:
                share_revoke(user=request.user, share_id=link.pk)
                count += 1
        self.message_user(request, f"{count} link(s) revoked.", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: ShareLink, form: Any, change: bool) -> None:
        # Through the service: its checks, its event; a refusal is shown, nothing is saved.
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE}
        try:
            share_update(user=request.user, share_id=obj.pk, changes=changes)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
