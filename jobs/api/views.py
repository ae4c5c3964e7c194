"""Jobs, tasks and maintenance triggers (SPEC §9). Thin over the engine (lifecycle, tasks).

Every queryset starts at ``for_user(request.user)``: another tenant's job or task is a 404,
exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.exceptions import api_detail_register
from core.api.pagination import PageSizePagination
from core.api.payloads import body_validate
from core.api.throttling import task_throttle_check
from jobs.definitions import task_definitions_public
from jobs.exceptions import TaskNotStartable
from jobs.lifecycle import job_cancel, job_retry
from jobs.models import Job, JobItem, TaskRun
from jobs.tasks import task_start
from projects.api.permissions import RoleActionSpec, task_type_action
from projects.models import Project
from projects.roles import Action
from projects.selectors import project_for_user, tenant_for_user

from .filters import JobFilter, JobItemFilter, TaskRunFilter
from .schema import JOB_ITEM_PARAMETERS
from .serializers import (
    DetailSerializer,
    JobDetailSerializer,
    JobItemSerializer,
    JobSerializer,
    TaskConflictSerializer,
    TaskDefinitionSerializer,
    TaskRunDetailSerializer,
    TaskRunSerializer,
    TaskStartedReplySerializer,
    TaskStartSerializer,
)

# What the API tells a client to do instead of starting these task types by name.
NOT_STARTABLE_DETAIL = {"project_delete": "Use DELETE /api/projects/{id}/ to delete a project."}
api_detail_register(TaskNotStartable, lambda exc: NOT_STARTABLE_DETAIL.get(exc.task_type, str(exc)))


def task_start_reply(
    *,
    user: Any,
    task_type: str,
    project: Project | None = None,
    scope: str | None = None,
    items: list[int] | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start a task for the caller (``task_start``) and return the ``{"task": {...}}`` body."""
    tenant = project.tenant if project is not None else tenant_for_user(user=user)
    started = task_start(
        tenant=tenant,
        task_type=task_type,
        project=project,
        scope=scope,
        items=items,
        payload=payload,
        source="user",
    )
    run = TaskRun.objects.values("scope", "status").get(pk=started["task_id"])
    return {
        "task": {
            **started,
            "scope": run["scope"],
            "status": run["status"],
            "project": project.pk if project is not None else None,
        }
    }


def _project_of(user: Any, project_id: int | None) -> Project | None:
    return None if project_id is None else project_for_user(user=user, project=project_id)


@extend_schema_view(
    list=extend_schema(summary="List jobs", tags=["jobs"]),
    retrieve=extend_schema(summary="One job with its item counts", tags=["jobs"]),
)
class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    filterset_class = JobFilter
    lookup_value_regex = r"[0-9]+"
    role_actions: dict[str, RoleActionSpec] = {
        "cancel": Action.JOB_CONTROL,
        "retry": Action.JOB_CONTROL,
    }

    def get_queryset(self) -> QuerySet[Job]:
        return Job.objects.for_user(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type:
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    @extend_schema(
        summary="The job's items",
        tags=["jobs"],
        responses=JobItemSerializer(many=True),
        parameters=JOB_ITEM_PARAMETERS,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=PageSizePagination)
    def items(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        filterset = JobItemFilter(
            request.query_params,
            queryset=JobItem.objects.for_user(request.user).filter(job=job).order_by("id"),
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        paginator = PageSizePagination()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        items = JobItemSerializer(page, many=True, context=self.get_serializer_context())
        return paginator.get_paginated_response(items.data)

    @extend_schema(
        summary="Cancel a job (and the rest of its task)",
        tags=["jobs"],
        request=None,
        responses={202: JobSerializer, 409: DetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = job_cancel(job_id=self.get_object().pk)
        reply = JobSerializer(job, context=self.get_serializer_context()).data
        return Response(reply, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Re-queue a failed or canceled job",
        tags=["jobs"],
        request=None,
        responses={202: JobSerializer, 409: DetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = job_retry(job_id=self.get_object().pk)
        reply = JobSerializer(job, context=self.get_serializer_context()).data
        return Response(reply, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List started tasks", tags=["tasks"]),
    retrieve=extend_schema(summary="One task with its jobs and progress", tags=["tasks"]),
)
class TaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilter
    # Starting a task is the action of its type (maintenance, commit, …): the body says which.
    role_actions: dict[str, RoleActionSpec] = {"create": task_type_action}
    lookup_url_kwarg = "task_id"
    lookup_value_regex = (
        r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    )

    def get_queryset(self) -> QuerySet[TaskRun]:
        return TaskRun.objects.for_user(self.request.user).order_by("-created_at")

    def get_serializer_class(self) -> type:
        return TaskRunDetailSerializer if self.action == "retrieve" else TaskRunSerializer

    @extend_schema(
        summary="Start a task",
        tags=["tasks"],
        request=TaskStartSerializer,
        responses={
            202: TaskStartedReplySerializer,
            400: DetailSerializer,
            404: DetailSerializer,
            409: TaskConflictSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        data = body_validate(TaskStartSerializer, request.data)
        task_throttle_check(request=request, view=self, task_type=data["task_type"])
        reply = task_start_reply(
            user=request.user,
            task_type=data["task_type"],
            project=_project_of(request.user, data.get("project")),
            scope=data.get("scope"),
            items=data.get("items"),
            payload=data.get("payload"),
        )
        return Response(reply, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Task definitions: steps, scopes, priorities",
        tags=["tasks"],
        responses=TaskDefinitionSerializer(many=True),
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def definitions(self, request: Request) -> Response:
        return Response(task_definitions_public())
