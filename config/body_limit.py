"""Request bodies capped before Django reads them (SPEC §9, §14).

Django's ASGI handler reads a whole request body into a temporary file before any view or
authentication runs, so an anonymous client could make every web process buffer any amount of
data. ``BodyLimitMiddleware`` wraps the ASGI application and answers 413 instead:

- a declared ``Content-Length`` above the cap is refused before a single body byte is read;
- a body without one (chunked) is counted as it streams in, and refused as soon as it passes
  the cap, without reading further;
- an upload (``POST /api/projects/<id>/upload``) gets the larger ``PIPELINE_MAX_UPLOAD_BYTES``,
  but only once ``config/upload_gate.py`` has admitted it (valid token or session, length,
  role, throttle and project checked from the headers alone, before this layer runs): an
  anonymous upload gets the ordinary ``PIPELINE_MAX_BODY_BYTES`` and never reaches the 401
  with a large body buffered.

Behind a reverse proxy, set the proxy's own limit too (docs/OPERATIONS.md) so oversized bodies
never reach a web process at all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from core.api.admission import ADMITTED_UPLOAD_KEY
from core.credentials import header_token_key, token_user

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024

# ``ADMITTED_UPLOAD_KEY``: the ASGI scope key under which the upload gate puts the
# ``Admission`` of an upload it let through (only the server builds scopes: a client cannot
# set it); in core/api/admission.py, where the upload views read it.


def body_limits() -> tuple[int, int]:
    """``(ordinary cap, upload cap)`` in bytes, read from settings on every request."""
    body = int(getattr(settings, "PIPELINE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    upload = int(getattr(settings, "PIPELINE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    return body, max(body, upload)


async def request_is_authenticated(scope: Scope) -> bool:
    """Whether the request carries a valid API token or a logged-in session."""
    headers = dict(scope.get("headers") or [])
    return await sync_to_async(_credentials_valid, thread_sensitive=True)(headers)


def _credentials_valid(headers: dict[bytes, bytes]) -> bool:
    from django.db import connection

    try:
        return credentials_user(headers) is not None
    finally:
        # This runs before Django's request handling, on asgiref's shared thread, where no
        # request_finished ever closes a connection: one left open would go stale (a database
        # restart would then fail every later upload). Close it.
        connection.close()


def credentials_user(headers: dict[bytes, bytes]) -> Any:
    """The active user of the request's API token or logged-in session, else ``None``.

    Read from the headers alone, before Django handles the request (which authenticates it
    again as usual): the token through ``core.credentials``, as DRF's authentication reads it,
    the session through Django's own ``get_user`` (session hash checked). The caller closes the
    connection.
    """
    from django.contrib.auth import get_user

    key = header_token_key(headers.get(b"authorization", b"").decode("latin-1"))
    if key is not None:
        return token_user(key)
    cookie_header = headers.get(b"cookie", b"").decode("latin-1")
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    if morsel is None or not morsel.value:
        return None
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore(morsel.value[:64])
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return user if user.is_authenticated and user.is_active else None


async def send_error(
    send: Send,
    status: int,
    detail: str,
    *,
    body_data: dict[str, Any] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a JSON error (``{"detail": …}``, or ``body_data``) and close the connection."""
    body = json.dumps(body_data if body_data is not None else {"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def too_large_detail(limit: int) -> str:
    return f"Request body exceeds the limit of {limit} bytes."


class BodyLimitMiddleware:
    """ASGI middleware: 413 for request bodies over the cap, without reading past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, upload_limit = body_limits()
        if scope.get(ADMITTED_UPLOAD_KEY) is not None:
            limit = upload_limit

        declared = None
        for name, value in scope.get("headers") or []:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    await send_error(send, 400, "Invalid Content-Length header.")
                    return
        if declared is not None and declared > limit:
            await send_error(send, 413, too_large_detail(limit))
            return

        received = 0
        overflowed = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Make Django give up the request as if the client left; answer below.
                    overflowed = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if overflowed and not started:
            await send_error(send, 413, too_large_detail(limit))
