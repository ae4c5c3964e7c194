"""Projects (SPEC §9): CRUD, upload, per-project commit/revert/process, the project's jobs.

Thin adapters: each action validates its body, calls one service and returns its reply. The
queryset starts at ``for_user`` so another tenant's project is a 404 like a missing one. The
photos app serves ``/api/projects/`` (projects know no photos and no jobs): every action here but
the list touches the project's files or starts a task.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import UnreadablePostError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.admission import UploadThrottle
from core.api.pagination import PageSizePagination
from core.api.payloads import body_validate
from core.api.throttling import (
    ActionThrottleMixin,
    BulkThrottle,
    CommitThrottle,
    ProjectWriteThrottle,
    task_throttle_check,
)
from jobs.api.filters import JobFilter
from jobs.api.schema import JOB_LIST_PARAMETERS
from jobs.api.serializers import (
    DetailSerializer,
    JobSerializer,
    ProjectTaskStartSerializer,
    TaskIdReplySerializer,
    TaskStartedReplySerializer,
)
from jobs.api.views import task_start_reply
from jobs.models import Job
from photos import services as photo_services
from photos.api.replies import commit_reply, process_reply, revert_body, upload_reply
from photos.api.serializers import (
    ClockOffsetBodySerializer,
    ClockOffsetReplySerializer,
    CommitReplySerializer,
    ProcessReplySerializer,
    RevertReplySerializer,
    TrashedPhotoSerializer,
)
from photos.capture import project_clock_correct_start
from photos.ingest import upload_folder
from photos.project_deletion import project_delete
from photos.services.projects import project_archive, project_create, project_rename
from photos.services.restore import project_trash_queryset, trash_entries
from photos.services.results import ProcessStarted
from photos.services.upload import photos_upload
from photos.staging import UPLOAD_FIELD, Staging, StagingUploadHandler
from projects.api.filters import ProjectFilter
from projects.api.permissions import RoleActionSpec, task_type_action
from projects.api.serializers import (
    ProcessSerializer,
    ProjectCreateSerializer,
    ProjectRenameSerializer,
    ProjectSerializer,
    UploadReplySerializer,
    UploadSerializer,
)
from projects.models import Project
from projects.roles import Action
from projects.selectors import project_require_active, projects_with_counts, tenant_for_user

# Actions that serialize projects need the counts; the others only the row.
COUNTED_ACTIONS = {"list", "retrieve", "create", "partial_update", None}


@extend_schema_view(
    list=extend_schema(summary="List projects (active ones unless status is given)"),
    retrieve=extend_schema(summary="One project with its counts"),
    create=extend_schema(
        summary="Create a project (its folder and manifest)",
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer, 400: DetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename a project (its folder follows in maintenance) or archive it",
        request=ProjectRenameSerializer,
        responses={200: ProjectSerializer, 400: DetailSerializer, 404: DetailSerializer},
    ),
    destroy=extend_schema(
        summary="Archive a project and start its project_delete task",
        responses={202: TaskIdReplySerializer, 404: DetailSerializer},
    ),
)
class ProjectViewSet(
    ActionThrottleMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    lookup_value_regex = r"[0-9]+"
    action_throttles = {
        "partial_update": [ProjectWriteThrottle],
        "destroy": [ProjectWriteThrottle],
        "commit_changes": [CommitThrottle],
        "revert_changes": [CommitThrottle],
        "process": [BulkThrottle],
        # Counted once: by the ASGI gate when it admitted the upload, else here.
        "upload": [UploadThrottle],
    }
    # What each write is in the roles table (projects/api/permissions.py); reads are Action.READ.
    # ``jobs`` is GET (a read) and POST (starting a task: the action of its type).
    role_actions: dict[str, RoleActionSpec] = {
        "create": Action.PROJECT_CREATE,
        "partial_update": Action.PROJECT_RENAME,
        "destroy": Action.PROJECT_DELETE,
        "upload": Action.UPLOAD,
        "commit_changes": Action.COMMIT,
        "revert_changes": Action.REVERT,
        "process": Action.PROCESS,
        "clock_offset": Action.PROCESS,
        "jobs": task_type_action,
    }

    def get_queryset(self) -> QuerySet[Project]:
        queryset: QuerySet[Project] = Project.objects.for_user(self.request.user)
        queryset = queryset.select_related("tenant")
        if self.action == "list" and not self.request.query_params.get("status"):
            queryset = queryset.filter(status=Project.Status.ACTIVE)
        if self.action in COUNTED_ACTIONS:
            queryset = projects_with_counts(queryset)
        return queryset.order_by("name", "id")

    def _project(self) -> Project:
        """The project of the URL, without counts, and without list filters applied."""
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def _counted(self, project: Project) -> dict[str, Any]:
        scoped = Project.objects.for_user(self.request.user).filter(pk=project.pk)
        fresh = projects_with_counts(scoped).get()
        return ProjectSerializer(fresh).data

    def create(self, request: Request) -> Response:
        data = body_validate(ProjectCreateSerializer, request.data, limit_fields=())
        project = project_create(
            tenant=tenant_for_user(user=request.user), name=data["name"], actor_id=request.user.pk
        )
        return Response(self._counted(project), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        project = project_require_active(self._project())
        data = body_validate(ProjectRenameSerializer, request.data, limit_fields=())
        if "name" in data:
            project_rename(project=project, name=data["name"], actor_id=request.user.pk)
        if data.get("status") == Project.Status.ARCHIVED:
            project_archive(project=project, actor_id=request.user.pk)
        return Response(self._counted(project))

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        task_id = project_delete(user=request.user, project=self._project())
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Upload files (multipart field 'files', several per request)",
        description=(
            "An unaccepted type or size (or an unsafe or taken name) refuses the request: 400 "
            "with per-file `errors`, nothing written. With `all_or_nothing=false` the accepted "
            "files are saved and the refused ones listed in `errors` (400 when none was)."
        ),
        request={"multipart/form-data": UploadSerializer},
        responses={201: UploadReplySerializer, 400: DetailSerializer, 404: DetailSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request: Request, pk: str | None = None) -> Response:
        staging = None
        try:
            project = project_require_active(self._project())
            staging = upload_staging(request, project)
            files = upload_files(request)
            outcome = photos_upload(
                project=project,
                files=files,
                actor_id=request.user.pk,
                all_or_nothing=upload_flag(request, "all_or_nothing", default=True),
                rename=upload_field(request, "rename"),
            )
        finally:
            # Whatever was streamed into the project folder and not published goes now.
            if staging is not None:
                staging.discard()
        code, body = upload_reply(outcome)
        return Response(body, status=code)

    @extend_schema(
        summary="Commit this project's pending deletes (change_commit)",
        request=None,
        responses={
            202: CommitReplySerializer,
            200: CommitReplySerializer,
            400: DetailSerializer,
            404: DetailSerializer,
        },
    )
    @action(detail=True, methods=["post"], url_path="commit-changes")
    def commit_changes(self, request: Request, pk: str | None = None) -> Response:
        code, body = commit_reply(
            photo_services.project_commit(user=request.user, project=self._project())
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Revert this project's keep flags to availability",
        request=None,
        responses={200: RevertReplySerializer, 400: DetailSerializer, 404: DetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="revert-changes")
    def revert_changes(self, request: Request, pk: str | None = None) -> Response:
        reverted = photo_services.project_revert(user=request.user, project=self._project())
        return Response(revert_body(reverted), status=status.HTTP_200_OK)

    @extend_schema(
        summary="Generate derivatives for every photo of this project",
        request=ProcessSerializer,
        responses={202: ProcessReplySerializer, 400: DetailSerializer, 404: DetailSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def process(self, request: Request, pk: str | None = None) -> Response:
        project = self._project()
        data = body_validate(ProcessSerializer, request.data or {}, limit_fields=())
        code, body = process_reply(
            photo_services.project_process(user=request.user, project=project, force=data["force"])
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Correct one camera's clock: shift its photos' capture time (a task)",
        request=ClockOffsetBodySerializer,
        responses={
            202: ClockOffsetReplySerializer,
            400: DetailSerializer,
            403: DetailSerializer,
            404: DetailSerializer,
        },
    )
    @action(detail=True, methods=["post"], url_path="clock-offset", url_name="clock-offset")
    def clock_offset(self, request: Request, pk: str | None = None) -> Response:
        project = self._project()
        data = body_validate(ClockOffsetBodySerializer, request.data or {}, limit_fields=())
        started = project_clock_correct_start(
            user=request.user, project=project, camera=data["camera"], seconds=data["seconds"]
        )
        code, body = process_reply(ProcessStarted(task=started.task))
        return Response({**body, "photos": started.photos}, status=code)

    @extend_schema(
        summary="The project's trash: trashed photos and photos with files in .trash/",
        responses={200: TrashedPhotoSerializer(many=True), 404: DetailSerializer},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        pagination_class=PageSizePagination,
    )
    def trash(self, request: Request, pk: str | None = None) -> Response:
        project = self._project()
        paginator = PageSizePagination()
        page = paginator.paginate_queryset(
            project_trash_queryset(user=request.user, project=project), request, view=self
        )
        return paginator.get_paginated_response(
            TrashedPhotoSerializer(trash_entries(list(page or [])), many=True).data
        )

    @extend_schema(
        methods=["GET"],
        summary="The project's jobs",
        parameters=JOB_LIST_PARAMETERS,
        responses=JobSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Start a task on this project",
        request=ProjectTaskStartSerializer,
        responses={
            202: TaskStartedReplySerializer,
            400: DetailSerializer,
            404: DetailSerializer,
            409: OpenApiResponse(DetailSerializer, description="A single-flight task is active."),
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        pagination_class=PageSizePagination,
    )
    def jobs(self, request: Request, pk: str | None = None) -> Response:
        project = self._project()
        if request.method == "POST":
            data = body_validate(ProjectTaskStartSerializer, request.data)
            task_throttle_check(request=request, view=self, task_type=data["task_type"])
            reply = task_start_reply(
                user=request.user,
                task_type=data["task_type"],
                project=project,
                items=data.get("items"),
                payload=data.get("payload"),
            )
            return Response(reply, status=status.HTTP_202_ACCEPTED)
        queryset = Job.objects.for_user(request.user).filter(project=project)
        filterset = JobFilter(
            request.query_params, queryset=queryset.order_by("-created_at", "-id")
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        paginator = PageSizePagination()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True).data)


def upload_staging(request: Request, project: Project) -> Staging | None:
    """Where this upload's files stream: the staging the ASGI gate set up for an admitted
    upload (``config/upload_gate.py``), else one set up now for the project folder, before the
    body is parsed. ``None`` when something parsed the body first (Django's handlers then
    held it; ``photo_files_save`` stages a copy)."""
    django_request = request._request
    for handler in django_request.upload_handlers:
        if isinstance(handler, StagingUploadHandler):
            return handler.staging
    staging = Staging(upload_folder(project))
    try:
        django_request.upload_handlers = [StagingUploadHandler(staging, django_request)]
    except (
        AttributeError
    ):  # "You cannot set the upload handlers after the upload has been processed."
        return None
    return staging


def upload_files(request: Request) -> list[Any]:
    """The multipart field ``files``; 400 when the body ended early or holds no file."""
    try:
        files = request.FILES.getlist(UPLOAD_FIELD)
    except UnreadablePostError:
        raise ParseError("The upload ended before its body did.") from None
    if not files:
        raise ValidationError({"detail": "No files were sent; use the multipart field 'files'."})
    return list(files)


def upload_field(request: Request, name: str) -> str | None:
    """A form field of the upload, else the query parameter of that name."""
    value = request.data.get(name, request.query_params.get(name))
    return None if value in (None, "") else str(value)


def upload_flag(request: Request, name: str, *, default: bool) -> bool:
    value = upload_field(request, name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
