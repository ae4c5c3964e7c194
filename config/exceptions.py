"""The API's one exception handler: domain errors become DRF-shaped replies (SPEC §9).

Services raise ``PipelineError`` (its text is written for users, its ``status_code`` says how
bad), Django's ``ValidationError``, ``Http404`` or ``ObjectDoesNotExist``; views never build
error replies themselves.
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

from jobs.exceptions import PipelineError, TaskAlreadyRunning


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
        if isinstance(exc, TaskAlreadyRunning):
            body["task_id"] = exc.task_id
        return Response(body, status=getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST))
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
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist) and not isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
