"""Staff admin of photos and tags (SPEC §11): thumbnails, filters and each photo's history.

Photos and tags are read-only here: keep flags and tags change through the API's services,
which write the events that make up a photo's history. A staff-only view serves thumbnails
from ``photos.storage.thumbnail_path`` (the photo is looked up through the user's scope).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from config.admin_display import with_payload_text
from config.admin_scoping import ReadOnlyAdminMixin, TenantScopedAdminMixin
from jobs.models import Event, JobItem
from photos.fsrules import UnsafePath
from photos.models import PENDING_DELETE_Q, DerivativeStatus, Photo, Tag
from photos.storage import thumbnail_path

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TagCounts(TypedDict):
    """What ``TagAdmin.get_queryset`` annotates on each tag."""

    photos_n: int


HISTORY_LIMIT = 100


class PendingDeleteFilter(admin.SimpleListFilter):
    title = "pending delete"
    parameter_name = "pending_delete"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "yes":
            return queryset.filter(PENDING_DELETE_Q)
        if self.value() == "no":
            return queryset.exclude(PENDING_DELETE_Q)
        return queryset


class DerivativeStatusFilter(admin.SimpleListFilter):
    """Thumbnail or preview in a given state (a photo with either matching is listed)."""

    title = "derivative status"
    parameter_name = "derivatives"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [*DerivativeStatus.choices, ("none", "Not set")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
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

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        names = (
            Tag.objects.for_user(request.user)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()[:200]
        )
        return [(name, name) for name in names]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if not self.value():
            return queryset
        tagged = Photo.tags.through.objects.filter(photo_id=OuterRef("pk"), tag__name=self.value())
        return queryset.filter(Exists(tagged))


@admin.register(Photo)
class PhotoAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "thumbnail_column",
        "basename",
        "project_column",
        "files_column",
        "pending_delete_column",
        "derivatives_column",
        "taken_at",
        "rating",
        "label",
        "camera",
        "iso",
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
    search_fields = ("basename", "camera", "lens")
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

    @admin.display(description="tags")
    def tags_column(self, photo: Photo) -> str:
        return ", ".join(sorted(tag.name for tag in photo.tags.all())) or "–"

    # --- photo page: history ---

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        photo = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        if photo is not None:
            extra_context["photo_events"] = with_payload_text(
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

    def get_urls(self):  # type: ignore[no-untyped-def]
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
        return super().get_queryset(request).annotate(photos_n=Count("photos"))

    @admin.display(description="project", ordering="project__name")
    def project_column(self, tag: Tag) -> str:
        return tag.project.name

    @admin.display(description="photos", ordering="photos_n")
    def photo_count(self, tag: WithAnnotations[Tag, _TagCounts]) -> str:
        query = urlencode({"project__id__exact": tag.project_id, "tag": tag.name})
        url = reverse("admin:photos_photo_changelist") + "?" + query
        return format_html('<a href="{}">{}</a>', url, tag.photos_n)
