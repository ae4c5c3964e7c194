"""Share links in the admin (SPEC §11, §18): the studio's links with their counters, and a
"Revoke" action. Tenant-scoped like every admin (``TenantScopedAdminMixin``).

Links are made in the workspace (a selection), through the API, or here: "Add share link" makes
a link of one project's photos, optionally only those rated at least N stars (the filter's
result, SPEC §18), through ``share_create``; its URL, with the token, is shown once in the
page's message. The admin lists and revokes links, and changes what ``share_update`` changes
(never the token, the password or the photos, whose visibility is the visibility service's).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from core.api.throttling import RateLimited, throttle_check
from core.errors import ApplicationError
from core.limits import MAX_ITEMS_PER_JOB
from photos.models import Photo
from projects.admin_scoping import TenantScopedAdminMixin
from projects.models import Project
from projects.roles import Action

from .models import ShareLink
from .selectors import shares_for_user
from .services import share_create, share_revoke, share_update

EDITABLE = ["title", "message", "expires_at", "downloads", "watermark", "allow_picks"]
# Where a client opens a link (as the API's reply says it).
GALLERY_PATH = "/s/{token}/"


class ShareCreateForm(forms.ModelForm):
    """A new link: its settings, and which photos (one project's, rated at least N)."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    rating_min = forms.TypedChoiceField(
        label="Photos rated at least",
        choices=[(0, "any rating"), *[(n, f"{n} ★") for n in range(1, 6)]],
        coerce=int,
        initial=0,
    )
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional: the client types it once per browser.",
    )

    class Meta:
        model = ShareLink
        fields = [*EDITABLE]

    user: Any = None  # set by ``ShareLinkAdmin.get_form``

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        expires = self.fields["expires_at"]
        expires.required = False
        expires.help_text = "Empty: in 30 days."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        project = data.get("project")
        if project is None:
            return data
        photos = Photo.objects.visible_to(self.user).filter(project=project)
        if data.get("rating_min"):
            photos = photos.filter(rating__gte=data["rating_min"])
        ids = list(photos.order_by("taken_at", "basename").values_list("pk", flat=True))
        if not ids:
            raise forms.ValidationError("No photo of that project matches.")
        if len(ids) > MAX_ITEMS_PER_JOB:
            raise forms.ValidationError(
                f"{len(ids)} photos match: a link is made of at most {MAX_ITEMS_PER_JOB}."
            )
        data["photo_ids"] = ids
        return data


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
        return self.action_allowed(request, Action.SHARE)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["title", "message", "project", "rating_min", *EDITABLE[2:], "password"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ShareCreateForm
            kwargs["fields"] = None
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            project_field = form.base_fields["project"]
            assert isinstance(project_field, forms.ModelChoiceField)
            project_field.queryset = Project.objects.visible_to(request.user)
            form.user = request.user  # type: ignore[attr-defined]
        return form

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
        if not change:
            self._create(request, obj, form)
            return
        # Through the service: its checks, its event; a refusal is shown, nothing is saved.
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE}
        try:
            share_update(user=request.user, share_id=obj.pk, changes=changes)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def _create(self, request: HttpRequest, obj: ShareLink, form: ShareCreateForm) -> None:
        """Make the link through ``share_create`` (its checks, the photos made public, its
        event) and show its URL once; a refusal is shown and nothing is made."""
        data = form.cleaned_data
        ids = data["photo_ids"]
        created = share_create(
            user=request.user,
            title=data["title"],
            photo_ids=ids,
            message=data.get("message") or "",
            expires_at=data.get("expires_at"),
            password=data.get("password") or "",
            downloads=data["downloads"],
            watermark=data.get("watermark") or "",
            allow_picks=data["allow_picks"],
        )
        assert created.link is not None
        assert created.token is not None
        obj.pk = created.link.pk
        url = request.build_absolute_uri(GALLERY_PATH.format(token=created.token))
        self.message_user(
            request,
            f"The link of {len(created.photo_ids)} photo(s), made public: {url} "
            "(copy it now: it is shown only this once).",
            messages.SUCCESS,
        )

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        # A refusal of the service is shown; its transaction rolled back, nothing is made.
        try:
            return super().add_view(request, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
