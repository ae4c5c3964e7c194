"""``GET /api/events/stream``: Server-Sent Events from the outbox (SPEC §10).

An async view, so that under ASGI an open stream costs a coroutine and not a worker thread:
other requests keep answering with any number of streams open. An idle stream waits for a
wake-up from the process's listener (``jobs.wakeups``: PostgreSQL LISTEN/NOTIFY, Redis pub/sub)
and reads the outbox only then; on SQLite it polls. The ORM is synchronous, so each read runs
through ``sync_to_async`` (thread-sensitive: the database connection is closed when the stream
ends).

Every event is sent as ``id:`` (the event id), ``event:`` (its type) and ``data:`` (JSON). A
client resumes with the ``Last-Event-ID`` header (browsers send it when they reconnect) or
``?last_event_id=``; without either the stream starts after the newest event. Delivery is at
least once: on PostgreSQL a transaction that took a lower id can commit after a higher id was
sent, so ids seen missing are re-checked for ``GAP_SECONDS`` and sent late when they appear;
clients drop an id they have already seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from django.db.models import Max, Q
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)

from jobs.models import Event
from jobs.wakeups import hub
from projects.models import tenant_id_for_user

logger = logging.getLogger(__name__)

BATCH = 500
GAP_SECONDS = 10.0
MAX_GAPS = 1000
RETRY_MILLISECONDS = 3000


def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    tenant_id_for_user(token.user)  # Cache the tenant while we are on a sync thread.
    return token.user


def _session_user_ready(user: Any) -> Any:
    tenant_id_for_user(user)
    return user


async def stream_authenticate(request: HttpRequest) -> Any:
    """The user of a token (``Authorization: Token <key>``) or of the session, or ``None``."""
    header = request.headers.get("Authorization", "")
    if header:
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "token":
            return None
        return await sync_to_async(_user_for_token)(parts[1])
    user = await request.auser()
    if not user.is_authenticated or not user.is_active:
        return None
    return await sync_to_async(_session_user_ready)(user)


def _latest_id(user: Any) -> int:
    return Event.objects.for_user(user).aggregate(m=Max("id"))["m"] or 0


def _fetch(user: Any, after_id: int, gap_ids: list[int]) -> list[Mapping[str, Any]]:
    condition = Q(id__gt=after_id)
    if gap_ids:
        condition |= Q(id__in=gap_ids)
    return list(
        Event.objects.for_user(user)
        .filter(condition)
        .order_by("id")
        .values(
            "id",
            "type",
            "tenant_id",
            "actor_id",
            "project_id",
            "photo_id",
            "job_id",
            "payload",
            "created_at",
        )[:BATCH]
    )


def _release_connection() -> None:
    close_old_connections()
    from django.db import connection

    connection.close()


def event_format(event: Mapping[str, Any]) -> str:
    data = json.dumps(event, cls=DjangoJSONEncoder, separators=(",", ":"))
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


async def event_messages(user: Any, after_id: int, *, once: bool = False) -> AsyncIterator[str]:
    """Send the outbox's new events forever (or ``EVENTS_STREAM_MAX_SECONDS``) as SSE messages.

    Where the process has wake-ups (``jobs.wakeups``: PostgreSQL LISTEN/NOTIFY or Redis
    pub/sub) the stream reads the outbox only when woken, plus a safety read every
    ``EVENTS_STREAM_SAFETY_POLL_SECONDS``; an idle stream costs no query, heartbeats included.
    Without them (SQLite) it polls every ``EVENTS_STREAM_POLL_SECONDS``.

    With ``once`` the stream ends after the first read: under a WSGI server (``runserver``,
    tests) Django buffers an async stream whole, so an endless one would never answer. The
    client then reconnects after ``retry`` with its ``Last-Event-ID``, which is long polling.
    """
    poll = max(float(settings.EVENTS_STREAM_POLL_SECONDS), 0.05)
    safety = max(float(settings.EVENTS_STREAM_SAFETY_POLL_SECONDS), poll)
    heartbeat = max(float(settings.EVENTS_STREAM_HEARTBEAT_SECONDS), 0.1)
    max_seconds = float(settings.EVENTS_STREAM_MAX_SECONDS)
    fetch = sync_to_async(_fetch)
    started = last_write = last_read = time.monotonic()
    # Ids below the newest one sent that were not there yet: id -> when to stop looking.
    # SQLite's IMMEDIATE transactions commit in id order, so only other databases need this.
    # A late transaction's commit sends its own wake-up, so woken streams find it then.
    track_gaps = "sqlite" not in settings.DATABASES["default"]["ENGINE"]
    gaps: dict[int, float] = {}
    wakeups = None if once else hub()
    subscription = wakeups.subscribe(_stream_tenant_id(user)) if wakeups else None
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: stream open\n\n"
        read = True
        while True:
            now = time.monotonic()
            events: list[Mapping[str, Any]] = []
            if read:
                for gap_id in [g for g, until in gaps.items() if until < now]:
                    del gaps[gap_id]
                if subscription is not None:
                    subscription.clear()
                events = await fetch(user, after_id, sorted(gaps))
                last_read = time.monotonic()
            chunk = []
            for event in events:
                event_id = event["id"]
                if event_id in gaps:
                    del gaps[event_id]
                elif event_id > after_id:
                    if track_gaps and event_id > after_id + 1 and len(gaps) < MAX_GAPS:
                        for missing in range(after_id + 1, min(event_id, after_id + 1 + MAX_GAPS)):
                            gaps.setdefault(missing, now + GAP_SECONDS)
                    after_id = event_id
                else:
                    continue
                chunk.append(event_format(event))
            now = time.monotonic()
            if chunk:
                yield "".join(chunk)
                last_write = now
            elif now - last_write >= heartbeat:
                yield f": heartbeat {int(time.time())}\n\n"
                last_write = now
            if once or (max_seconds and now - started >= max_seconds):
                return
            if len(events) >= BATCH:
                read = True  # more are waiting: read on at once
            elif subscription is not None and subscription.live:
                until = min(last_write + heartbeat, last_read + safety)
                if max_seconds:
                    until = min(until, started + max_seconds)
                woken = await subscription.wait(until - time.monotonic())
                read = woken or time.monotonic() - last_read >= safety
            else:
                await asyncio.sleep(poll)
                read = True
    finally:
        if subscription is not None:
            subscription.close()
        try:
            await sync_to_async(_release_connection)()
        except Exception:  # Never mask the client's disconnect with a cleanup error.
            logger.debug("Could not release the stream's database connection", exc_info=True)


def _stream_tenant_id(user: Any) -> int | None:
    """The tenant whose wake-ups the stream needs (``None``: a superuser's, every tenant)."""
    if getattr(user, "is_superuser", False):
        return None
    tenant_id = getattr(user, "_photolib_tenant_id", None)
    return -1 if tenant_id is None else tenant_id  # no tenant: sees nothing, woken by nothing


def _not_authenticated() -> HttpResponse:
    response = JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    response["WWW-Authenticate"] = "Token"
    return response


async def event_stream(request: HttpRequest) -> HttpResponseBase:
    """Server-Sent Events of the caller's tenant; see the module docstring."""
    if request.method not in ("GET", "HEAD"):
        not_allowed = JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status=405
        )
        not_allowed["Allow"] = "GET, HEAD"
        return not_allowed
    user = await stream_authenticate(request)
    if user is None:
        return _not_authenticated()
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if raw:
        try:
            after_id = int(raw.strip())
        except ValueError:
            return JsonResponse(
                {"detail": "Last-Event-ID must be an event id (an integer)."}, status=400
            )
        after_id = max(after_id, 0)
    else:
        after_id = await sync_to_async(_latest_id)(user)
    under_wsgi = "wsgi.version" in request.META
    response = StreamingHttpResponse(
        event_messages(user, after_id, once=under_wsgi),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response
