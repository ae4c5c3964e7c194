"""Staff admin of photos and tags (SPEC §11): thumbnails, filters, bulk actions and each
photo's history.

Photo forms are read-only here: keep flags, ratings, labels and tags change only through the
API's services (the bulk actions of the photo list call them, after a confirmation page), which
write the events that make up a photo's history. Each action is offered only to the roles that
may take it (keep, discard, rate, label, tag: ``cull``; move; re-process: ``process``) and counts
once against the API's ``bulk`` throttle of its user (``core.api.throttling.throttle_check``). A staff-only view serves thumbnails
from ``photos.storage.thumbnail_path`` (the photo is looked up through the user's scope).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.api.throttling import RateLimited, throttle_check
from core.errors import ApplicationError
from core.limits import MAX_ITEMS_PER_JOB
from jobs.models import Event, JobItem
from photos import admin_projects  # noqa: F401 (registers the projects' admin)
from photos import services as photo_services
from photos.fsrules import UnsafePath
from photos.history import photo_history
from photos.models import (
    PENDING_DELETE_Q,
    RATING_MAX,
    DerivativeStatus,
    Label,
    Photo,
    PhotoInTrash,
    Tag,
)
from photos.project_deletion import project_folder_exists
from photos.services.restore import photos_restore, trash_entries
from photos.storage import thumbnail_path
from projects.admin_scoping import TenantScopedAdminMixin
from projects.models import Project
from projects.roles import Action

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TagCounts(TypedDict):
    """What ``TagAdmin.get_queryset`` annotates on each tag."""

    photos_n: int


HISTORY_LIMIT = 100


class PendingDeleteFilter(admin.SimpleListFilter):
    title = "pending delete"
    parameter_name = "pending_delete"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(PENDING_DELETE_Q)
        if self.value() == "no":
            return queryset.exclude(PENDING_DELETE_Q)
        return queryset


class DerivativeStatusFilter(admin.SimpleListFilter):
    """Thumbnail or preview in a given state (a photo with either matching is listed)."""

    title = "derivative status"
    parameter_name = "derivatives"

    def lookups(self, request, model_admin):
        return [*DerivativeStatus.choices, ("none", "Not set")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(thumbnail_status__isnull=True, preview_status__isnull=True)
        if value in DerivativeStatus.values:
            return queryset.filter(Q(thumbnail_status=value) | Q(preview_status=value))
        return queryset


class TagNameFilter(admin.SimpleListFilter):
    """Tag names of the user's tenant only (tags are per project; one name may span several)."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        names = (
            Tag.objects.for_user(request.user)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()[:200]
        )
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        tagged = Photo.tags.through.objects.filter(photo_id=OuterRef("pk"), tag__name=self.value())
        return queryset.filter(Exists(tagged))


# --- bulk actions: the API's services behind the admin's intermediate confirmation pages ----


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, "★" * n or "no stars") for n in range(RATING_MAX + 1)], coerce=int
    )


class LabelForm(forms.Form):
    label = forms.ChoiceField(choices=Label.choices)


class TagForm(forms.Form):
    tag = forms.CharField(max_length=100, strip=True)


class MoveForm(forms.Form):
    dest_project = forms.ModelChoiceField(
        queryset=Project.objects.none(), label="Destination project"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["dest_project"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Project.objects.visible_to(user).select_related("tenant").order_by("name")


class BulkOutcome:
    """What one bulk service call did, whatever shape the service returns it in.

    The one adapter between the services' replies and the admin's messages: services answer
    with a reply dict or an object with the same attributes.
    """

    def __init__(self, result: Any) -> None:
        get = result.get if isinstance(result, dict) else lambda k, d=None: getattr(result, k, d)
        self.updated = int(get("updated", 0) or 0)
        self.errors = list(get("errors", None) or [])
        self.task_id = get("task_id", None)
        self.detail = get("detail", None)


def bulk_run(service: Any, items: list[dict[str, Any]], **kwargs: Any) -> list[BulkOutcome]:
    """Call ``service`` over ``items`` in chunks the services accept (2,000 at most)."""
    return [
        BulkOutcome(service(items=items[i : i + MAX_ITEMS_PER_JOB], **kwargs))
        for i in range(0, len(items), MAX_ITEMS_PER_JOB)
    ]


def keep_items(photos: Iterable[Photo], *, jpg: bool, raw: bool) -> list[dict[str, Any]]:
    """Keep-flag items for the files each photo has (a flag of a missing file stays as is)."""
    items = []
    for photo in photos:
        item: dict[str, Any] = {"photo_id": photo.pk}
        if photo.jpg_available:
            item["keep_jpg"] = jpg
        if photo.raw_available:
            item["keep_raw"] = raw
        if len(item) > 1:
            items.append(item)
    return items


@admin.register(Photo)
class PhotoAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    # What fits 1440 px beside the filters (tests/browser/test_admin_tables_browser.py): the
    # files column says keep/discard (a pending delete), the thumbnail its state when there is
    # none; camera, ISO and derivative states are filters and the photo page.
    list_display = (
        "thumbnail_column",
        "basename",
        "project_column",
        "files_column",
        "taken_column",
        "rating_column",
        "tags_column",
    )
    list_display_links = ("thumbnail_column", "basename")
    list_filter = (
        "project",
        PendingDeleteFilter,
        DerivativeStatusFilter,
        TagNameFilter,
        "rating",
        "label",
        "visibility",
        "jpg_available",
        "raw_available",
        ("taken_at", admin.DateFieldListFilter),
    )
    # As the API lists photos: capture time (missing dates last), then base name.
    ordering = (F("taken_at").asc(nulls_last=True), "basename", "id")  # type: ignore[assignment]
    list_select_related = ("project",)
    list_per_page = 100
    actions = (
        "keep_jpg_only",
        "keep_raw_only",
        "keep_both",
        "discard",
        "rate",
        "set_label",
        "add_tag",
        "move_to_project",
        "reprocess",
    )
    search_fields = ("basename", "camera", "lens")
    role_change_action = Action.CULL
    fieldsets = (
        (None, {"fields": ("thumbnail_large", ("basename", "ext"), "project", "tags_column")}),
        (
            "Files and culling",
            {
                "fields": (
                    ("jpg_available", "keep_jpg"),
                    ("raw_available", "keep_raw"),
                    "other_available",
                    "pending_delete_column",
                    "visibility",
                )
            },
        ),
        (
            "Derivatives and EXIF",
            {
                "fields": (
                    ("thumbnail_status", "preview_status"),
                    ("taken_at", "orientation"),
                    ("width", "height"),
                    ("camera", "lens"),
                    ("focal_length", "aperture", "shutter", "iso"),
                    ("rating", "label"),
                    "metadata",
                )
            },
        ),
        ("Timestamps", {"fields": (("created_at", "updated_at"),)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Photo]:
        return super().get_queryset(request).prefetch_related("tags")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            *(f.name for f in Photo._meta.fields),
            "thumbnail_large",
            "tags_column",
            "pending_delete_column",
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Photos come from uploads and folder scans, never typed in.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Discarding goes through keep flags and commit, which moves the files to the trash.
        return False

    # --- columns ---

    def _thumb_url(self, photo: Photo) -> str:
        return reverse("admin:photos_photo_thumbnail", args=[photo.pk])

    @admin.display(description="thumbnail")
    def thumbnail_column(self, photo: Photo) -> str:
        if photo.thumbnail_status != DerivativeStatus.GENERATED:
            return format_html('<span class="pl-muted">{}</span>', photo.thumbnail_status or "–")
        return format_html(
            '<img class="pl-thumb" src="{}" alt="{}" loading="lazy">',
            self._thumb_url(photo),
            photo.basename,
        )

    @admin.display(description="thumbnail")
    def thumbnail_large(self, photo: Photo) -> str:
        if photo.thumbnail_status != DerivativeStatus.GENERATED:
            return f"No thumbnail ({photo.thumbnail_status or 'not generated yet'})."
        return format_html(
            '<img class="pl-thumb-large" src="{}" alt="{}">', self._thumb_url(photo), photo.basename
        )

    @admin.display(description="project", ordering="project__name")
    def project_column(self, photo: Photo) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:projects_project_change", args=[photo.project_id]),
            photo.project.name,
        )

    @admin.display(description="files (keep)")
    def files_column(self, photo: Photo) -> str:
        parts = []
        for label, available, keep in (
            ("JPG", photo.jpg_available, photo.keep_jpg),
            ("RAW", photo.raw_available, photo.keep_raw),
        ):
            if available:
                parts.append(f"{label} {'keep' if keep else 'discard'}")
        if photo.other_available:
            parts.append(photo.ext.upper() or "other")
        return ", ".join(parts) or "none"

    @admin.display(description="thumbnail / preview", ordering="thumbnail_status")
    def derivatives_column(self, photo: Photo) -> str:
        return f"{photo.thumbnail_status or '–'} / {photo.preview_status or '–'}"

    @admin.display(description="pending delete", boolean=True)
    def pending_delete_column(self, photo: Photo) -> bool:
        return photo.pending_delete

    @admin.display(description="taken", ordering="taken_at")
    def taken_column(self, photo: Photo) -> str:
        """Short local date and time; the exact one on hover."""
        if photo.taken_at is None:
            return "–"
        local = timezone.localtime(photo.taken_at)
        return format_html(
            '<time datetime="{0}" title="{0}">{1}</time>',
            photo.taken_at.isoformat(),
            local.strftime("%-d %b %Y %H:%M"),
        )

    @admin.display(description="rating · label", ordering="rating")
    def rating_column(self, photo: Photo) -> str:
        stars = "★" * photo.rating if photo.rating else "–"
        if photo.label == Label.NONE:
            return stars
        return format_html('{} <span class="pl-muted">{}</span>', stars, photo.get_label_display())

    @admin.display(description="tags")
    def tags_column(self, photo: Photo) -> str:
        return ", ".join(sorted(tag.name for tag in photo.tags.all())) or "–"

    # --- bulk actions ---

    def _confirm(
        self,
        request: HttpRequest,
        queryset: QuerySet[Photo],
        *,
        action: str,
        what: str,
        form: forms.Form | None = None,
    ) -> TemplateResponse:
        """The intermediate page: what will happen to how many photos, and the action's input."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Are you sure?",
            "opts": self.model._meta,
            "action": action,
            "what": what,
            "form": form,
            "count": queryset.count(),
            "photos": queryset.select_related("project")[:50],
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/photos/photo/bulk_confirm.html", context)

    def _report(self, request: HttpRequest, outcomes: list[BulkOutcome], done: str) -> None:
        updated = sum(o.updated for o in outcomes)
        tasks = [o.task_id for o in outcomes if o.task_id]
        errors = [e for o in outcomes for e in o.errors]
        if tasks:
            self.message_user(
                request, f"{done}: task {', '.join(map(str, tasks))}.", messages.SUCCESS
            )
        elif updated:
            self.message_user(request, f"{done}: {updated} photo(s) changed.", messages.SUCCESS)
        else:
            self.message_user(request, f"{done}: nothing changed.", messages.INFO)
        for error in errors[:10]:
            self.message_user(
                request, f"Photo {error.get('photo_id')}: {error.get('error')}", messages.WARNING
            )
        if len(errors) > 10:
            self.message_user(request, f"… and {len(errors) - 10} more refused.", messages.WARNING)

    def _throttled(self, request: HttpRequest, what: str) -> bool:
        """Count one bulk change against the user's API ``bulk`` throttle; ``True`` (and a
        message with the wait) when refused."""
        try:
            throttle_check(user=request.user, scope="bulk")
        except RateLimited as exc:
            self.message_user(request, f"{what}: {exc}", messages.ERROR)
            return True
        return False

    def _keep_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Photo],
        *,
        action: str,
        jpg: bool,
        raw: bool,
        what: str,
    ) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, action=action, what=what)
        if self._throttled(request, what):
            return None
        items = keep_items(
            queryset.select_related(None)
            .prefetch_related(None)
            .only("pk", "jpg_available", "raw_available"),
            jpg=jpg,
            raw=raw,
        )
        outcomes = bulk_run(photo_services.photos_keep_update, items, user=request.user)
        self._report(request, outcomes, what)
        return None

    @admin.action(description="Keep JPG only (discard the RAW)", permissions=["cull"])
    def keep_jpg_only(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        return self._keep_action(
            request, queryset, action="keep_jpg_only", jpg=True, raw=False, what="Keep JPG only"
        )

    @admin.action(description="Keep RAW only (discard the JPG)", permissions=["cull"])
    def keep_raw_only(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        return self._keep_action(
            request, queryset, action="keep_raw_only", jpg=False, raw=True, what="Keep RAW only"
        )

    @admin.action(description="Keep both JPG and RAW", permissions=["cull"])
    def keep_both(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        return self._keep_action(
            request, queryset, action="keep_both", jpg=True, raw=True, what="Keep both"
        )

    @admin.action(description="Discard (JPG and RAW to the trash at commit)", permissions=["cull"])
    def discard(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        return self._keep_action(
            request, queryset, action="discard", jpg=False, raw=False, what="Discard"
        )

    def _form_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Photo],
        *,
        action: str,
        what: str,
        form_class: Any,
        run: Any,
        **form_kwargs: Any,
    ) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request, queryset, action=action, what=what, form=form_class(**form_kwargs)
            )
        form = form_class(request.POST, **form_kwargs)
        if not form.is_valid():
            return self._confirm(request, queryset, action=action, what=what, form=form)
        if self._throttled(request, what):
            return None
        ids = list(queryset.values_list("pk", flat=True))
        try:
            outcomes = run(ids, form.cleaned_data)
        except (ApplicationError, Http404) as exc:
            self.message_user(request, f"{what}: {exc}", messages.ERROR)
            return None
        self._report(request, outcomes, what)
        return None

    @admin.action(description="Rate…", permissions=["cull"])
    def rate(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        def run(ids: list[int], data: dict[str, Any]) -> list[BulkOutcome]:
            items = [{"photo_id": pk, "rating": data["rating"]} for pk in ids]
            return bulk_run(photo_services.photos_rating_update, items, user=request.user)

        return self._form_action(
            request, queryset, action="rate", what="Rate", form_class=RatingForm, run=run
        )

    @admin.action(description="Set colour label…", permissions=["cull"])
    def set_label(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        def run(ids: list[int], data: dict[str, Any]) -> list[BulkOutcome]:
            items = [{"photo_id": pk, "label": data["label"]} for pk in ids]
            return bulk_run(photo_services.photos_rating_update, items, user=request.user)

        return self._form_action(
            request, queryset, action="set_label", what="Label", form_class=LabelForm, run=run
        )

    @admin.action(description="Add tag…", permissions=["cull"])
    def add_tag(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        def run(ids: list[int], data: dict[str, Any]) -> list[BulkOutcome]:
            items = [{"photo_id": pk, "tags": [data["tag"]]} for pk in ids]
            return bulk_run(photo_services.photos_tags_add, items, user=request.user)

        return self._form_action(
            request, queryset, action="add_tag", what="Add tag", form_class=TagForm, run=run
        )

    @admin.action(description="Move to project…", permissions=["move"])
    def move_to_project(
        self, request: HttpRequest, queryset: QuerySet[Photo]
    ) -> HttpResponse | None:
        def run(ids: list[int], data: dict[str, Any]) -> list[BulkOutcome]:
            items = [{"photo_id": pk} for pk in ids]
            return bulk_run(
                photo_services.photos_move,
                items,
                user=request.user,
                dest_project_id=data["dest_project"].pk,
            )

        return self._form_action(
            request,
            queryset,
            action="move_to_project",
            what="Move",
            form_class=MoveForm,
            run=run,
            user=request.user,
        )

    @admin.action(
        description="Re-process (thumbnails, previews, metadata)", permissions=["process"]
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, action="reprocess", what="Re-process")
        if self._throttled(request, "Re-process"):
            return None
        items = [{"photo_id": pk} for pk in queryset.values_list("pk", flat=True)]
        try:
            outcomes = bulk_run(photo_services.photos_process, items, user=request.user, force=True)
        except ApplicationError as exc:
            self.message_user(request, f"Re-process: {exc}", messages.ERROR)
            return None
        self._report(request, outcomes, "Re-process")
        return None

    # --- photo page: history ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        photo = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        if photo is not None:
            # Who changed what, when: field changes in words (photos/history.py).
            extra_context["photo_history"] = photo_history(
                Event.objects.filter(photo=photo)
                .select_related("actor", "job")
                .order_by("-id")[:HISTORY_LIMIT]
            )
            extra_context["photo_job_items"] = list(
                JobItem.objects.filter(photo=photo)
                .select_related("job")
                .order_by("-id")[:HISTORY_LIMIT]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- thumbnails ---

    def get_urls(self):
        return [
            path(
                "<path:object_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="photos_photo_thumbnail",
            ),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        photo = self.get_object(request, object_id)
        if photo is None:
            raise Http404("No such photo.")
        if not self.has_view_permission(request, photo):
            raise PermissionDenied
        try:
            thumb = thumbnail_path(photo.project, photo.basename)
        except UnsafePath:
            raise Http404("No thumbnail.")
        if not thumb.is_file():
            raise Http404("No thumbnail.")
        response = FileResponse(thumb.open("rb"), content_type="image/webp")
        response["Cache-Control"] = "private, max-age=300"
        return response


@admin.register(Tag)
class TagAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "project_column", "photo_count")
    list_filter = ("project",)
    list_select_related = ("project",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        live = Q(photos__trashed_at__isnull=True)
        return super().get_queryset(request).annotate(photos_n=Count("photos", filter=live))

    @admin.display(description="project", ordering="project__name")
    def project_column(self, tag: Tag) -> str:
        return tag.project.name

    @admin.display(description="photos", ordering="photos_n")
    def photo_count(self, tag: WithAnnotations[Tag, _TagCounts]) -> str:
        query = urlencode({"project__id__exact": tag.project_id, "tag": tag.name})
        url = reverse("admin:photos_photo_changelist") + "?" + query
        return format_html('<a href="{}">{}</a>', url, tag.photos_n)


# --- the trash: trashed photos, restore, kept tombstones --------------------------------

KEPT_TOMBSTONES_SHOWN = 100


@admin.register(PhotoInTrash)
class TrashAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The trash (SPEC §3, §11): photos trashed by a commit and photos with files in
    ``.trash/``, when each is purged, and a Restore action (the API's ``photos_restore``).

    Below the list: the tombstones (``.deleted-<uid>`` folders of deleted projects) kept
    because they hold files the system did not put there, read-only.
    """

    list_display = (
        "thumbnail_column",
        "basename",
        "project_column",
        "trashed_at",
        "files_column",
        "purge_due_column",
        "rating",
        "label",
        "tags_column",
    )
    list_display_links = None
    list_filter = ("project",)
    list_select_related = ("project__tenant",)
    list_per_page = 100
    search_fields = ("basename",)
    ordering = ("-trashed_at", "basename", "id")
    actions = ("restore",)
    change_list_template = "admin/photos/photointrash/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Photo]:
        return (
            Photo.all_objects.for_user(request.user)
            .restorable()
            .prefetch_related("trashed_files", "tags")
        )

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return self.action_allowed(request, Action.RESTORE)

    def _entry(self, photo: Photo) -> Any:
        cache = getattr(self, "_entries", None)
        if cache is None or photo.pk not in cache:
            self._entries = {photo.pk: trash_entries([photo])[0]}
        return self._entries[photo.pk]

    @admin.display(description="thumbnail")
    def thumbnail_column(self, photo: Photo) -> str:
        if photo.trashed_at is None or photo.thumbnail_status != DerivativeStatus.GENERATED:
            return format_html('<span class="pl-muted">{}</span>', "–")
        url = reverse("admin:photos_photointrash_thumbnail", args=[photo.pk])
        return format_html(
            '<img class="pl-thumb" src="{}" alt="{}" loading="lazy">', url, photo.basename
        )

    @admin.display(description="project", ordering="project__name")
    def project_column(self, photo: Photo) -> str:
        return photo.project.name

    @admin.display(description="files in .trash/")
    def files_column(self, photo: Photo) -> str:
        files = self._entry(photo).files
        return ", ".join(f.name + ("" if f.present else " (gone)") for f in files) or "–"

    @admin.display(description="purged after")
    def purge_due_column(self, photo: Photo) -> Any:
        return self._entry(photo).purge_due or "–"

    @admin.display(description="tags")
    def tags_column(self, photo: Photo) -> str:
        return ", ".join(sorted(tag.name for tag in photo.tags.all())) or "–"

    @admin.action(description="Restore from the trash", permissions=["restore"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        try:
            # The API's bulk budget: the admin and the API share one limiter per use case.
            throttle_check(user=request.user, scope="bulk")
        except RateLimited as exc:
            self.message_user(request, f"Restore: {exc}", messages.ERROR)
            return
        ids = list(queryset.values_list("pk", flat=True))
        outcomes = []
        for start in range(0, len(ids), MAX_ITEMS_PER_JOB):
            items = [{"photo_id": pk} for pk in ids[start : start + MAX_ITEMS_PER_JOB]]
            try:
                outcomes.append(BulkOutcome(photos_restore(user=request.user, items=items)))
            except ApplicationError as exc:
                errors = getattr(exc, "errors", None) or []
                self.message_user(request, f"Restore: {exc}", messages.ERROR)
                for error in errors[:10]:
                    self.message_user(
                        request,
                        f"Photo {error.get('photo_id')}: {error.get('error')}",
                        messages.WARNING,
                    )
        tasks = [str(o.task_id) for o in outcomes if o.task_id]
        if tasks:
            self.message_user(request, f"Restore: task {', '.join(tasks)}.", messages.SUCCESS)
        for error in [e for o in outcomes for e in o.errors][:10]:
            self.message_user(
                request, f"Photo {error.get('photo_id')}: {error.get('error')}", messages.WARNING
            )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="photos_photointrash_thumbnail",
            ),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        photo = self.get_object(request, object_id)
        if photo is None or not self.has_view_permission(request, photo):
            raise Http404("No such photo.")
        if Photo.objects.filter(project_id=photo.project_id, basename=photo.basename).exists():
            raise Http404("The name belongs to a live photo now.")
        try:
            thumb = thumbnail_path(photo.project, photo.basename)
        except UnsafePath:
            raise Http404("No thumbnail.") from None
        if not thumb.is_file():
            raise Http404("No thumbnail.")
        response = FileResponse(thumb.open("rb"), content_type="image/webp")
        response["Cache-Control"] = "private, max-age=300"
        return response

    def kept_tombstones(self, request: HttpRequest) -> list[dict[str, Any]]:
        """Deleted projects whose ``.deleted-<uid>`` folder is still there, with what the last
        scavenge reported (``project_folder_kept``)."""
        deleted = (
            Project.objects.for_user(request.user)
            .filter(status=Project.Status.ARCHIVED, archive_reason=Project.ArchiveReason.DELETED)
            .select_related("tenant")
            .order_by("-archived_at", "id")[: KEPT_TOMBSTONES_SHOWN * 5]
        )
        found = [p for p in deleted if project_folder_exists(p)][:KEPT_TOMBSTONES_SHOWN]
        reports = {
            e.project_id: e.payload
            for e in Event.objects.filter(project__in=found, type="project_folder_kept").order_by(
                "id"
            )
        }
        return [
            {
                "project": p,
                "folder": (reports.get(p.pk) or {}).get("folder") or p.folder,
                "count": (reports.get(p.pk) or {}).get("count"),
                "names": (reports.get(p.pk) or {}).get("names") or [],
            }
            for p in found
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = {**(extra_context or {}), "kept_tombstones": self.kept_tombstones(request)}
        return super().changelist_view(request, extra_context=extra_context)


# The product's name on the admin site (the engine's admin names no product).
admin.site.site_header = "Photo library administration"
admin.site.site_title = "Photo library admin"
admin.site.index_title = "Photo library"
