"""``/api/shares/`` (SPEC §18): the studio's share links, thin over ``sharing.services``.

Every lookup starts at ``shares_for_user``: another tenant's link id is a 404. Reads are
``Action.READ``; every write is ``Action.SHARE`` (editors and owners, SPEC §14).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.payloads import body_validate
from core.api.throttling import ActionThrottleMixin, BulkThrottle
from jobs.api.serializers import DetailSerializer
from photos.api.replies import bulk_body
from photos.api.serializers import BulkReplySerializer
from projects.api.permissions import RoleActionSpec
from projects.roles import Action
from sharing import services
from sharing.models import ShareLink
from sharing.selectors import (
    share_filter_photo_ids,
    share_get,
    share_photo_ids,
    share_picks,
    shares_for_user,
)

from .serializers import (
    ApplyPicksSerializer,
    ShareCreateSerializer,
    ShareDetailSerializer,
    SharePickSerializer,
    ShareSerializer,
    ShareUpdateSerializer,
)

# Where a client opens a link (the gallery, ``/s/<token>/``).
GALLERY_PATH = "/s/{token}/"
TRUE = ("1", "true", "yes")


def share_url(request: Request, token: str) -> str:
    return request.build_absolute_uri(GALLERY_PATH.format(token=token))


@extend_schema_view(
    list=extend_schema(summary="List the studio's share links, with their counters"),
    retrieve=extend_schema(summary="One share link, with its counters and photo ids"),
)
class ShareViewSet(
    ActionThrottleMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ShareSerializer
    lookup_value_regex = r"[0-9]+"
    action_throttles = {
        "create": [BulkThrottle],
        "partial_update": [BulkThrottle],
        "destroy": [BulkThrottle],
        "apply_picks": [BulkThrottle],
    }
    role_actions: dict[str, RoleActionSpec] = {
        "create": Action.SHARE,
        "partial_update": Action.SHARE,
        "destroy": Action.SHARE,
        "apply_picks": Action.SHARE,
    }

    def get_queryset(self) -> QuerySet[ShareLink]:
        return shares_for_user(self.request.user)

    def _detail(self, link: ShareLink, **extra: Any) -> dict[str, Any]:
        link = share_get(self.request.user, link.pk)  # Fresh counters.
        body = ShareDetailSerializer(link, context={"photo_ids": share_photo_ids(link)}).data
        return {**body, **extra}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(share_get(request.user, kwargs["pk"])))

    @extend_schema(
        summary="Make a share link of a selection or a filter's result (its photos become public)",
        request=ShareCreateSerializer,
        parameters=[OpenApiParameter("dry_run", bool, required=False)],
        responses={201: ShareDetailSerializer, 200: DetailSerializer, 400: DetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = body_validate(ShareCreateSerializer, request.data, limit_fields=("photo_ids",))
        dry_run = data["dry_run"] or request.query_params.get("dry_run", "").lower() in TRUE
        if "project" in data:
            photo_ids = share_filter_photo_ids(
                request.user, project_id=data["project"], filters=data.get("filter") or {}
            )
        else:
            photo_ids = data["photo_ids"]
        created = services.share_create(
            user=request.user,
            title=data["title"],
            photo_ids=photo_ids,
            message=data.get("message", ""),
            expires_at=data.get("expires_at"),
            password=data.get("password", ""),
            downloads=data["downloads"],
            watermark=data.get("watermark", ""),
            allow_picks=data["allow_picks"],
            dry_run=dry_run,
        )
        errors = {"errors": created.errors} if created.errors else {}
        if created.link is None:
            return Response(
                {
                    "dry_run": {
                        "photo_count": len(created.photo_ids),
                        "photo_ids": created.photo_ids,
                        "would_become_public": created.would_become_public,
                    },
                    **errors,
                }
            )
        assert created.token is not None
        body = self._detail(
            created.link,
            # The one reply that holds the token: it is stored only as a hash.
            url=share_url(request, created.token),
            made_public=created.would_become_public,
            **errors,
        )
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a link: title, message, expiry, downloads, password, photos",
        request=ShareUpdateSerializer,
        responses={200: ShareDetailSerializer, 400: DetailSerializer, 409: DetailSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = body_validate(
            ShareUpdateSerializer, request.data, limit_fields=("add_photo_ids", "remove_photo_ids")
        )
        add = data.pop("add_photo_ids", None)
        remove = data.pop("remove_photo_ids", None)
        if "password" in data and data["password"] is None:
            data["password"] = ""
        updated = services.share_update(
            user=request.user,
            share_id=kwargs["pk"],
            changes=data,
            add_photo_ids=add,
            remove_photo_ids=remove,
        )
        extra: dict[str, Any] = {
            "added": updated.added,
            "removed": updated.removed,
            "made_public": updated.made_public,
        }
        if updated.errors:
            extra["errors"] = updated.errors
        return Response(self._detail(updated.link, **extra))

    @extend_schema(summary="Revoke a link: it answers 404 at once", responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.share_revoke(user=request.user, share_id=kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The client's picks and comments of a link",
        responses={200: SharePickSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def picks(self, request: Request, pk: str | None = None) -> Response:
        link = share_get(request.user, pk)
        rows = share_picks(link)
        page = self.paginate_queryset(rows)
        if page is not None:
            return self.get_paginated_response(SharePickSerializer(page, many=True).data)
        return Response(SharePickSerializer(rows, many=True).data)

    @extend_schema(
        summary="Apply the client's picks to keep flags, rating or label (dry run first)",
        request=ApplyPicksSerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="apply-picks", url_name="apply-picks")
    def apply_picks(self, request: Request, pk: str | None = None) -> Response:
        data = body_validate(ApplyPicksSerializer, request.data, limit_fields=())
        done = services.share_picks_apply(
            user=request.user, share_id=pk, values=dict(data["set"]), dry_run=data["dry_run"]
        )
        return Response(bulk_body(done))
