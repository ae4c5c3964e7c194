"""``GET /api/events/stream``: Server-Sent Events from the outbox (SPEC §10).

An async view. Under ASGI an idle stream is a coroutine awaiting a wake-up from the
process's listener (``jobs.wakeups``: PostgreSQL LISTEN/NOTIFY, Redis pub/sub) and reads the
outbox only then; on SQLite it polls. It holds no thread and no database connection of its
own: the ORM is synchronous, so each read runs through ``sync_to_async`` on the few threads of
``stream_slots.READS`` (shared by every stream of the process, so they share that many
connections), and Django's per-request thread is replaced by shared ones
(``jobs.api.stream_slots.EventStreamGate``, which also caps open streams per process and,
with ``claim_user`` below, per user: 429 beyond).

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
import weakref
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

from core.credentials import header_token_key, token_user
from core.server_signals import on_server_stop
from jobs.api.stream_slots import (
    READS,
    RETRY_AFTER_SECONDS,
    SCOPE_KEY,
    StreamSlot,
    too_many_detail,
)
from jobs.models import ITEM_ID, Event
from jobs.wakeups import hub
from projects.models import tenant_id_for_user

logger = logging.getLogger(__name__)

BATCH = 500
GAP_SECONDS = 10.0
MAX_GAPS = 1000
RETRY_MILLISECONDS = 3000

# Set when this process's web server is asked to stop (``streams_stop``): open streams end at
# once instead of holding uvicorn's graceful shutdown until it gives up and cancels them.
_stopping = False
# The loops of open streams and each loop's stop flag (one uvicorn loop per process).
_stop_flags: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)


def _stop_flag() -> asyncio.Event:
    loop = asyncio.get_running_loop()
    flag = _stop_flags.get(loop)
    if flag is None:
        flag = _stop_flags[loop] = asyncio.Event()
        if _stopping:
            flag.set()
        # The first stream of the loop: uvicorn's signal handlers are in place by now.
        on_server_stop(streams_stop)
    return flag


def streams_stop() -> None:
    """End every open stream of this process within a moment; new ones end at once.

    Safe to call from a signal handler: it only sets a flag and schedules the wake-ups on the
    streams' loops. Clients reconnect with ``Last-Event-ID`` to the next server.
    """
    global _stopping
    _stopping = True
    for loop, flag in list(_stop_flags.items()):
        if not loop.is_closed():
            loop.call_soon_threadsafe(flag.set)


async def _wait_unless_stopped(stop: asyncio.Event, waiting: Any) -> Any:
    """``await waiting``, or ``None`` as soon as ``stop`` is set."""
    if stop.is_set():
        waiting.close()
        return None
    task = asyncio.ensure_future(waiting)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None


def _user_for_token(key: str) -> Any:
    user = token_user(key)
    if user is not None:
        tenant_id_for_user(user)  # Cache the tenant while we are on a sync thread.
    return user


def _session_user_ready(user: Any) -> Any:
    tenant_id_for_user(user)
    return user


async def stream_authenticate(request: HttpRequest) -> Any:
    """The user of a token (``Authorization: Token <key>``) or of the session, or ``None``."""
    header = request.headers.get("Authorization", "")
    if header:
        key = header_token_key(header)
        if key is None:
            return None
        # Under ASGI on the shared pool: a burst of streams (every client reconnecting after
        # a restart) must not open one database connection each.
        return await _sync(request, _user_for_token)(key)
    user = await request.auser()
    if not user.is_authenticated or not user.is_active:
        return None
    return await sync_to_async(_session_user_ready)(user)


def _sync(request: HttpRequest, func: Any) -> Any:
    """``func`` for awaiting: under ASGI on the streams' shared read threads, under WSGI on
    the request's own thread (and connection)."""
    if "wsgi.version" in request.META:
        return sync_to_async(func)
    return sync_to_async(func, thread_sensitive=False, executor=READS)


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
            ITEM_ID,
            "job_id",
            "payload",
            "created_at",
        )[:BATCH]
    )


def _fetch_shared(user: Any, after_id: int, gap_ids: list[int]) -> list[Mapping[str, Any]]:
    """``_fetch`` on a thread of ``READS``: the streams of a process share its few database
    connections instead of holding one each (500 open streams would exhaust PostgreSQL's
    ``max_connections``). A connection that died while idle is replaced once."""
    from django.db import InterfaceError, OperationalError, connection

    try:
        return _fetch(user, after_id, gap_ids)
    except (InterfaceError, OperationalError):
        connection.close()
        return _fetch(user, after_id, gap_ids)


def _release_connection() -> None:
    close_old_connections()
    from django.db import connection

    connection.close()


def event_format(event: Mapping[str, Any]) -> str:
    data = json.dumps(event, cls=DjangoJSONEncoder, separators=(",", ":"))
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


async def event_messages(user: Any, after_id: int, *, once: bool = False) -> AsyncIterator[str]:  # noqa: C901 (one SSE loop: wake-ups, keep-alives, time and byte limits share its state)
    """Send the outbox's new events forever (or ``EVENTS_STREAM_MAX_SECONDS``) as SSE messages.

    Where the process has wake-ups (``jobs.wakeups``: PostgreSQL LISTEN/NOTIFY or Redis
    pub/sub) the stream reads the outbox only when woken (the listener also wakes every
    stream every ``EVENTS_STREAM_SAFETY_POLL_SECONDS``, and streams of a tenant woken together
    share one read); an idle stream costs no query, heartbeats included.
    Without them (SQLite) it polls every ``EVENTS_STREAM_POLL_SECONDS``.

    With ``once`` the stream ends after the first read: under a WSGI server (``runserver``,
    tests) Django buffers an async stream whole, so an endless one would never answer. The
    client then reconnects after ``retry`` with its ``Last-Event-ID``, which is long polling.
    """
    poll = max(float(settings.EVENTS_STREAM_POLL_SECONDS), 0.05)
    heartbeat = max(float(settings.EVENTS_STREAM_HEARTBEAT_SECONDS), 0.1)
    max_seconds = float(settings.EVENTS_STREAM_MAX_SECONDS)
    # Under WSGI the one read belongs to the request's own thread and connection.
    fetch = (
        sync_to_async(_fetch)
        if once
        else sync_to_async(_fetch_shared, thread_sensitive=False, executor=READS)
    )
    started = last_write = time.monotonic()
    # Ids below the newest one sent that were not there yet: id -> when to stop looking.
    # SQLite's IMMEDIATE transactions commit in id order, so only other databases need this.
    # A late transaction's commit sends its own wake-up, so woken streams find it then.
    track_gaps = "sqlite" not in settings.DATABASES["default"]["ENGINE"]
    gaps: dict[int, float] = {}
    wakeups = None if once else hub()
    subscription = wakeups.subscribe(_stream_tenant_id(user)) if wakeups else None
    stop = _stop_flag()
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: stream open\n\n"
        read, woken = True, False
        while not stop.is_set():
            now = time.monotonic()
            events: list[Mapping[str, Any]] = []
            if read:
                for gap_id in [g for g, until in gaps.items() if until < now]:
                    del gaps[gap_id]
                if subscription is not None:
                    subscription.clear()
                # A woken stream may share a read that began after its wake-up (and so
                # after the commit); any other read starts afresh.
                since = time.monotonic()
                if subscription is not None and woken:
                    since = subscription.woken_at
                if once:
                    events = await fetch(user, after_id, sorted(gaps))
                else:
                    events = await _read_shared(fetch, user, after_id, sorted(gaps), since=since)
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
                read, woken = True, False  # more are waiting: read on at once
            elif subscription is not None and subscription.live:
                # The listener's safety wake-ups replace a poll of each stream's own.
                until = last_write + heartbeat
                if max_seconds:
                    until = min(until, started + max_seconds)
                woken = bool(
                    await _wait_unless_stopped(stop, subscription.wait(until - time.monotonic()))
                )
                read = woken
            else:
                await _wait_unless_stopped(stop, asyncio.sleep(poll))
                read, woken = True, False
    finally:
        if subscription is not None:
            subscription.close()
        try:
            await sync_to_async(_release_connection)()
        except Exception:  # Never mask the client's disconnect with a cleanup error.
            logger.debug("Could not release the stream's database connection", exc_info=True)


# Reads in flight in this process, by (loop, tenant, position): one wake-up makes every
# stream of a tenant read from the same position, and they share one query instead of each
# running its own (500 streams of a studio: one read, not 500).
_reads_in_flight: dict[tuple[int, int, int, tuple[int, ...]], tuple[float, asyncio.Future]] = {}


async def _read_shared(
    fetch: Any, user: Any, after_id: int, gap_ids: list[int], *, since: float
) -> list[Mapping[str, Any]]:
    """``fetch(user, after_id, gap_ids)``, or the result of a read of the same tenant and
    position already running that began at or after ``since`` (the stream's wake-up: such a
    read began after the commit that woke it, so it sees that commit's events)."""
    tenant_id = _stream_tenant_id(user)
    if tenant_id is None or tenant_id < 0:  # superusers and the tenantless read alone
        return await fetch(user, after_id, gap_ids)
    loop = asyncio.get_running_loop()
    key = (id(loop), tenant_id, after_id, tuple(gap_ids))
    running = _reads_in_flight.get(key)
    if running is not None and running[0] >= since:
        return await asyncio.shield(running[1])
    logger.debug("Outbox read of tenant %s after id %s", tenant_id, after_id)
    future: asyncio.Future = loop.create_future()
    entry = (time.monotonic(), future)
    _reads_in_flight[key] = entry
    try:
        result = await fetch(user, after_id, gap_ids)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody joined
        raise
    else:
        future.set_result(result)
        return result
    finally:
        if _reads_in_flight.get(key) is entry:
            del _reads_in_flight[key]


def _stream_tenant_id(user: Any) -> int | None:
    """The tenant whose wake-ups the stream needs (``None``: a superuser's, every tenant)."""
    if getattr(user, "is_superuser", False):
        return None
    tenant_id = tenant_id_for_user(user)
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
    slot: StreamSlot | None = getattr(request, "scope", {}).get(SCOPE_KEY)
    if slot is not None and not slot.claim_user(user.pk):
        limit = int(settings.EVENT_STREAMS_PER_USER)
        logger.warning(
            "Event stream of user %s refused: %s open in this process (EVENT_STREAMS_PER_USER)",
            user.pk,
            limit,
        )
        refused = JsonResponse({"detail": too_many_detail(per="user", limit=limit)}, status=429)
        refused["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return refused
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
        after_id = await _sync(request, _latest_id)(user)
    under_wsgi = "wsgi.version" in request.META
    if not under_wsgi:
        # Give back the connection authentication used: an open stream holds none.
        await sync_to_async(_release_connection)()
    response = StreamingHttpResponse(
        event_messages(user, after_id, once=under_wsgi),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response
