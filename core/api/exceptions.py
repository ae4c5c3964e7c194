"""The API's one exception handler: domain errors become DRF-shaped replies (SPEC §9).

Services raise ``ApplicationError`` subclasses (their text is written for users and carries no
HTTP status), Django's ``ValidationError``, ``Http404`` or ``ObjectDoesNotExist``; the status
of each domain error class is chosen here, in ``DOMAIN_STATUS``, and nowhere else. Views never
build error replies themselves.
"""

from __future__ import annotations

from collections.abc import Callable
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

from core.errors import AccessDenied, ApplicationError, ConflictError, NotFoundError

from .throttling import RateLimited

# The first class an error is an instance of decides; any other ApplicationError is a 400.
DOMAIN_STATUS: tuple[tuple[type[ApplicationError], int], ...] = (
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ConflictError, status.HTTP_409_CONFLICT),
)

# An app's own wording of an error for API clients (the first matching class decides); the
# message of any other error is its ``detail``.
_API_DETAIL: list[tuple[type[ApplicationError], Callable[[Any], str]]] = []


def api_detail_register(cls: type[ApplicationError], detail: Callable[[Any], str]) -> None:
    """Word ``cls``'s errors for API clients with ``detail(exc)`` instead of their message."""
    if (cls, detail) not in _API_DETAIL:
        _API_DETAIL.append((cls, detail))


def api_detail(exc: ApplicationError) -> str:
    for cls, detail in _API_DETAIL:
        if isinstance(exc, cls):
            return detail(exc)
    return str(exc)


def domain_status(exc: ApplicationError) -> int:
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
    if isinstance(exc, ApplicationError):
        set_rollback()
        body: dict[str, Any] = {"detail": api_detail(exc), **exc.details()}
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
        # A use case's throttle refused (``core.api.throttling.throttle_check``): 429 with
        # ``Retry-After``, as DRF's own throttles answer.
        exc = exceptions.Throttled(wait=exc.wait)
    elif isinstance(exc, AccessDenied):
        # The membership's role does not allow the action (SPEC §14): always 403, never 404,
        # since the caller may see the object.
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist) and not isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
