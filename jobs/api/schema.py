"""OpenAPI parameters of list actions whose filters are not the viewset's own."""

from drf_spectacular.utils import OpenApiParameter

from jobs.models import JobItemStatus, JobStatus, Scope

JOB_LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=JobStatus.values, many=True, required=False),
    OpenApiParameter("type", str, required=False),
    OpenApiParameter("scope", str, enum=Scope.values, required=False),
    OpenApiParameter("task", str, required=False, description="Task id (UUID)"),
]

JOB_ITEM_PARAMETERS = [
    OpenApiParameter("status", str, enum=JobItemStatus.values, many=True, required=False),
]
