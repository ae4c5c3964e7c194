"""Photos (SPEC §9): list and detail, their files, and the bulk photo endpoints.

The bulk actions check only the outer shape of the body (and the 2,000-item limit, before
anything else) and hand the items to one service each; per-item problems come back in the
service's ``errors``. Every photo lookup starts at ``for_user``: another tenant's photo is a
404 here and a per-item "not found" in bulk replies.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.payloads import body_validate
from core.api.throttling import ActionThrottleMixin, BulkThrottle, CommitThrottle
from core.errors import ApplicationError
from jobs.api.serializers import DetailSerializer
from photos import services as photo_services
from photos.fullsize import FullSizeUnavailable, photo_fullsize
from photos.models import Photo
from photos.screen import ScreenUnavailable, photo_screen
from photos.selectors import photos_pending_deletes
from photos.services.bursts import bursts_keep_sharpest
from photos.services.restore import photos_restore
from photos.storage import (
    file_path,
    files_for_basename,
    preview_file,
    project_dir,
    thumbnail_path,
)
from projects.api.permissions import RoleActionSpec
from projects.roles import Action

from .filters import PhotoFilter
from .pagination import PhotoCursorPagination, order_expressions, ordering_parse
from .replies import (
    bulk_body,
    commit_reply,
    move_reply,
    process_reply,
    restore_reply,
    revert_body,
)
from .serializers import (
    BulkBodySerializer,
    BulkReplySerializer,
    BurstsKeepSharpestBodySerializer,
    BurstsKeepSharpestInputSerializer,
    BurstsKeepSharpestReplySerializer,
    CommitReplySerializer,
    KeepBodySerializer,
    MoveBodySerializer,
    MoveInputSerializer,
    MoveReplySerializer,
    PendingDeletesQuerySerializer,
    PendingDeletesReplySerializer,
    PhotoSerializer,
    ProcessBodySerializer,
    ProcessInputSerializer,
    ProcessReplySerializer,
    ProjectsBodySerializer,
    ProjectsInputSerializer,
    RatingBodySerializer,
    RestoreBodySerializer,
    RevertReplySerializer,
    TagsBodySerializer,
    TaskDryRunReplySerializer,
    VisibilityBodySerializer,
)

FILE_CACHE_CONTROL = "private, max-age=3600, must-revalidate"
DERIVATIVE_CONTENT_TYPE = "image/webp"
# A RAW's embedded JPEG kept as its preview (``.preview/<base>.jpg``, SPEC §4).
PREVIEW_AS_IS_CONTENT_TYPE = "image/jpeg"


class AnyAcceptNegotiation(BaseContentNegotiation):
    """File endpoints answer with the file whatever ``Accept`` says; errors are JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = list(renderers)[0]
        return renderer, renderer.media_type


def file_reply(
    request: Request, path: Path, *, content_type: str | None = None, **kw: Any
) -> HttpResponseBase:
    """The file with ``ETag``/``Last-Modified``/``Cache-Control``; 304 when the client has it."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise Http404("File not found.") from None
    if not path.is_file():
        raise Http404("File not found.")
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    conditional = get_conditional_response(
        request, etag=etag, last_modified=int(stat.st_mtime), response=None
    )
    if conditional is None:
        content_type = content_type or mimetypes.guess_type(path.name)[0]
        response: HttpResponseBase = FileResponse(
            path.open("rb"), content_type=content_type or "application/octet-stream", **kw
        )
    else:
        response = conditional
    response["ETag"] = etag
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = FILE_CACHE_CONTROL
    return response


_FILE_RESPONSES = {
    (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
    304: OpenApiResponse(description="Not modified (ETag or Last-Modified matched)."),
    404: DetailSerializer,
}


def photos_with_bursts(photos: QuerySet[Photo]) -> QuerySet[Photo]:
    """``photos`` with ``burst_size`` and ``burst_sharpest`` of their burst, as subqueries of
    the list's one query (the ``photo_burst_sharpness`` index): no query per photo."""
    frames = Photo.objects.filter(burst=OuterRef("burst"))
    size = frames.order_by().values("burst").annotate(n=Count("id")).values("n")
    sharpest = (
        frames.filter(sharpness__isnull=False)
        .order_by(F("sharpness").desc(), "id")
        .values("id")[:1]
    )
    return photos.annotate(
        burst_size=Subquery(size, output_field=IntegerField()),
        burst_sharpest=Subquery(sharpest, output_field=IntegerField()),
    )


def _bulk_update(request: Request, update: Any) -> Response:
    """A bulk culling write (keep, rating, tags): ``{items, dry_run}`` in, the bulk reply out."""
    data = body_validate(BulkBodySerializer, request.data)
    return Response(
        bulk_body(update(user=request.user, items=data["items"], dry_run=data["dry_run"]))
    )


@extend_schema_view(
    list=extend_schema(summary="List photos (cursor pagination)"),
    retrieve=extend_schema(summary="One photo"),
)
class PhotoViewSet(ActionThrottleMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PhotoSerializer
    filterset_class = PhotoFilter
    pagination_class = PhotoCursorPagination
    lookup_value_regex = r"[0-9]+"
    action_throttles = {
        "keep": [BulkThrottle],
        "rating": [BulkThrottle],
        "tags_add": [BulkThrottle],
        "tags_remove": [BulkThrottle],
        "process": [BulkThrottle],
        "move": [BulkThrottle],
        "restore": [BulkThrottle],
        "bursts_keep_sharpest": [BulkThrottle],
        "visibility": [BulkThrottle],
        "commit_changes": [CommitThrottle],
        "revert_changes": [CommitThrottle],
    }
    # What each write is in the roles table (projects/api/permissions.py); reads are Action.READ.
    role_actions: dict[str, RoleActionSpec] = {
        "keep": Action.CULL,
        "rating": Action.CULL,
        "tags_add": Action.CULL,
        "tags_remove": Action.CULL,
        "process": Action.PROCESS,
        "move": Action.MOVE,
        "restore": Action.RESTORE,
        "bursts_keep_sharpest": Action.CULL,
        "visibility": Action.VISIBILITY,
        "commit_changes": Action.COMMIT,
        "revert_changes": Action.REVERT,
    }

    def get_queryset(self) -> QuerySet[Photo]:
        # Photos of an archived project are on their way out: not found, as in the services.
        return (
            photos_with_bursts(Photo.objects.visible_to(self.request.user))
            .prefetch_related("tags")
            # The list's order is the pagination's (``?ordering=``, default taken_at, basename).
            .order_by(*order_expressions(ordering_parse(None)))
        )

    def _photo(self, *, trashed: bool = False) -> Photo:
        """The URL's photo; with ``trashed`` a photo in the trash too (its derivatives stay
        until the purge, for the trash list), unless a live photo has taken its name (the
        derivatives at that name are then the live photo's)."""
        manager = Photo.all_objects if trashed else Photo.objects
        photo = (
            manager.visible_to(self.request.user)
            .filter(pk=self.kwargs["pk"])
            .select_related("project__tenant")
            .first()
        )
        if photo is None:
            raise Http404("Photo not found.")
        if (
            photo.trashed_at is not None
            and Photo.objects.filter(project_id=photo.project_id, basename=photo.basename).exists()
        ):
            raise Http404("Photo not found.")
        return photo

    # --- files ----------------------------------------------------------------------------

    def _derivative(self, request: Request, builder: Any, what: str) -> HttpResponseBase:
        photo = self._photo(trashed=True)
        try:
            path = builder(photo.project, photo.basename)
        except ApplicationError:  # UnsafePath: a row that would point outside its folder.
            raise Http404(f"No {what} for this photo.") from None
        if not path.is_file():
            raise Http404(f"No {what} for this photo.")
        content_type = (
            PREVIEW_AS_IS_CONTENT_TYPE if path.suffix == ".jpg" else DERIVATIVE_CONTENT_TYPE
        )
        return file_reply(request, path, content_type=content_type)

    def _rendition(
        self, request: Request, make: Any, source_header: str, what: str
    ) -> HttpResponseBase:
        """An image made on demand (``photos.screen``, ``photos.fullsize``): the file, with
        the header that says what it was made from; 404 when there is none."""
        photo = self._photo()
        try:
            found = make(photo)
        except (ApplicationError, ScreenUnavailable, FullSizeUnavailable, FileNotFoundError):
            raise Http404(f"No {what} for this photo.") from None
        response = file_reply(request, found.path, content_type=found.content_type)
        response[source_header] = found.source
        return response

    @extend_schema(summary="The photo's thumbnail (WebP)", responses=_FILE_RESPONSES)
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def thumbnail(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        return self._derivative(request, thumbnail_path, "thumbnail")

    @extend_schema(
        summary="The photo's preview (WebP; a RAW's full-size embedded JPEG as it is)",
        responses=_FILE_RESPONSES,
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def preview(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        return self._derivative(request, preview_file, "preview")

    @extend_schema(
        summary="The photo's screen-sized image for the loupe's fitted view (WebP)",
        description=(
            "The preview fitted within ``PIPELINE_SCREEN_SIZE`` (default 2048 px), made on "
            "demand and cached; the preview as it is when already that small. "
            "``X-Screen-Source`` says which: preview or rendition."
        ),
        responses=_FILE_RESPONSES,
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def screen(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        return self._rendition(request, photo_screen, "X-Screen-Source", "screen-sized image")

    @extend_schema(
        summary="The photo's full-size image for the 100 % view (JPEG)",
        description=(
            "The original JPEG; else the RAW's full-size embedded JPEG; else a JPEG rendition "
            "of the other image or the RAW, made on demand and cached. ``X-Full-Size-Source`` "
            "says which: original, embedded or rendition."
        ),
        responses=_FILE_RESPONSES,
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def full(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        return self._rendition(request, photo_fullsize, "X-Full-Size-Source", "full-size image")

    @extend_schema(
        summary="The photo's original file (the JPG, else another image, else the RAW)",
        parameters=[
            OpenApiParameter("file_type", str, enum=["jpg", "raw", "other"], required=False),
            OpenApiParameter("download", bool, required=False),
        ],
        responses=_FILE_RESPONSES,
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAcceptNegotiation)
    def original(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        photo = self._photo()
        wanted = request.query_params.get("file_type")
        if wanted not in (None, "", "jpg", "raw", "other"):
            raise ValidationError({"detail": "file_type must be jpg, raw or other."})
        try:
            found = files_for_basename(project_dir(photo.project), photo.basename)
            classes = [wanted] if wanted else ["jpg", "other", "raw"]
            names = [name for kind in classes for name in sorted(getattr(found, kind))]
            if not names:
                raise Http404("No original file for this photo.")
            path = file_path(photo.project, names[0])
        except ApplicationError:
            raise Http404("No original file for this photo.") from None
        download = request.query_params.get("download") in ("1", "true", "yes")
        return file_reply(request, path, as_attachment=download, filename=path.name)

    # --- bulk -----------------------------------------------------------------------------
    # Keep, rating and tags share one body ({items, dry_run}) and one reply (SPEC §9).

    @extend_schema(
        summary="Set keep flags of many photos",
        request=KeepBodySerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer},
    )
    @action(detail=False, methods=["post"])
    def keep(self, request: Request) -> Response:
        return _bulk_update(request, photo_services.photos_keep_update)

    @extend_schema(
        summary="Set ratings (0-5) and colour labels of many photos",
        request=RatingBodySerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer},
    )
    @action(detail=False, methods=["post"])
    def rating(self, request: Request) -> Response:
        return _bulk_update(request, photo_services.photos_rating_update)

    @extend_schema(
        summary="Add tags to many photos",
        request=TagsBodySerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer},
    )
    @action(detail=False, methods=["post"], url_path="tags/add", url_name="tags-add")
    def tags_add(self, request: Request) -> Response:
        return _bulk_update(request, photo_services.photos_tags_add)

    @extend_schema(
        summary="Remove tags from many photos",
        request=TagsBodySerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer},
    )
    @action(detail=False, methods=["post"], url_path="tags/remove", url_name="tags-remove")
    def tags_remove(self, request: Request) -> Response:
        return _bulk_update(request, photo_services.photos_tags_remove)

    @extend_schema(
        summary="Make many photos public or private (the master switch of share links)",
        request=VisibilityBodySerializer,
        responses={200: BulkReplySerializer, 400: DetailSerializer, 403: DetailSerializer},
    )
    @action(detail=False, methods=["post"])
    def visibility(self, request: Request) -> Response:
        return _bulk_update(request, photo_services.photos_visibility_update)

    @extend_schema(
        summary="Generate derivatives for a selection (one generate_derivatives task)",
        request=ProcessBodySerializer,
        responses={
            202: ProcessReplySerializer,
            200: TaskDryRunReplySerializer,
            400: DetailSerializer,
        },
    )
    @action(detail=False, methods=["post"])
    def process(self, request: Request) -> Response:
        data = body_validate(ProcessInputSerializer, request.data)
        code, body = process_reply(
            photo_services.photos_process(
                user=request.user, items=data["items"], force=data["force"], dry_run=data["dry_run"]
            )
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Move photos to another project (one image_move task)",
        request=MoveBodySerializer,
        responses={
            202: MoveReplySerializer,
            200: TaskDryRunReplySerializer,
            400: DetailSerializer,
            404: DetailSerializer,
        },
    )
    @action(detail=False, methods=["post"])
    def move(self, request: Request) -> Response:
        data = body_validate(MoveInputSerializer, request.data)
        code, body = move_reply(
            photo_services.photos_move(
                user=request.user,
                items=data["items"],
                dest_project_id=data["dest_project"],
                dry_run=data["dry_run"],
            )
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Restore photos from the trash (one photo_restore task)",
        request=RestoreBodySerializer,
        responses={
            202: ProcessReplySerializer,
            200: TaskDryRunReplySerializer,
            400: DetailSerializer,
            403: DetailSerializer,
        },
    )
    @action(detail=False, methods=["post"])
    def restore(self, request: Request) -> Response:
        # The role (editor or owner) is checked by RolePermission from ``role_actions``.
        data = body_validate(BulkBodySerializer, request.data)
        code, body = restore_reply(
            photos_restore(user=request.user, items=data["items"], dry_run=data["dry_run"])
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Keep the sharpest frame of each burst, discard the rest",
        request=BurstsKeepSharpestBodySerializer,
        responses={
            200: BurstsKeepSharpestReplySerializer,
            400: DetailSerializer,
            403: DetailSerializer,
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="bursts/keep-sharpest",
        url_name="bursts-keep-sharpest",
    )
    def bursts_keep_sharpest(self, request: Request) -> Response:
        data = body_validate(
            BurstsKeepSharpestInputSerializer,
            request.data or {},
            limit_fields=("projects", "items"),
        )
        done = bursts_keep_sharpest(
            user=request.user,
            projects=data.get("projects"),
            photo_ids=data.get("items"),
            dry_run=data["dry_run"],
        )
        body = bulk_body(done.reply)
        body["kept"] = {str(burst): photo for burst, photo in done.kept.items()}
        body["undecided"] = done.undecided
        return Response(body)

    @extend_schema(
        summary="Commit pending deletes across projects (one change_commit_all task)",
        request=ProjectsBodySerializer,
        responses={
            202: CommitReplySerializer,
            200: CommitReplySerializer,
            400: DetailSerializer,
        },
    )
    @action(detail=False, methods=["post"], url_path="commit-changes")
    def commit_changes(self, request: Request) -> Response:
        data = body_validate(
            ProjectsInputSerializer, request.data or {}, limit_fields=("projects",)
        )
        code, body = commit_reply(
            photo_services.photos_commit(user=request.user, project_ids=data.get("projects"))
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Revert keep flags to availability across projects",
        request=ProjectsBodySerializer,
        responses={200: RevertReplySerializer, 400: DetailSerializer},
    )
    @action(detail=False, methods=["post"], url_path="revert-changes")
    def revert_changes(self, request: Request) -> Response:
        data = body_validate(
            ProjectsInputSerializer, request.data or {}, limit_fields=("projects",)
        )
        reverted = photo_services.photos_revert(user=request.user, project_ids=data.get("projects"))
        return Response(revert_body(reverted), status=status.HTTP_200_OK)

    @extend_schema(
        summary="What a commit would trash, in total and per project",
        parameters=[PendingDeletesQuerySerializer],
        responses={200: PendingDeletesReplySerializer, 400: DetailSerializer},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="pending-deletes",
        pagination_class=None,
        filterset_class=None,
    )
    def pending_deletes(self, request: Request) -> Response:
        # The parameters are parsed once, by the selector's FilterSet.
        return Response(photos_pending_deletes(user=request.user, filters=request.query_params))
