"""Resumable uploads over tus 1.0 at ``/api/uploads/`` (SPEC §9, §14; docs/API.md).

Core protocol with the creation, termination and checksum extensions:

- ``OPTIONS /api/uploads/``: ``Tus-Version``, ``Tus-Extension``, ``Tus-Max-Size``,
  ``Tus-Checksum-Algorithm``.
- ``POST /api/uploads/`` with ``Upload-Length`` and ``Upload-Metadata`` (``project``,
  ``filename``, optional ``rename``) → 201 with ``Location: /api/uploads/<id>``.
- ``HEAD /api/uploads/<id>`` → ``Upload-Offset`` and ``Upload-Length``.
- ``PATCH /api/uploads/<id>`` (``application/offset+octet-stream``, ``Upload-Offset``,
  optional ``Upload-Checksum``) → 204 with the new ``Upload-Offset``; the last chunk completes
  the upload through the upload use case (a refused file: 400 with the reasons).
- ``DELETE /api/uploads/<id>`` → 204 (the partial file is removed).
- ``GET /api/uploads/<id>`` → the upload's state and, once complete, its result (JSON).

Thin adapters over ``photos/tus.py``. An upload is its creator's: another user's id, or another
tenant's, is a 404. Every answer carries ``Tus-Resumable: 1.0.0``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api.throttling import UserScopeThrottle
from photos import tus
from photos.models import ResumableUpload
from projects.models import Project
from projects.roles import Action
from projects.selectors import project_require_active

OCTET_STREAM = "application/offset+octet-stream"
METADATA_MAX = 4096


class UploadCreateThrottle(UserScopeThrottle):
    """Resumable uploads started (one per file), per user."""

    scope = "uploads"


class TusError(APIException):
    """An answer tus defines (412, 413, 415, 460) in the API's ``{"detail"}`` shape."""

    def __init__(self, detail: str, code: int) -> None:
        super().__init__(detail)
        self.status_code = code


def tus_headers() -> dict[str, str]:
    return {
        "Tus-Version": tus.TUS_VERSION,
        "Tus-Extension": ",".join(tus.EXTENSIONS),
        "Tus-Max-Size": str(tus.max_size()),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS),
    }


def metadata_parse(header: str) -> dict[str, str]:
    """``Upload-Metadata: key base64,key base64`` → ``{key: text}``."""
    if len(header) > METADATA_MAX:
        raise ValidationError({"detail": "Upload-Metadata is too long."})
    found: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ValidationError(
                {"detail": f"Upload-Metadata {key!r} is not base64 of UTF-8 text."}
            ) from None
    return found


def int_header(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None or not value.isdigit() or len(value) > 19:
        raise ValidationError({"detail": f"{name} must be given as a non-negative integer."})
    return int(value)


class BodyNotParsed(BaseParser):
    """Any media type, read by nobody: a creation has no body, a chunk's body is streamed by
    the view itself. (A session's CSRF check looks at ``request.POST`` of a POST first.)"""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {}


class TusView(APIView):
    """What every tus endpoint shares: no body parsing by DRF, the protocol's headers, its
    version check and its status codes."""

    parser_classes = [BodyNotParsed]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.method != "GET":
            version = request.headers.get("Tus-Resumable")
            if version != tus.TUS_VERSION:
                raise TusError(f"Tus-Resumable must be {tus.TUS_VERSION}.", 412)

    def handle_exception(self, exc: Exception) -> Response:
        codes = {
            tus.UploadTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            tus.ChecksumMismatch: 460,
        }
        for cls, code in codes.items():
            if isinstance(exc, cls):
                return Response({"detail": str(exc)}, status=code)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = tus.TUS_VERSION
        response["Cache-Control"] = "no-store"
        if response.status_code == 412:
            response["Tus-Version"] = tus.TUS_VERSION
        return response

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT, headers=tus_headers())

    def _upload(self, pk: str) -> ResumableUpload:
        upload = (
            ResumableUpload.objects.for_user(self.request.user)
            .select_related("project__tenant")
            .filter(pk=pk)
            .first()
        )
        if upload is None:
            raise NotFound()
        return upload


@extend_schema(exclude=True)
class UploadCreateView(TusView):
    """``POST /api/uploads/``: start a resumable upload (tus creation)."""

    role_actions = {"post": Action.UPLOAD}

    def get_throttles(self) -> list[Any]:
        return [UploadCreateThrottle()] if self.request.method == "POST" else []

    def post(self, request: Request) -> Response:
        if request.headers.get("Upload-Defer-Length"):
            raise ValidationError({"detail": "Upload-Defer-Length is not supported."})
        length = int_header(request, "Upload-Length")
        meta = metadata_parse(request.headers.get("Upload-Metadata", ""))
        project_id = meta.get("project", "")
        if not project_id.isdigit() or len(project_id) > 18:
            raise ValidationError({"detail": "Upload-Metadata must name the project (its id)."})
        if not meta.get("filename"):
            raise ValidationError({"detail": "Upload-Metadata must name the file (filename)."})
        project = get_object_or_404(
            Project.objects.for_user(request.user).select_related("tenant"), pk=int(project_id)
        )
        upload = tus.resumable_upload_create(
            user=request.user,
            project=project_require_active(project),
            filename=meta["filename"],
            length=length,
            rename=meta.get("rename") or None,
        )
        location = reverse("upload-detail", kwargs={"pk": upload.pk})
        return Response(
            status=status.HTTP_201_CREATED,
            headers={"Location": location, "Upload-Offset": "0"},
        )


@extend_schema(exclude=True)
class UploadDetailView(TusView):
    """``HEAD``/``PATCH``/``DELETE``/``GET /api/uploads/<id>``."""

    role_actions = {"patch": Action.UPLOAD, "delete": Action.UPLOAD}

    def head(self, request: Request, pk: str) -> Response:
        upload = self._upload(pk)
        return Response(
            status=status.HTTP_200_OK,
            headers={"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)},
        )

    def get(self, request: Request, pk: str) -> Response:
        upload = self._upload(pk)
        return Response(
            {
                "id": upload.pk,
                "project": upload.project_id,
                "filename": upload.filename,
                "length": upload.length,
                "offset": upload.offset,
                "created_at": upload.created_at,
                "expires_at": upload.expires_at,
                "completed": upload.completed_at is not None,
                "result": upload.result,
            },
            headers={"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)},
        )

    def patch(self, request: Request, pk: str) -> Response:
        upload = self._upload(pk)
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != OCTET_STREAM:
            raise TusError(f"A PATCH must be sent as {OCTET_STREAM}.", 415)
        offset = int_header(request, "Upload-Offset")
        checksum = tus.checksum_parse(request.headers.get("Upload-Checksum"))
        declared = request.headers.get("Content-Length")
        appended = tus.resumable_upload_append(
            upload=upload,
            offset=offset,
            body=request._request,
            declared=int(declared) if declared and declared.isdigit() else None,
            checksum=checksum,
            actor_id=request.user.pk,
        )
        headers = {"Upload-Offset": str(appended.upload.offset)}
        result = appended.upload.result
        if appended.completed and not tus.upload_accepted(appended.upload):
            return Response(result, status=status.HTTP_400_BAD_REQUEST, headers=headers)
        return Response(status=status.HTTP_204_NO_CONTENT, headers=headers)

    def delete(self, request: Request, pk: str) -> Response:
        tus.resumable_upload_terminate(upload=self._upload(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
