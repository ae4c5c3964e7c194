"""Exports (SPEC §18): start one, list and read them, download the ZIP with range requests.

``POST /api/exports/`` checks the body's shape (and the 2,000-item limit first) and hands it to
``sharing.exports.export_start``; per-item problems come back in ``errors``. Every lookup starts
at ``Export.objects.for_user``: another tenant's export is a 404.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.payloads import body_validate
from core.api.throttling import ActionThrottleMixin, ExportThrottle
from core.limits import MAX_DB_ID
from core.ranges import ranged_file_response
from jobs.api.serializers import DetailSerializer
from photos.api.views import AnyAcceptNegotiation
from projects.api.permissions import RoleActionSpec
from projects.roles import Action

from .. import exportfiles, exports
from ..models import Export


class ExportFilter(django_filters.FilterSet):
    task = django_filters.UUIDFilter(field_name="task_id")
    kind = django_filters.ChoiceFilter(choices=Export.Kind.choices)

    class Meta:
        model = Export
        fields = ["task", "kind"]


class ExportCreateSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField(), required=False)
    share = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)
    picks_only = serializers.BooleanField(default=False)
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    long_edge = serializers.IntegerField(
        min_value=16, max_value=exportfiles.MAX_LONG_EDGE, required=False
    )
    quality = serializers.IntegerField(min_value=1, max_value=100, required=False)
    watermark = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    name_template = serializers.CharField(
        max_length=200, required=False, default=exportfiles.DEFAULT_TEMPLATE
    )

    def validate_name_template(self, value: str) -> str:
        problem = exportfiles.template_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_items, has_share = "items" in attrs, "share" in attrs
        if has_items == has_share:
            raise serializers.ValidationError(
                {"non_field_errors": ["Give either items or share, not both."]}
                if has_items
                else {"non_field_errors": ["Give items (photo ids) or share (a link id)."]}
            )
        if has_items and not attrs["items"]:
            raise serializers.ValidationError({"items": ["No photos to export."]})
        if attrs.get("picks_only") and not has_share:
            raise serializers.ValidationError({"picks_only": ["Only with share."]})
        if attrs["kind"] == Export.Kind.ORIGINALS:
            extra = [f for f in ("long_edge", "quality") if f in attrs]
            if attrs.get("watermark"):
                extra.append("watermark")
            if extra:
                raise serializers.ValidationError(
                    {f: ["Only for JPEG exports (kind: jpeg)."] for f in extra}
                )
        return attrs


class ExportSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    task_id = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "task_id",
            "status",
            "kind",
            "share",
            "long_edge",
            "quality",
            "watermark",
            "name_template",
            "photo_count",
            "progress",
            "file_name",
            "size",
            "created_at",
            "completed_at",
            "expires_at",
            "error",
            "download_url",
        ]
        read_only_fields = fields

    def get_status(self, export: Export) -> str:
        return exports.export_status(export)

    def get_progress(self, export: Export) -> dict[str, int]:
        return exports.export_progress(export)

    def get_task_id(self, export: Export) -> str | None:
        return str(export.task_id) if export.task_id else None

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Export.Status.COMPLETED:
            return None
        return reverse("export-download", kwargs={"pk": export.pk})


class ExportItemErrorSerializer(serializers.Serializer):
    photo_id = serializers.JSONField()
    error = serializers.CharField()


class ExportStartedSerializer(ExportSerializer):
    """The reply of ``POST /api/exports/`` (schema only): the export and the refused items."""

    class Meta(ExportSerializer.Meta):
        fields = [*ExportSerializer.Meta.fields, "errors"]


# Declared here: a class attribute ``errors`` would hide ``Serializer.errors``.
ExportStartedSerializer._declared_fields["errors"] = ExportItemErrorSerializer(
    many=True, required=False
)


class ExportViewSet(ActionThrottleMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ExportSerializer
    filterset_class = ExportFilter
    lookup_value_regex = r"[0-9]+"
    action_throttles = {"create": [ExportThrottle]}
    role_actions: dict[str, RoleActionSpec] = {"create": Action.EXPORT}

    def get_queryset(self) -> QuerySet[Export]:
        return exports.exports_with_progress(
            Export.objects.for_user(self.request.user)
            .select_related("tenant", "task")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="Export photos as a ZIP (one export task)",
        request=ExportCreateSerializer,
        responses={
            202: ExportStartedSerializer,
            400: DetailSerializer,
            404: DetailSerializer,
            429: DetailSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        data = body_validate(ExportCreateSerializer, request.data)
        started = exports.export_start(
            user=request.user,
            kind=data["kind"],
            items=data.get("items"),
            share_id=data.get("share"),
            picks_only=data["picks_only"],
            long_edge=data.get("long_edge"),
            quality=data.get("quality"),
            watermark=data["watermark"],
            name_template=data["name_template"],
        )
        export = self.get_queryset().get(pk=started.export.pk)
        body = dict(ExportSerializer(export).data)
        if started.errors:
            body["errors"] = started.errors
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The export's ZIP (range requests: 206, 416; If-Range)",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP."),
            (206, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="A range."),
            404: DetailSerializer,
            416: OpenApiResponse(description="The range lies outside the file."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def download(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        export = self.get_object()
        try:
            path = exports.export_file(export)
        except exports.ExportNotReady as exc:
            raise Http404(str(exc)) from None
        return ranged_file_response(
            request, path, content_type="application/zip", filename=export.file_name
        )
