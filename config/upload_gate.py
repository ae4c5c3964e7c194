"""Uploads refused before their body is read, and streamed into the project folder (SPEC §9, §14).

Django's ASGI handler reads a whole request body into a temporary file (``TMPDIR``) before any
view, authentication or permission runs. For ``POST /api/projects/<id>/upload`` that meant any
valid token got the 2 GiB upload cap spooled to disk before its tenant, project, role,
throttle or size was looked at. Two parts fix it:

**The gate** (``UploadGateMiddleware``, an ASGI layer in front of the body cap of
``config/body_limit.py``; ``upload_admission`` with only the request's headers): the request's token or session (``body_limit.credentials_user``)
is looked up, then, answering exactly as the API does and before a byte of the body is read:

1. no ``Content-Length`` → 411, a declared length over ``PIPELINE_MAX_UPLOAD_BYTES`` → 413;
2. the role (``projects.permissions.require(user, Action.UPLOAD)``, the rule of the API's
   role permission) → 403, also for a user of no tenant;
3. the upload throttle (``throttle_check`` in the ``bulk`` scope, counted here once:
   ``UploadThrottle`` lets the view skip it for an admitted request) → 429 with
   ``Retry-After``;
4. the project in the user's tenant (another tenant's or a missing one → the API's 404),
   active (→ 400), with its folder on disk (→ 400).

A chunk of a resumable upload (``PATCH /api/uploads/<id>``, tus; ``resumable_admission``) is
admitted the same way: its length (411), the role (403), the upload being the caller's own
(404), the chunk within what remains of the upload's length (413); its body then streams to
the view, which appends it to the upload's partial file (``photos/tus.py``), with the upload
cap instead of the ordinary body cap.

Each refusal is built by the API's exception handler (``core.api.exceptions``), so its status
and body are the view's. An anonymous request is not the gate's: it gets the ordinary body cap
and the API's 401.

**The stream** (``UploadStreamingASGIHandler``, the product's ASGI handler): for a request the
gate admitted, Django is handed a body that reads from the connection as the parser asks
(``StreamingBody``), and the request's upload handler is ``photos.staging``'s, which writes
each file straight to a hidden temporary file in the project folder; no copy goes through
``TMPDIR``. The view checks, publishes and cleans up (``photos.ingest.photo_files_save``).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.http import UnreadablePostError
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, status

from core.api.admission import ADMITTED_UPLOAD_KEY, Admission
from core.api.exceptions import api_exception_handler
from core.api.throttling import BulkThrottle, throttle_check
from photos.ingest import upload_folder
from photos.models import ResumableUpload
from photos.staging import Staging, StagingUploadHandler
from photos.tus import TUS_VERSION
from photos.tus import UploadTooLarge as ChunkTooLarge
from projects.models import Project
from projects.permissions import require
from projects.roles import Action
from projects.selectors import project_require_active

from .body_limit import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    body_limits,
    credentials_user,
    send_error,
    too_large_detail,
)

UPLOAD_PATH = re.compile(r"^/api/projects/(?P<pk>[0-9]{1,18})/upload/?$")
# A chunk of a resumable upload (tus ``PATCH``, ``photos/api/uploads.py``).
RESUMABLE_PATH = re.compile(r"^/api/uploads/(?P<id>[0-9a-f]{32})/?$")


@dataclass(frozen=True)
class Refusal:
    status: int
    body: dict[str, Any]
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "An upload must declare its length (Content-Length)."


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def upload_project_id(scope: Scope) -> int | None:
    """The project id of an upload request (``POST /api/projects/<id>/upload``), else None."""
    if scope.get("method") != "POST":
        return None
    match = UPLOAD_PATH.match(scope.get("path", ""))
    return int(match["pk"]) if match else None


def upload_admission(
    *, headers: dict[bytes, bytes], project_id: int, declared: int | None
) -> Admission | Refusal | None:
    """Admit or refuse an upload from its headers alone; ``None`` for an anonymous request.

    Runs the checks in the view's order (role, throttle, project) after the length; the
    throttle counts the request once it is past the role check, as DRF's does.
    """
    user = credentials_user(headers)
    if user is None:
        return None
    try:
        _, upload_limit = body_limits()
        if declared is None:
            raise LengthRequired()
        if declared > upload_limit:
            raise UploadTooLarge(too_large_detail(upload_limit))
        require(user, Action.UPLOAD)
        # The use case's limiter, the one the view's throttle and the admin count with.
        throttle_check(scope=BulkThrottle.scope, user=user)
        project = get_object_or_404(Project.objects.for_user(user), pk=project_id)
        folder = upload_folder(project_require_active(project))
    except Exception as exc:
        return _refusal(exc)
    return Admission(user_id=user.pk, project_id=project.pk, folder=str(folder))


def resumable_upload_id(scope: Scope) -> str | None:
    """The upload id of a resumable upload's chunk (``PATCH /api/uploads/<id>``), else None."""
    if scope.get("method") != "PATCH":
        return None
    match = RESUMABLE_PATH.match(scope.get("path", ""))
    return match["id"] if match else None


def resumable_admission(
    *, headers: dict[bytes, bytes], upload_id: str, declared: int | None
) -> Admission | Refusal | None:
    """Admit or refuse a chunk of a resumable upload from its headers alone (``None`` for
    an anonymous request): the length (411 without one), the role (403), the upload, the
    user's own (404), and the chunk within the upload's declared length (413). The view
    checks the offset, the content type and the checksum."""
    user = credentials_user(headers)
    if user is None:
        return None
    try:
        if declared is None:
            raise LengthRequired()
        require(user, Action.UPLOAD)
        upload = ResumableUpload.objects.for_user(user).filter(pk=upload_id).first()
        if upload is None:
            raise exceptions.NotFound()
        remaining = upload.length - upload.offset
        if declared > remaining:
            raise ChunkTooLarge(
                f"The chunk is {declared} bytes; only {remaining} remain of the declared length."
            )
    except Exception as exc:
        refusal = _refusal(exc)
        refusal.headers.append((b"tus-resumable", TUS_VERSION.encode()))
        return refusal
    return Admission(user_id=user.pk, project_id=upload.project_id, folder="", resumable=True)


def _refusal(exc: Exception) -> Refusal:
    """The API's answer to ``exc`` (its exception handler's), as the gate sends it."""
    if isinstance(exc, ChunkTooLarge):
        return Refusal(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, {"detail": str(exc)})
    reply = api_exception_handler(exc, {})
    if reply is None:
        raise exc
    extra = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in reply.items()
        if name.lower() in {"retry-after", "www-authenticate"}
    ]
    return Refusal(reply.status_code, dict(reply.data or {}), extra)


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``; ``None`` when absent (or not a number: the body cap
    answers that one)."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class UploadGateMiddleware:
    """ASGI middleware: refuse an authenticated upload from its headers, or mark it admitted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_http = scope["type"] == "http"
        project_id = upload_project_id(scope) if is_http else None
        upload_id = resumable_upload_id(scope) if is_http else None
        if project_id is not None or upload_id is not None:
            headers = dict(scope.get("headers") or [])
            verdict = await sync_to_async(_admission_closing, thread_sensitive=True)(
                headers, project_id, upload_id, declared_length(scope)
            )
            if isinstance(verdict, Refusal):
                await send_error(
                    send, verdict.status, "", body_data=verdict.body, headers=verdict.headers
                )
                return
            if isinstance(verdict, Admission):
                scope = {**scope, ADMITTED_UPLOAD_KEY: verdict}
        await self.app(scope, receive, send)


def _admission_closing(
    headers: dict[bytes, bytes], project_id: int | None, upload_id: str | None, declared: int | None
) -> Admission | Refusal | None:
    try:
        if upload_id is not None:
            return resumable_admission(headers=headers, upload_id=upload_id, declared=declared)
        assert project_id is not None
        return upload_admission(headers=headers, project_id=project_id, declared=declared)
    finally:
        # Outside Django's request handling no ``request_finished`` closes the connection
        # (``body_limit._credentials_valid`` says why that matters).
        connection.close()


# --- streaming the admitted body ---------------------------------------------------------------


class UploadReceive:
    """The ``receive`` of an admitted upload: marks the request for the handler below, and
    tells when the body has been read to its end (or the client left)."""

    def __init__(self, receive: Receive, admission: Admission) -> None:
        self._receive = receive
        self.admission = admission
        self.drained = asyncio.Event()
        self.staging: Staging | None = None

    async def __call__(self) -> Message:
        return await self._receive()


class StreamingBody:
    """A request body read from the connection while the parser works on what came before.

    A task on the event loop (started by the first ``read``) pulls body messages into a
    buffer of at most ``READ_AHEAD`` bytes, so receiving overlaps parsing and writing; past
    that the server stops reading the socket (back-pressure, not a growing buffer). ``read``
    runs in the request's worker thread and waits on the event loop for enough bytes. A
    client that leaves mid-body is an ``UnreadablePostError``.
    """

    READ_AHEAD = 8 * 1024 * 1024

    def __init__(self, receive: UploadReceive) -> None:
        self._receive = self.upload = receive
        self.admission = receive.admission
        self._buffer = bytearray()
        self._ended = False
        self._client_left = False
        self._data = asyncio.Event()
        self._space = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._pump_task: asyncio.Task[None] | None = None

    async def _pump(self) -> None:
        try:
            while True:
                while len(self._buffer) >= self.READ_AHEAD:
                    self._space.clear()
                    await self._space.wait()
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    self._client_left = True
                    return
                self._buffer += message.get("body", b"")
                self._data.set()
                if not message.get("more_body", False):
                    return
        finally:
            self._ended = True
            self._data.set()
            self._receive.drained.set()

    async def _take(self, size: int) -> bytes:
        if self._pump_task is None:
            self._pump_task = asyncio.ensure_future(self._pump())
        while not self._ended and (size < 0 or len(self._buffer) < size):
            self._data.clear()
            await self._data.wait()
        if not self._buffer and self._client_left:
            raise UnreadablePostError("The client left before the upload ended.")
        take = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:take])
        del self._buffer[:take]
        self._space.set()
        return data

    def read(self, size: int = -1) -> bytes:
        if size == 0 or (self._ended and not self._buffer and not self._client_left):
            return b""
        return async_to_sync(self._take)(size)

    def readline(self, size: int = -1) -> bytes:
        line = bytearray()
        while size < 0 or len(line) < size:
            byte = self.read(1)
            if not byte:
                break
            line += byte
            if byte == b"\n":
                break
        return bytes(line)

    def close(self) -> None:
        """Stop reading ahead (the view answered without reading everything); any thread."""
        task = self._pump_task
        if task is not None and not task.done():
            self._loop.call_soon_threadsafe(task.cancel)
        self._buffer.clear()


class UploadStreamingASGIHandler(ASGIHandler):
    """Django's ASGI handler, except that an upload the gate admitted is not read ahead:
    its body streams to the parser, and its files to the project folder."""

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        admission = scope.get(ADMITTED_UPLOAD_KEY)
        if not isinstance(admission, Admission):
            await super().handle(scope, receive, send)
            return
        upload = UploadReceive(receive, admission)
        try:
            await super().handle(scope, upload, send)
        finally:
            if upload.staging is not None:
                # The view discards what it did not publish; this catches a request that
                # never reached it (a session's CSRF refusal parses the body first). In the
                # request's own thread, so after the view even if the client left early.
                await sync_to_async(upload.staging.discard, thread_sensitive=True)()

    async def read_body(self, receive: Any) -> Any:
        if isinstance(receive, UploadReceive):
            return StreamingBody(receive)
        return await super().read_body(receive)

    def create_request(self, scope: Any, body_file: Any) -> tuple[Any, Any]:
        request, error_response = super().create_request(scope, body_file)
        if (
            request is not None
            and isinstance(body_file, StreamingBody)
            and not body_file.admission.resumable
        ):
            staging = Staging(Path(body_file.admission.folder))
            body_file.upload.staging = staging
            # Set before anything parses the body (a session's CSRF check reads POST).
            request.upload_handlers = [StagingUploadHandler(staging, request)]
        return request, error_response

    async def listen_for_disconnect(self, receive: Any) -> None:
        if isinstance(receive, UploadReceive):
            # The body is still being read by the view: wait for its end before listening.
            await receive.drained.wait()
        await super().listen_for_disconnect(receive)
