"""Serializers of projects (SPEC §9): id, name, folder, status and counts."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from projects.models import Project
from projects.names import name_characters_problem


def project_name_validate(value: str) -> None:
    if problem := name_characters_problem(value, what="A project name"):
        raise serializers.ValidationError(problem)


class ProjectSerializer(serializers.ModelSerializer):
    # Annotated by the viewset's queryset (one query for a whole page, no N+1).
    photo_count = serializers.IntegerField(read_only=True)
    pending_delete_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "uid",
            "name",
            "folder",
            "status",
            "archived_at",
            "created_at",
            "updated_at",
            "photo_count",
            "pending_delete_count",
            "unaccepted_files",
        ]
        read_only_fields = [f for f in fields if f != "name"]

    def validate_name(self, value: str) -> str:
        project_name_validate(value)
        return value


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=255, trim_whitespace=True, validators=[project_name_validate]
    )


class ProjectRenameSerializer(serializers.Serializer):
    """``{"name"}`` renames, ``{"status": "archived"}`` archives (folder and photos stay)."""

    name = serializers.CharField(
        max_length=255, trim_whitespace=True, validators=[project_name_validate], required=False
    )
    status = serializers.ChoiceField(
        choices=["archived"],
        required=False,
        help_text="archived: the project leaves every active list; its folder and photos stay",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError({"name": ["This field is required."]})
        return attrs


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    all_or_nothing = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Default true: one refused file refuses the request and nothing is written. "
        "false: save the accepted files and list the refused ones in `errors`.",
    )
    rename = serializers.CharField(
        required=False,
        help_text="A rename template for photos whose name is taken, e.g. "
        "`{basename}_{camera}` or `{date}_{seq}`: both are kept, the new one renamed "
        "(listed in `renamed`). Without it a taken name is refused.",
    )


class UploadReplySerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.JSONField())
    task_id = serializers.UUIDField(allow_null=True)
    # Shadows Serializer.errors only in the stubs: DRF's metaclass pops declared fields.
    errors = serializers.ListField(child=serializers.DictField(), required=False)  # type: ignore[assignment]
    renamed = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="`{file, saved_as}` of each file the rename template renamed.",
    )


class ProcessSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)
