"""Wake open event streams when events commit, instead of every stream polling the outbox.

One listener per web process (a daemon thread) and any number of streams in it:

- **PostgreSQL** (``EVENTS_WAKEUP=postgres``, the default there): a statement trigger on
  ``jobs_event`` (migration ``jobs.0004``) runs ``pg_notify('photolib_events', tenant_id)``
  for each tenant of the inserted rows. NOTIFY is transactional: it is delivered when the
  change's transaction commits and never when it rolls back, and PostgreSQL folds identical
  notifications of one transaction into one. The listener holds one direct connection doing
  ``LISTEN`` (not through a transaction-pooling pgbouncer, which drops LISTEN).
- **Redis** (``EVENTS_WAKEUP=redis``): ``event_record`` publishes the tenant ids on the
  ``photolib_events`` channel after the commit; the listener subscribes.
- **SQLite** (``poll``): no listener; streams poll every ``EVENTS_STREAM_POLL_SECONDS``.

A wake-up carries only a tenant id: streams read the events themselves, through the tenant
scope, so a lost, duplicated or foreign notification costs one query and never leaks an
event. Streams subscribed while the listener is down, or in the second after it
reconnected, poll; and the listener wakes every stream every
``EVENTS_STREAM_SAFETY_POLL_SECONDS`` whatever happens (all at once, so the streams of a
tenant share one read), so a missed notification delays an event and never loses it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import psycopg
import redis
from django.conf import settings
from psycopg.conninfo import make_conninfo

logger = logging.getLogger(__name__)

CHANNEL = "photolib_events"
ALL_TENANTS = 0  # the key of superusers' streams: woken by every tenant's events
RECONNECT_SECONDS = 2.0
STOP_CHECK_SECONDS = 1.0  # how long a wait for a notification lasts before looking again
KEEPALIVE_SECONDS = 30.0


def wakeup_mode() -> str:
    """``postgres``, ``redis`` or ``poll`` from ``EVENTS_WAKEUP`` (``auto`` picks by backend)."""
    mode = str(getattr(settings, "EVENTS_WAKEUP", "auto")).strip().lower()
    if mode != "auto":
        return mode
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "postgres"
    if str(settings.Q_BROKER).startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    return "poll"


class Subscription:
    """One stream's wake-up flag, set from the listener thread through the stream's loop."""

    def __init__(self, hub: WakeupHub, key: int) -> None:
        self.hub = hub
        self.key = key
        self.loop = asyncio.get_running_loop()
        self.flag = asyncio.Event()
        self.woken_at = 0.0  # time.monotonic() of the latest wake-up

    @property
    def live(self) -> bool:
        """Whether wake-ups arrive now (otherwise the stream polls)."""
        return self.hub.live

    def clear(self) -> None:
        """Forget earlier wake-ups: call before reading the outbox, so one that arrives while
        reading is kept for the next wait."""
        self.flag.clear()

    async def wait(self, timeout: float) -> bool:
        """Whether a wake-up came within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.flag.wait(), timeout=max(timeout, 0))
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.hub.unsubscribe(self)


def _wake_group(group: list[Subscription]) -> None:
    """In the streams' loop: mark them woken at one moment and set their flags."""
    now = time.monotonic()
    for subscription in group:
        subscription.woken_at = now
        subscription.flag.set()


class WakeupHub:
    """The listener thread of this process and the streams waiting on it."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._lock = threading.Lock()
        self._subscriptions: dict[int, set[Subscription]] = {}
        self._thread: threading.Thread | None = None
        self._connected = False
        self._connected_at = 0.0
        self._stopping = threading.Event()
        self._safety_at = 0.0
        self.notifications = 0  # received, for tests and benchmarks

    @property
    def live(self) -> bool:
        # Right after (re)connecting, a notification sent before LISTEN took effect is lost:
        # keep polling for a moment.
        return self._connected and time.monotonic() - self._connected_at > 1.0

    def subscribe(self, tenant_id: int | None) -> Subscription:
        """A flag set when an event of ``tenant_id`` commits (``None``: of any tenant)."""
        subscription = Subscription(self, tenant_id or ALL_TENANTS)
        with self._lock:
            self._subscriptions.setdefault(subscription.key, set()).add(subscription)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"event-wakeups-{self.mode}", daemon=True
                )
                self._thread.start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            group = self._subscriptions.get(subscription.key)
            if group is not None:
                group.discard(subscription)
                if not group:
                    del self._subscriptions[subscription.key]

    def wake(self, tenant_ids: Iterable[int] | None) -> None:
        """Set the flags of the streams of ``tenant_ids`` and of superusers (``None``: all)."""
        with self._lock:
            if tenant_ids is None:
                targets = [s for group in self._subscriptions.values() for s in group]
            else:
                keys = {*tenant_ids, ALL_TENANTS}
                targets = [s for key in keys for s in self._subscriptions.get(key, ())]
        # One callback per event loop sets all of its streams' flags at once, so they all
        # resume after the same wake-up time and can share one read (``_read_shared``).
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
        for subscription in targets:
            by_loop.setdefault(subscription.loop, []).append(subscription)
        for loop, group in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake_group, group)
            except RuntimeError:  # The loop is closed: its streams are going away.
                pass

    def _received(self, payload: str) -> None:
        self.notifications += 1
        ids = [int(part) for part in payload.split(",") if part.strip().isdigit()]
        self.wake(ids if ids else None)

    def stop(self, timeout: float = 5.0) -> None:
        """End the listener thread and close its connection (tests, before a database drop)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.mode == "postgres":
                    self._listen_postgres()
                else:
                    self._listen_redis()
            except Exception:  # Reconnect on any failure; streams poll meanwhile.
                logger.warning("Event wake-ups lost their connection; reconnecting", exc_info=True)
            finally:
                self._connected = False
            self._stopping.wait(RECONNECT_SECONDS)

    def _tick(self) -> None:
        """Every ``EVENTS_STREAM_SAFETY_POLL_SECONDS``, wake every stream at once: a missed
        notification is found by one shared read per tenant, not one read per stream."""
        now = time.monotonic()
        if now - self._safety_at >= float(settings.EVENTS_STREAM_SAFETY_POLL_SECONDS):
            self._safety_at = now
            self.wake(None)

    def _on_connected(self) -> None:
        self._connected = True
        self._connected_at = self._safety_at = time.monotonic()
        # Anything may have been committed while no one listened: every stream looks once.
        self.wake(None)

    def _listen_postgres(self) -> None:

        with psycopg.connect(postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._on_connected()
            checked = time.monotonic()
            while not self._stopping.is_set():
                for notify in conn.notifies(timeout=STOP_CHECK_SECONDS):
                    self._received(notify.payload)
                self._tick()
                if time.monotonic() - checked > KEEPALIVE_SECONDS:
                    conn.execute("SELECT 1")  # notice a dead server while idle
                    checked = time.monotonic()

    def _listen_redis(self) -> None:

        client = redis.Redis.from_url(
            settings.EVENTS_WAKEUP_REDIS_URL, socket_keepalive=True, health_check_interval=30
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            self._on_connected()
            checked = time.monotonic()
            while not self._stopping.is_set():
                message = pubsub.get_message(timeout=STOP_CHECK_SECONDS)
                self._tick()
                if message is None:
                    if time.monotonic() - checked > KEEPALIVE_SECONDS:
                        pubsub.ping()
                        checked = time.monotonic()
                    continue
                data = message.get("data")
                self._received(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            pubsub.close()
            client.close()


def postgres_conninfo() -> str:
    """The libpq connection string of Django's default database."""

    db: Any = settings.DATABASES["default"]
    params = {
        "dbname": db.get("NAME") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    for key, value in (db.get("OPTIONS") or {}).items():
        if isinstance(value, str | int) and key not in {"isolation_level", "server_side_binding"}:
            params[key] = str(value)
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


_hub: WakeupHub | None = None
_hub_lock = threading.Lock()


def hub() -> WakeupHub | None:
    """This process's hub, or ``None`` when streams poll (SQLite, ``EVENTS_WAKEUP=poll``)."""
    global _hub
    mode = wakeup_mode()
    if mode == "poll":
        return None
    with _hub_lock:
        if _hub is None or _hub.mode != mode:
            if _hub is not None:
                _hub.stop()
            _hub = WakeupHub(mode)
        return _hub


def hub_stop() -> None:
    """Stop this process's listener (tests: before the test database is dropped)."""
    global _hub
    with _hub_lock:
        if _hub is not None:
            _hub.stop()
            _hub = None


def redis_publish(tenant_ids: Iterable[int]) -> None:
    """Publish a wake-up for ``tenant_ids`` (Redis mode; call after the commit)."""

    ids = sorted(set(tenant_ids))
    if not ids:
        return
    try:
        client = _redis_client()
        client.publish(CHANNEL, ",".join(map(str, ids)))
    except redis.RedisError:  # The safety poll delivers the event a little later.
        logger.warning("Could not publish an event wake-up", exc_info=True)


_redis: Any = None


def _redis_client() -> Any:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.EVENTS_WAKEUP_REDIS_URL)
    return _redis
