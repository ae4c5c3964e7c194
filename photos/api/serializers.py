"""Serializers of photos and of the bulk photo bodies and replies (SPEC §9).

Bulk bodies are checked here only for their outer shape (``items`` a list, ``dry_run`` a
boolean); each item is checked by the service, which turns a bad item into a per-item error
while the valid ones still apply. The item serializers below document the shapes in the
OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.limits import MAX_DB_ID
from photos.capture import CLOCK_OFFSET_MAX_SECONDS
from photos.imaging import capture_time_text
from photos.models import RATING_MAX, Label, Photo
from photos.services.bulk import MAX_TAGS_PER_ITEM, TAG_MAX_LENGTH


class PhotoSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    pending_delete = serializers.BooleanField(read_only=True)
    taken_at = serializers.SerializerMethodField(
        help_text=(
            "The capture time as the camera recorded it (ISO 8601): with its offset when the "
            "file has one (2025-07-14T09:30:00+02:00), without any when it does not "
            "(2025-07-14T09:30:00). Render it as written, never in the viewer's time zone."
        )
    )
    burst_size = serializers.SerializerMethodField(
        help_text="How many live frames share this photo's burst; null when alone"
    )
    burst_sharpest = serializers.SerializerMethodField(
        help_text="The id of the sharpest frame of this photo's burst; null when alone"
    )

    class Meta:
        model = Photo
        fields = [
            "id",
            "project",
            "basename",
            "ext",
            "jpg_available",
            "raw_available",
            "other_available",
            "keep_jpg",
            "keep_raw",
            "pending_delete",
            "thumbnail_status",
            "preview_status",
            "taken_at",
            "taken_at_offset",
            "orientation",
            "width",
            "height",
            "camera",
            "lens",
            "focal_length",
            "aperture",
            "shutter",
            "iso",
            "rating",
            "label",
            "metadata",
            "sharpness",
            "highlights_clipped",
            "shadows_clipped",
            "burst",
            "burst_size",
            "burst_sharpest",
            "visibility",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_tags(self, photo: Photo) -> list[str]:
        # Uses the viewset's prefetch: no query per photo.
        return sorted(tag.name for tag in photo.tags.all())

    def get_taken_at(self, photo: Photo) -> str | None:
        return capture_time_text(photo.taken_at, photo.taken_at_offset)

    # The viewset's annotations (``photos.selectors``-style subqueries): no query per photo.
    def get_burst_size(self, photo: Photo) -> int | None:
        return getattr(photo, "burst_size", None) if photo.burst is not None else None

    def get_burst_sharpest(self, photo: Photo) -> int | None:
        return getattr(photo, "burst_sharpest", None) if photo.burst is not None else None


# --- request bodies as validated at run time (outer shape only) ---------------------------


class BulkBodySerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    dry_run = serializers.BooleanField(default=False)


class ProcessInputSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    force = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)


class MoveInputSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    dest_project = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    dry_run = serializers.BooleanField(default=False)


class ProjectsInputSerializer(serializers.Serializer):
    projects = serializers.ListField(child=serializers.JSONField(), required=False)


class BurstsKeepSharpestInputSerializer(serializers.Serializer):
    projects = serializers.ListField(child=serializers.JSONField(), required=False)
    items = serializers.ListField(child=serializers.JSONField(), required=False)
    dry_run = serializers.BooleanField(default=False)


# --- request bodies as documented in the schema -------------------------------------------


class BurstsKeepSharpestBodySerializer(serializers.Serializer):
    projects = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="every burst of these"
    )
    items = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="the bursts of these photos"
    )
    dry_run = serializers.BooleanField(default=False)


class KeepItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    keep_jpg = serializers.BooleanField(required=False)
    keep_raw = serializers.BooleanField(required=False)


class KeepBodySerializer(BulkBodySerializer):
    items = serializers.ListField(child=KeepItemSerializer(), allow_empty=True)


class RatingItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    rating = serializers.IntegerField(min_value=0, max_value=RATING_MAX, required=False)
    # Shadows Serializer.label only in the stubs: DRF's metaclass pops declared fields.
    label = serializers.ChoiceField(choices=Label.choices, required=False)  # type: ignore[assignment]


class RatingBodySerializer(BulkBodySerializer):
    items = serializers.ListField(child=RatingItemSerializer(), allow_empty=True)


class VisibilityItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    visibility = serializers.ChoiceField(choices=Photo.Visibility.choices)


class VisibilityBodySerializer(BulkBodySerializer):
    items = serializers.ListField(child=VisibilityItemSerializer(), allow_empty=True)


class TagsItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH), max_length=MAX_TAGS_PER_ITEM
    )


class TagsBodySerializer(BulkBodySerializer):
    items = serializers.ListField(child=TagsItemSerializer(), allow_empty=True)


class PhotoIdItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()


class RestoreBodySerializer(serializers.Serializer):
    items = serializers.ListField(child=PhotoIdItemSerializer(), allow_empty=True)
    dry_run = serializers.BooleanField(default=False)


class ProcessBodySerializer(serializers.Serializer):
    items = serializers.ListField(child=PhotoIdItemSerializer(), allow_empty=True)
    force = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)


class MoveBodySerializer(serializers.Serializer):
    items = serializers.ListField(child=PhotoIdItemSerializer(), allow_empty=True)
    dest_project = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    dry_run = serializers.BooleanField(default=False)


class ProjectsBodySerializer(serializers.Serializer):
    projects = serializers.ListField(child=serializers.IntegerField(), required=False)


# --- replies --------------------------------------------------------------------------------


class ItemErrorSerializer(serializers.Serializer):
    photo_id = serializers.JSONField(allow_null=True)
    error = serializers.CharField()


class DryRunItemSerializer(serializers.Serializer):
    photo_id = serializers.IntegerField()
    would_update = serializers.DictField(child=serializers.BooleanField(), required=False)
    would_add = serializers.ListField(child=serializers.CharField(), required=False)
    would_remove = serializers.ListField(child=serializers.CharField(), required=False)


class DryRunSerializer(serializers.Serializer):
    per_item = DryRunItemSerializer(many=True)


class BulkReplySerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    # Shadows Serializer.errors only in the stubs: DRF's metaclass pops declared fields.
    errors = ItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    dry_run = DryRunSerializer(required=False)


class TaskDryRunItemSerializer(serializers.Serializer):
    photo_id = serializers.JSONField(allow_null=True)
    would_process = serializers.BooleanField(required=False)
    would_move = serializers.BooleanField(required=False)
    error = serializers.CharField(required=False)


class TaskDryRunSerializer(serializers.Serializer):
    per_item = TaskDryRunItemSerializer(many=True)


class TaskDryRunReplySerializer(serializers.Serializer):
    """A dry run of ``process`` or ``move``: what each item would do; nothing started."""

    dry_run = TaskDryRunSerializer()
    # Shadows Serializer.errors only in the stubs: DRF's metaclass pops declared fields.
    errors = ItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]


class ProcessReplySerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
    job_count = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.IntegerField())
    chunked = serializers.BooleanField()
    # Shadows Serializer.errors only in the stubs: DRF's metaclass pops declared fields.
    errors = ItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]


class MoveReplySerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
    job_count = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.IntegerField())
    destination_project = serializers.IntegerField()
    # Shadows Serializer.errors only in the stubs: DRF's metaclass pops declared fields.
    errors = ItemErrorSerializer(many=True, required=False)  # type: ignore[assignment]


class CommitProjectSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    pending = serializers.IntegerField()


class CommitReplySerializer(serializers.Serializer):
    task_id = serializers.UUIDField(required=False)
    chunked = serializers.BooleanField(required=False)
    job_count = serializers.IntegerField(required=False)
    job_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    queued_projects = serializers.IntegerField()
    total_pending = serializers.IntegerField(required=False)
    projects = CommitProjectSerializer(many=True)
    missing = serializers.ListField(child=serializers.JSONField(), required=False)
    detail = serializers.CharField(required=False)


class RevertProjectSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    updated = serializers.IntegerField()


class RevertReplySerializer(serializers.Serializer):
    updated_projects = serializers.IntegerField()
    projects = RevertProjectSerializer(many=True)
    missing = serializers.ListField(child=serializers.JSONField(), required=False)


class PendingDeletesQuerySerializer(serializers.Serializer):
    date_from = serializers.CharField(required=False, help_text="ISO date or date-time")
    date_to = serializers.CharField(required=False, help_text="ISO date or date-time")
    file_type = serializers.ChoiceField(choices=["jpg", "raw", "all"], required=False)
    orientation = serializers.CharField(
        required=False, help_text="landscape, portrait, square, or an EXIF value 1-8"
    )


class PendingProjectSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    jpg = serializers.IntegerField()
    raw = serializers.IntegerField()
    total = serializers.IntegerField()


class PendingDeletesReplySerializer(serializers.Serializer):
    jpg = serializers.IntegerField()
    raw = serializers.IntegerField()
    total = serializers.IntegerField()
    by_project = PendingProjectSerializer(many=True)


class TrashFileSerializer(serializers.Serializer):
    """One file of a photo in ``.trash/``."""

    name = serializers.CharField()
    trash_name = serializers.CharField()
    trashed_at = serializers.DateTimeField()
    purge_due = serializers.DateTimeField()
    present = serializers.BooleanField(help_text="Still in the trash (false once purged).")


class TrashedPhotoSerializer(serializers.Serializer):
    """A photo of a project's trash (``photos.services.restore.TrashedPhoto``)."""

    id = serializers.IntegerField(source="photo.pk")
    project = serializers.IntegerField(source="photo.project_id")
    basename = serializers.CharField(source="photo.basename")
    ext = serializers.CharField(source="photo.ext")
    rating = serializers.IntegerField(source="photo.rating")
    # Shadows Serializer.label only in the stubs: DRF's metaclass pops declared fields.
    label = serializers.CharField(source="photo.label")  # type: ignore[assignment]
    tags = serializers.SerializerMethodField()
    taken_at = serializers.SerializerMethodField(help_text="As PhotoSerializer's taken_at")
    trashed_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when the photo's last original went to the trash."
    )
    purge_due = serializers.DateTimeField(allow_null=True)
    files = TrashFileSerializer(many=True)

    def get_tags(self, entry: Any) -> list[str]:
        return sorted(tag.name for tag in entry.photo.tags.all())

    def get_taken_at(self, entry: Any) -> str | None:
        return capture_time_text(entry.photo.taken_at, entry.photo.taken_at_offset)


class BurstsKeepSharpestReplySerializer(BulkReplySerializer):
    kept = serializers.DictField(
        child=serializers.IntegerField(), help_text="burst id → the sharpest frame kept"
    )
    undecided = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="bursts left alone: a frame has no sharpness yet (re-process with force)",
    )


class ClockOffsetBodySerializer(serializers.Serializer):
    camera = serializers.CharField(max_length=255, help_text="make and model, as Photo.camera")
    seconds = serializers.IntegerField(
        min_value=-CLOCK_OFFSET_MAX_SECONDS,
        max_value=CLOCK_OFFSET_MAX_SECONDS,
        help_text="added to the capture time of that camera's photos (negative: earlier)",
    )


class ClockOffsetReplySerializer(ProcessReplySerializer):
    photos = serializers.IntegerField(help_text="photos of that camera the task will shift")
