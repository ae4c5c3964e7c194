"""The shapes of ``/api/shares/`` (SPEC §18): bodies in, links and picks out."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from core.limits import MAX_DB_ID
from photos.models import RATING_MAX, Label
from sharing.models import ShareLink, SharePick
from sharing.services import MESSAGE_MAX, PASSWORD_MAX, TITLE_MAX, WATERMARK_MAX


def photo_id_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)


def _future(value: Any) -> Any:
    if value is not None and value <= timezone.now():
        raise serializers.ValidationError("Must be in the future.")
    return value


class ShareSerializer(serializers.ModelSerializer):
    """A link as the studio sees it: never its token (only the first characters, to tell
    links apart) nor its password (only whether it has one)."""

    photo_count = serializers.IntegerField(read_only=True)
    public_count = serializers.IntegerField(read_only=True)
    picks_count = serializers.IntegerField(read_only=True)
    comments_count = serializers.IntegerField(read_only=True)
    has_password = serializers.SerializerMethodField()
    is_live = serializers.BooleanField(read_only=True)
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "title",
            "message",
            "token_hint",
            "expires_at",
            "downloads",
            "watermark",
            "allow_picks",
            "has_password",
            "created_by",
            "created_at",
            "updated_at",
            "revoked_at",
            "is_live",
            "view_count",
            "download_count",
            "photo_count",
            "public_count",
            "picks_count",
            "comments_count",
        ]
        read_only_fields = fields

    def get_has_password(self, link: ShareLink) -> bool:
        return bool(link.password)

    def get_created_by(self, link: ShareLink) -> str | None:
        user = link.created_by
        return user.get_username() if user is not None else None


class ShareDetailSerializer(ShareSerializer):
    photo_ids = serializers.SerializerMethodField()

    class Meta(ShareSerializer.Meta):
        fields = [*ShareSerializer.Meta.fields, "photo_ids"]
        read_only_fields = fields

    def get_photo_ids(self, _link: ShareLink) -> list[int]:
        return list(self.context.get("photo_ids", []))


class ShareCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX)
    message = serializers.CharField(max_length=MESSAGE_MAX, required=False, allow_blank=True)
    photo_ids = serializers.ListField(child=photo_id_field(), required=False, allow_empty=False)
    project = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)
    filter = serializers.DictField(child=serializers.JSONField(), required=False)
    expires_at = serializers.DateTimeField(required=False, validators=[_future])
    password = serializers.CharField(
        max_length=PASSWORD_MAX, required=False, allow_blank=True, trim_whitespace=False
    )
    downloads = serializers.ChoiceField(choices=ShareLink.Downloads.choices)
    watermark = serializers.CharField(max_length=WATERMARK_MAX, required=False, allow_blank=True)
    allow_picks = serializers.BooleanField()
    dry_run = serializers.BooleanField(default=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        has_ids = "photo_ids" in data
        has_project = "project" in data
        if has_ids == has_project:
            raise serializers.ValidationError(
                {"photo_ids": ["Give photo_ids, or a project (and a filter), not both."]}
            )
        if "filter" in data and not has_project:
            raise serializers.ValidationError({"filter": ["A filter needs a project."]})
        return data


class ShareUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    message = serializers.CharField(max_length=MESSAGE_MAX, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, validators=[_future])
    password = serializers.CharField(
        max_length=PASSWORD_MAX,
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        help_text='a new password; "" or null removes it',
    )
    downloads = serializers.ChoiceField(choices=ShareLink.Downloads.choices, required=False)
    watermark = serializers.CharField(max_length=WATERMARK_MAX, required=False, allow_blank=True)
    allow_picks = serializers.BooleanField(required=False)
    add_photo_ids = serializers.ListField(child=photo_id_field(), required=False)
    remove_photo_ids = serializers.ListField(child=photo_id_field(), required=False)


class SharePickSerializer(serializers.ModelSerializer):
    share_id = serializers.IntegerField(source="link_id", read_only=True)
    photo_id = serializers.IntegerField(read_only=True)
    basename = serializers.CharField(source="photo.basename", read_only=True)

    class Meta:
        model = SharePick
        fields = [
            "id",
            "share_id",
            "photo_id",
            "basename",
            "picked",
            "comment",
            "client_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApplyValuesSerializer(serializers.Serializer):
    keep_jpg = serializers.BooleanField(required=False)
    keep_raw = serializers.BooleanField(required=False)
    rating = serializers.IntegerField(min_value=0, max_value=RATING_MAX, required=False)
    # Shadows Serializer.label only in the stubs: DRF's metaclass pops declared fields.
    label = serializers.ChoiceField(choices=Label.choices, required=False)  # type: ignore[assignment]

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data:
            raise serializers.ValidationError(
                "Name at least one of keep_jpg, keep_raw, rating, label."
            )
        return data


class ApplyPicksSerializer(serializers.Serializer):
    set = ApplyValuesSerializer()
    dry_run = serializers.BooleanField(default=False)
