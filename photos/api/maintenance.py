"""Maintenance now (SPEC §9): ``POST /api/maintenance/run`` and ``/api/maintenance/discover``.

Thin adapters over ``maintenance_start`` and ``discovery_start``, which start the product's
maintenance and discovery tasks (the engine's API names no task of the product).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.payloads import body_validate
from core.api.throttling import MaintenanceThrottle
from jobs.api.serializers import (
    DetailSerializer,
    MaintenanceSerializer,
    TaskConflictSerializer,
    TaskIdReplySerializer,
)
from photos.services.projects import discovery_start, maintenance_start
from projects.api.permissions import RoleActionSpec
from projects.models import Project
from projects.roles import Action
from projects.selectors import project_for_user, tenant_for_user


def _project_of(user: Any, project_id: int | None) -> Project | None:
    return None if project_id is None else project_for_user(user=user, project=project_id)


_MAINTENANCE_RESPONSES = {
    202: TaskIdReplySerializer,
    400: DetailSerializer,
    404: DetailSerializer,
    409: OpenApiResponse(TaskConflictSerializer, description="One is already queued or running."),
}


@extend_schema(
    summary="Run maintenance now: maintenance_global, or maintenance of one project",
    tags=["maintenance"],
    request=MaintenanceSerializer,
    responses=_MAINTENANCE_RESPONSES,
)
class MaintenanceRunView(APIView):
    throttle_classes = [MaintenanceThrottle]
    role_actions: dict[str, RoleActionSpec] = {"post": Action.MAINTENANCE}

    def post(self, request: Request) -> Response:
        data = body_validate(MaintenanceSerializer, request.data or {}, limit_fields=())
        project = _project_of(request.user, data.get("project"))
        tenant = project.tenant if project is not None else tenant_for_user(user=request.user)
        started = maintenance_start(tenant=tenant, project=project, source="user")
        return Response({"task_id": started["task_id"]}, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    summary="Discover new folders under the tenant root (folder_discovery)",
    tags=["maintenance"],
    request=MaintenanceSerializer,
    responses=_MAINTENANCE_RESPONSES,
)
class MaintenanceDiscoverView(APIView):
    throttle_classes = [MaintenanceThrottle]
    role_actions: dict[str, RoleActionSpec] = {"post": Action.MAINTENANCE}

    def post(self, request: Request) -> Response:
        data = body_validate(MaintenanceSerializer, request.data or {}, limit_fields=())
        if _project_of(request.user, data.get("project")) is not None:
            raise ValidationError({"detail": "This task runs over the whole tenant; omit project."})
        started = discovery_start(tenant=tenant_for_user(user=request.user), source="user")
        return Response({"task_id": started["task_id"]}, status=status.HTTP_202_ACCEPTED)
