"""Open event streams: capped per user and per process, and no thread each (SPEC §14).

``EventStreamGate`` wraps the ASGI application (``config/asgi.py``) and handles requests to
``/api/events/stream``:

- **Per process**: past ``EVENT_STREAMS_PER_PROCESS`` streams open in this process it answers
  429 itself, before Django, authentication or the database: a flood of streams costs a socket
  for a moment and one (rate-limited) log line, and the process keeps file descriptors for
  everyone else's API calls.
- **Per user**: the view (``jobs.api.stream``) claims its user on the request's slot once it
  has authenticated it, and answers 429 past ``EVENT_STREAMS_PER_USER`` of that user's streams
  open in this process. The count is per process: behind N web processes a user may hold up
  to N × the cap (each process still protects itself).
- **Release**: a slot is given back when the ASGI call returns, whatever ends it (the client
  disconnects, ``EVENTS_STREAM_MAX_SECONDS``, server shutdown cancelling the request, an
  error), so counts never leak.
- **No thread per stream**: Django runs each ASGI request in its own ``ThreadSensitiveContext``,
  and the first thread-sensitive call of the request (middleware, the ``request_started``
  signal, session authentication) starts a thread that lives as long as the request. For a
  stream that was one idle OS thread per open stream. The gate runs streams in a context bound
  to one of ``SYNC_THREADS`` shared single-thread executors instead, so their few synchronous
  steps (opening and closing) take turns on those threads, and an idle stream only awaits on
  the event loop. Their outbox reads run on ``READS`` (``READ_THREADS`` threads, so at most
  that many database connections for all of a process's streams).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STREAM_PATH = re.compile(r"^/api/events/stream/?$")
SCOPE_KEY = "photolib.event_stream_slot"
# A refused client should come back later than an EventSource's own 3 s retry.
RETRY_AFTER_SECONDS = 30

SYNC_THREADS = 2
READ_THREADS = 4
READS = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="event-stream-read")
_sync_executors = [
    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"event-stream-sync-{n}")
    for n in range(SYNC_THREADS)
]
_next_sync = itertools.cycle(_sync_executors)


def reads_close() -> None:
    """Close the database connections of ``READS``'s threads (tests: before the test database
    is dropped; a web process keeps them for its lifetime)."""
    # Each call waits until all READ_THREADS run at once, so each runs on its own thread.
    barrier = threading.Barrier(READ_THREADS, timeout=10)

    def close() -> None:
        connection.close()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass

    futures.wait([READS.submit(close) for _ in range(READ_THREADS)])


class StreamSlot:
    """One stream request's place in this process's counts."""

    def __init__(self, slots: StreamSlots) -> None:
        self._slots = slots
        self.user_id: int | None = None
        self.released = False

    def claim_user(self, user_id: int) -> bool:
        """Count the stream against ``user_id``; ``False`` (nothing counted) past the cap."""
        return self._slots.claim_user(self, user_id)

    def release(self) -> None:
        self._slots.release(self)


class StreamSlots:
    """This process's open streams, in total and per user (thread-safe: several event loops
    may serve one process, as in the browser tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0
        self.by_user: Counter[int] = Counter()

    def enter(self, *, limit: int) -> StreamSlot | None:
        with self._lock:
            if self.open >= limit:
                return None
            self.open += 1
        return StreamSlot(self)

    def claim_user(self, slot: StreamSlot, user_id: int) -> bool:
        limit = int(settings.EVENT_STREAMS_PER_USER)
        with self._lock:
            if slot.released or slot.user_id is not None:
                return slot.user_id == user_id
            if self.by_user[user_id] >= limit:
                return False
            self.by_user[user_id] += 1
            slot.user_id = user_id
        return True

    def release(self, slot: StreamSlot) -> None:
        with self._lock:
            if slot.released:
                return
            slot.released = True
            self.open -= 1
            if slot.user_id is not None:
                self.by_user[slot.user_id] -= 1
                if self.by_user[slot.user_id] <= 0:
                    del self.by_user[slot.user_id]


SLOTS = StreamSlots()


def too_many_detail(*, per: str, limit: int) -> str:
    if per == "user":
        return (
            f"Too many open event streams for this user ({limit}): close one (another tab) "
            f"or retry after {RETRY_AFTER_SECONDS} s."
        )
    return (
        f"Too many open event streams on this server ({limit}); retry after "
        f"{RETRY_AFTER_SECONDS} s."
    )


async def send_too_many(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class EventStreamGate:
    """ASGI middleware for ``/api/events/stream``; see the module docstring."""

    def __init__(self, app: ASGIApp, slots: StreamSlots = SLOTS) -> None:
        self.app = app
        self.slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not STREAM_PATH.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        limit = int(settings.EVENT_STREAMS_PER_PROCESS)
        slot = self.slots.enter(limit=limit)
        if slot is None:
            logger.warning(
                "Event stream refused: %s streams open in this process (EVENT_STREAMS_PER_PROCESS)",
                limit,
            )
            await send_too_many(send, too_many_detail(per="process", limit=limit))
            return
        scope[SCOPE_KEY] = slot
        try:
            async with ThreadSensitiveContext(executor=next(_next_sync)):
                await self.app(scope, receive, send)
        finally:
            slot.release()
