"""The API's one exception handler: domain errors become DRF-shaped replies (SPEC §9).

Services raise ``PipelineError`` subclasses (their text is written for users and carries no
HTTP status), Django's ``ValidationError``, ``Http404`` or ``ObjectDoesNotExist``; the status
of each domain error class is chosen here, in ``DOMAIN_STATUS``, and nowhere else. Views never
build error replies themselves.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from jobs.exceptions import (
    JobStateError,
    NotFoundError,
    NoValidItems,
    PipelineError,
    TaskAlreadyRunning,
    TaskNotStartable,
)
from projects.roles import RoleRequired

from .throttling import RateLimited

# The first class an error is an instance of decides; any other PipelineError is a 400.
DOMAIN_STATUS: tuple[tuple[type[PipelineError], int], ...] = (
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (JobStateError, status.HTTP_409_CONFLICT),
    (TaskAlreadyRunning, status.HTTP_409_CONFLICT),
)


# What the API tells a client to do instead of starting these task types by name.
NOT_STARTABLE_DETAIL = {"project_delete": "Use DELETE /api/projects/{id}/ to delete a project."}


def domain_status(exc: PipelineError) -> int:
    """The HTTP status of a domain error."""
    for cls, code in DOMAIN_STATUS:
        if isinstance(exc, cls):
            return code
    return status.HTTP_400_BAD_REQUEST


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            ("detail" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {"detail": " ".join(exc.messages)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PipelineError):
        set_rollback()
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, TaskNotStartable):
            body["detail"] = NOT_STARTABLE_DETAIL.get(exc.task_type, str(exc))
        if isinstance(exc, TaskAlreadyRunning):
            body["task_id"] = exc.task_id
        if isinstance(exc, NoValidItems):
            body["errors"] = exc.errors
        return Response(body, status=domain_status(exc))
    if isinstance(exc, TooManyFilesSent | TooManyFieldsSent | RequestDataTooBig):
        # Django's own request limits (DATA_UPLOAD_MAX_*), hit while parsing the body.
        code = (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            if isinstance(exc, RequestDataTooBig)
            else status.HTTP_400_BAD_REQUEST
        )
        return Response({"detail": str(exc)}, status=code)
    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):
        # A client-sent id beyond 64 bits reached an ``__in`` lookup; PostgreSQL finds no row.
        set_rollback()
        return Response(
            {"detail": "A number in the request is out of range."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RateLimited):
        # A use case's throttle refused (``config.throttling.throttle_check``): 429 with
        # ``Retry-After``, as DRF's own throttles answer.
        exc = exceptions.Throttled(wait=exc.wait)
    elif isinstance(exc, RoleRequired):
        # The membership's role does not allow the action (SPEC §14): always 403, never 404,
        # since the caller may see the object.
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist) and not isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
