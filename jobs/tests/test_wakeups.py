"""Event streams woken by PostgreSQL LISTEN/NOTIFY or Redis pub/sub (``jobs.wakeups``): an idle
stream reads nothing, one commit wakes every stream of its tenant (and superusers'), and no
other tenant's stream. The streams are the real ``event_messages`` generators in one event
loop, as uvicorn runs them; the outbox reads are counted by wrapping ``_fetch``."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Max

from jobs import wakeups
from jobs.api import stream, stream_slots
from jobs.events import event_record
from jobs.models import Event
from projects.models import tenant_id_for_user
from tests.factories import make_user

pytestmark = pytest.mark.timeout(90)
REDIS_URL = "redis://127.0.0.1:6379/11"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["postgres", "redis"])
def wakeup_mode(request, transactional_db, settings):
    if request.param == "postgres" and connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL")
    if request.param == "redis" and not _redis_up():
        pytest.skip("Redis is not running")
    settings.EVENTS_WAKEUP = request.param
    settings.EVENTS_WAKEUP_REDIS_URL = REDIS_URL
    settings.EVENTS_STREAM_HEARTBEAT_SECONDS = 0.2  # heartbeats must not read either
    settings.EVENTS_STREAM_SAFETY_POLL_SECONDS = 300
    settings.EVENTS_STREAM_POLL_SECONDS = 0.1
    yield request.param
    wakeups.hub_stop()


@pytest.fixture(autouse=True)
def _read_connections_closed():
    """The streams' read threads outlive the test: close their connections (the test
    database is dropped at the end)."""
    yield
    stream_slots.reads_close()


@pytest.fixture
def reads(monkeypatch):
    """Outbox reads per user id."""
    counts: Counter[int] = Counter()
    original = stream._fetch

    def counting(user, after_id, gap_ids):  # type: ignore[no-untyped-def]
        counts[user.pk] += 1
        return original(user, after_id, gap_ids)

    monkeypatch.setattr(stream, "_fetch", counting)
    return counts


async def _until(predicate, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def _users(tenant, other_tenant, superuser):  # type: ignore[no-untyped-def]
    mine = [make_user(tenant) for _ in range(20)]
    theirs = [make_user(other_tenant) for _ in range(3)]
    for user in [*mine, *theirs, superuser]:
        tenant_id_for_user(user)  # as stream_authenticate does
    return mine, theirs


def test_idle_streams_read_nothing_and_one_commit_wakes_every_stream_of_its_tenant(
    wakeup_mode, reads, tenant, other_tenant, superuser
):
    mine, theirs = _users(tenant, other_tenant, superuser)
    start = Event.objects.aggregate(m=Max("id"))["m"] or 0
    received: dict[int, list[str]] = {}

    async def consume(user) -> None:  # type: ignore[no-untyped-def]
        received[user.pk] = []
        async for message in stream.event_messages(user, start):
            if "event: test_ping" in message:
                received[user.pk].append(message)

    async def scenario() -> tuple[Counter[int], Counter[int]]:
        everyone = [*mine, *theirs, superuser]
        tasks = [asyncio.create_task(consume(user)) for user in everyone]
        hub = wakeups.hub()
        assert hub is not None
        assert hub.mode == wakeup_mode
        await _until(lambda: hub.live and all(reads[u.pk] for u in everyone))
        await asyncio.sleep(0.5)  # streams that polled before the listener was up settle
        idle_before = Counter(reads)
        await asyncio.sleep(2.0)  # ten heartbeats' worth of idling
        idle_after = Counter(reads)
        await sync_to_async(event_record)(tenant_id=tenant.pk, type="test_ping", payload={})
        await _until(lambda: all(received[u.pk] for u in [*mine, superuser]))
        await asyncio.sleep(0.3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return idle_before, idle_after

    idle_before, idle_after = asyncio.run(scenario())
    assert idle_after == idle_before, "an idle stream read the outbox"
    assert all(len(received[u.pk]) == 1 for u in [*mine, superuser])
    # Another tenant's streams got nothing and were not even woken.
    assert all(received[u.pk] == [] for u in theirs)
    assert all(reads[u.pk] == idle_after[u.pk] for u in theirs)
    # The woken streams read at most twice each (a wake-up during a read costs one more),
    # fewer when they share one read (``_read_shared``).
    assert 1 <= sum(reads[u.pk] - idle_after[u.pk] for u in mine) <= 2 * len(mine)


def test_a_rolled_back_event_wakes_nobody(wakeup_mode, reads, tenant, other_tenant, superuser):
    from django.db import transaction

    mine, _ = _users(tenant, other_tenant, superuser)

    def write_and_roll_back() -> None:
        with transaction.atomic():
            event_record(tenant_id=tenant.pk, type="test_ping", payload={})
            transaction.set_rollback(True)

    async def scenario() -> Counter[int]:
        tasks = [asyncio.create_task(_drain(user)) for user in mine[:3]]
        hub = wakeups.hub()
        assert hub is not None
        await _until(lambda: hub.live and all(reads[u.pk] for u in mine[:3]))
        await asyncio.sleep(0.5)
        before = Counter(reads)
        await sync_to_async(write_and_roll_back)()
        await asyncio.sleep(1.5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return before

    before = asyncio.run(scenario())
    assert all(reads[u.pk] == before[u.pk] for u in mine[:3])


async def _drain(user) -> None:  # type: ignore[no-untyped-def]
    async for _ in stream.event_messages(user, 0):
        pass


def test_without_wakeups_streams_poll(transactional_db, settings, reads, tenant, user):
    settings.EVENTS_WAKEUP = "poll"
    settings.EVENTS_STREAM_POLL_SECONDS = 0.1
    tenant_id_for_user(user)
    assert wakeups.hub() is None

    async def scenario() -> None:
        task = asyncio.create_task(_drain(user))
        await _until(lambda: reads[user.pk] >= 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())


def test_streams_of_a_tenant_share_a_read_that_began_after_their_wake_up(tenant, user):
    tenant_id_for_user(user)
    calls: list[int] = []

    async def slow_fetch(user, after_id, gap_ids):  # type: ignore[no-untyped-def]
        calls.append(after_id)
        await asyncio.sleep(0.2)
        return [{"id": after_id + 1}]

    async def scenario() -> list[list[dict[str, int]]]:
        woken_at = time.monotonic()
        first = asyncio.create_task(stream._read_shared(slow_fetch, user, 5, [], since=woken_at))
        await asyncio.sleep(0.05)
        # Woken before the running read began: joins it.
        joined = stream._read_shared(slow_fetch, user, 5, [], since=woken_at)
        # Woken after it began (a later commit): must read again.
        later = stream._read_shared(slow_fetch, user, 5, [], since=time.monotonic())
        # Another position: its own read.
        other = stream._read_shared(slow_fetch, user, 6, [], since=woken_at)
        return list(await asyncio.gather(first, joined, later, other))

    results = asyncio.run(scenario())
    assert sorted(calls) == [5, 5, 6]
    assert results[0] is results[1]
    assert results[2] == [{"id": 6}]
    assert not stream._reads_in_flight


def test_an_event_without_a_wake_up_arrives_with_the_safety_wake_up_read_once_per_tenant(
    transactional_db, settings, reads, tenant, other_tenant, superuser
):
    """With Redis wake-ups, an event written past ``event_record`` publishes nothing: the
    listener's periodic wake-up finds it, with one shared read for all of a tenant's streams
    rather than a poll per stream."""
    if not _redis_up():
        pytest.skip("Redis is not running")
    settings.EVENTS_WAKEUP = "redis"
    settings.EVENTS_WAKEUP_REDIS_URL = REDIS_URL
    settings.EVENTS_STREAM_SAFETY_POLL_SECONDS = 2
    settings.EVENTS_STREAM_HEARTBEAT_SECONDS = 30
    mine, _ = _users(tenant, other_tenant, superuser)
    start = Event.objects.aggregate(m=Max("id"))["m"] or 0
    received: dict[int, list[str]] = {u.pk: [] for u in mine}

    async def consume(user) -> None:  # type: ignore[no-untyped-def]
        async for message in stream.event_messages(user, start):
            if "event: test_silent" in message:
                received[user.pk].append(message)

    async def scenario() -> tuple[Counter[int], Counter[int]]:
        tasks = [asyncio.create_task(consume(user)) for user in mine]
        hub = wakeups.hub()
        assert hub is not None
        await _until(lambda: hub.live and all(reads[u.pk] for u in mine))
        await asyncio.sleep(2.5)
        before = Counter(reads)
        await sync_to_async(Event.objects.create)(tenant=tenant, type="test_silent", payload={})
        await _until(lambda: all(received[u.pk] for u in mine))
        after = Counter(reads)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return before, after

    try:
        before, after = asyncio.run(scenario())
    finally:
        wakeups.hub_stop()
    # At most a few safety rounds passed, each one read for the 20 streams, not 20.
    assert sum(after[u.pk] - before[u.pk] for u in mine) < len(mine)
