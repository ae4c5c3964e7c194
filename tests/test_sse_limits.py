"""Open event streams are capped per process and per user, and hold no thread each (SPEC §14).

Issue 20 item 4: 320 streams on one token exhausted a web process's file descriptors (every
tenant's API calls timed out, the log grew 228 MB in 30 s), and each open stream held an OS
thread. These tests start a real uvicorn (``tests/test_sse.py``'s ``Server``) and look from
outside: HTTP answers, ``/proc/<pid>/task`` and the server's log.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time

import pytest
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from jobs.api.stream_slots import READ_THREADS, SYNC_THREADS, EventStreamGate, StreamSlots
from tests.factories import make_user
from tests.test_sse import Server, Stream, ping
from tests.urls import api_path
from tests.workers import ROOT

pytestmark = pytest.mark.timeout(180)


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def token_for(user) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def session_for(user) -> dict[str, str]:
    client = Client()
    # The login throttle (django-axes) checks every password login against its request.
    assert client.login(
        request=RequestFactory().post("/"), username=user.username, password="pw-for-tests-1"
    )
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def open_streams(server: Server, headers: dict[str, str], count: int) -> list[Stream]:
    streams = [Stream(server, headers) for _ in range(count)]
    for stream in streams:
        assert stream.response.status == 200, stream.response.read()
        assert stream.message()["comment"] == "stream open"
    return streams


def close_all(streams: list[Stream]) -> None:
    for stream in streams:
        stream.close()


def test_idle_streams_hold_no_thread_each(transactional_db, tmp_path, tenant):
    """Before: 10 streams, 14 threads; 30 streams, 38. Each request got its own thread from
    Django's per-request ThreadSensitiveContext and kept it while the stream was open."""
    server = Server(tmp_path, EVENT_STREAMS_PER_USER="100", EVENT_STREAMS_PER_PROCESS="100")
    alice, bob = make_user(tenant, "alice"), make_user(tenant, "bob")
    streams: list[Stream] = []
    try:
        # Token and session streams: session authentication runs middleware and sync calls.
        streams += open_streams(server, token_for(alice), 5)
        streams += open_streams(server, session_for(bob), 5)
        with_ten = thread_count(server.proc.pid)
        streams += open_streams(server, token_for(alice), 20)
        streams += open_streams(server, session_for(bob), 20)
        with_fifty = thread_count(server.proc.pid)
        # 40 more streams; only the shared pools may still have been filling up.
        assert with_fifty - with_ten <= SYNC_THREADS + READ_THREADS, (with_ten, with_fifty)
        # They are live streams, not stalled ones.
        event = ping(tenant, 1)
        for stream in (streams[0], streams[9], streams[-1]):
            assert stream.events(1)[0]["id"] == str(event.pk)
    finally:
        close_all(streams)
        server.stop()


def refusals_logged(server: Server) -> int:
    return server.log().count("Event stream refused")


def test_streams_past_the_process_cap_are_refused_and_the_api_still_answers(
    transactional_db, tmp_path, tenant, other_tenant
):
    """The issue at small scale: the server may open 100 files (``ulimit -n``); one token
    asks for 20 + 120 streams. Before, the process ran out of file descriptors and nothing
    answered; now the 20 of the cap stream, the rest get 429 at once, and another tenant's
    API calls answer. Refusals log at most ``LOG_REPEAT_LIMIT`` lines."""
    cap, limit = 20, 3
    server = Server(
        tmp_path,
        "--no-access-log",  # as ``manage.py serve`` runs it
        open_files=100,
        EVENT_STREAMS_PER_PROCESS=str(cap),
        EVENT_STREAMS_PER_USER="1000",
        LOG_REPEAT_LIMIT=str(limit),
        LOG_REPEAT_SECONDS="3600",
    )
    alice = make_user(tenant, "alice")
    bob = make_user(other_tenant, "bob")
    headers = token_for(alice)
    streams: list[Stream] = []
    try:
        streams += open_streams(server, headers, cap)
        log_lines = len(server.log().splitlines())
        for _ in range(120):
            refused = Stream(server, headers)
            try:
                assert refused.response.status == 429
                assert int(refused.response.getheader("Retry-After")) > 0
                detail = json.loads(refused.response.read())["detail"]
                assert detail.startswith("Too many open event streams on this server (20)")
            finally:
                refused.close()
        status, body = server.get(api_path("project-list"), headers=token_for(bob))
        assert status == 200, body
        status, body = server.get(api_path("project-list"), headers=headers)
        assert status == 200, body
        # The streams of the cap still deliver.
        event = ping(tenant, 1)
        assert streams[-1].events(1)[0]["id"] == str(event.pk)
        # 120 refusals: ``limit`` lines, the last saying that more are held back.
        assert refusals_logged(server) == limit
        assert "more like this are held back" in server.log()
        assert len(server.log().splitlines()) - log_lines <= limit
        # A stream that ends gives its place back.
        streams.pop().close()
        assert opens_eventually(server, headers)
    finally:
        close_all(streams)
        server.stop()


def opens_eventually(server: Server, headers: dict[str, str]) -> bool:
    """Whether a stream opens within 20 s (the server notices a closed stream's disconnect
    a moment after the client closes it)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stream = Stream(server, headers)
        if stream.response.status == 200:
            stream.close()
            return True
        stream.response.read()
        stream.close()
        time.sleep(0.1)
    return False


def test_a_users_streams_past_the_user_cap_are_refused_until_one_ends(
    transactional_db, tmp_path, tenant
):
    server = Server(tmp_path, EVENT_STREAMS_PER_USER="2")
    alice, bob = make_user(tenant, "alice"), make_user(tenant, "bob")
    streams: list[Stream] = []
    try:
        streams += open_streams(server, token_for(alice), 1)
        streams += open_streams(server, session_for(alice), 1)  # the cap is the user's
        refused = Stream(server, token_for(alice))
        assert refused.response.status == 429
        assert int(refused.response.getheader("Retry-After")) > 0
        assert "for this user" in json.loads(refused.response.read())["detail"]
        refused.close()
        streams += open_streams(server, token_for(bob), 2)  # others are not affected
        # A refusal holds no place: still refused, and alice's stream that ends frees one.
        streams.pop(0).close()
        assert opens_eventually(server, token_for(alice))
    finally:
        close_all(streams)
        server.stop()


# The gate in-process: counts are released whatever ends the request.


class Ends(Exception):
    pass


def run_gate(gate: EventStreamGate, path: str = "/api/events/stream") -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(gate({"type": "http", "path": path, "headers": []}, receive, send))
    return sent


def test_the_gate_releases_a_stream_that_errors_or_is_cancelled(settings):
    settings.EVENT_STREAMS_PER_PROCESS = 1
    slots = StreamSlots()
    seen: list[int] = []

    async def failing(scope, receive, send) -> None:
        assert scope["photolib.event_stream_slot"].claim_user(7)
        seen.append(slots.open)
        raise Ends

    async def cancelled(scope, receive, send) -> None:  # server shutdown cancels the request
        assert scope["photolib.event_stream_slot"].claim_user(7)
        raise asyncio.CancelledError

    with pytest.raises(Ends):
        run_gate(EventStreamGate(failing, slots))
    with pytest.raises(asyncio.CancelledError):
        run_gate(EventStreamGate(cancelled, slots))
    assert seen == [1]
    assert slots.open == 0
    assert not slots.by_user


def test_the_gate_refuses_past_the_process_cap_without_calling_django(settings):
    settings.EVENT_STREAMS_PER_PROCESS = 0
    called: list[str] = []

    async def app(scope, receive, send) -> None:
        called.append(scope["path"])

    sent = run_gate(EventStreamGate(app, StreamSlots()))
    assert sent[0]["status"] == 429
    assert (b"retry-after", b"30") in sent[0]["headers"]
    assert called == []
    run_gate(EventStreamGate(app, StreamSlots()), path="/api/projects/")
    assert called == ["/api/projects/"]  # other paths are not counted


def test_the_web_unit_allows_far_more_open_files_than_streams():
    """``LimitNOFILE`` of the web unit leaves room beyond the default stream cap."""
    from django.conf import settings

    unit = (ROOT / "deploy" / "systemd" / "photolib-web.service").read_text()
    (value,) = re.findall(r"^LimitNOFILE=(\d+)$", unit, flags=re.MULTILINE)
    assert int(value) >= 10 * settings.EVENT_STREAMS_PER_PROCESS
