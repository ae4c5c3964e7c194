"""``GET /api/events/stream`` served by a real uvicorn process against the test database."""

from __future__ import annotations

import http.client
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from jobs.events import event_record
from tests.deployment import free_port
from tests.factories import make_user
from tests.urls import api_path
from tests.workers import ROOT, child_env

pytestmark = pytest.mark.timeout(120)


def _limit_open_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


class Server:
    def __init__(
        self, log_dir: Path, *args: str, open_files: int | None = None, **env: str
    ) -> None:
        self.port = free_port()
        self.log_path = log_dir / "uvicorn.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--timeout-graceful-shutdown",
                "1",
                *args,
            ],
            cwd=ROOT,
            env=child_env(
                **{
                    "EVENTS_STREAM_POLL_SECONDS": "0.1",
                    "EVENTS_STREAM_HEARTBEAT_SECONDS": "0.5",
                    # test_ten_streams_while_the_api_answers opens 10 on one token.
                    "EVENT_STREAMS_PER_USER": "10",
                    **env,
                }
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # ``ulimit -n``: the server's file descriptors, as a systemd unit's LimitNOFILE.
            preexec_fn=(lambda: _limit_open_files(open_files)) if open_files else None,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = self.get(api_path("task-definitions"))
                if status == 401:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"uvicorn did not start:\n{self.log()}")
            time.sleep(0.2)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Stream:
    """One open SSE response, read message by message."""

    def __init__(self, server: Server, headers: dict[str, str], path: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        self.conn.request("GET", f"/api/events/stream{path}", headers=headers)
        self.response = self.conn.getresponse()

    def message(self) -> dict[str, object]:
        """The next message: ``{"id", "event", "data"}`` or ``{"comment": ...}``."""
        fields: dict[str, object] = {}
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("stream closed")
            text = line.decode().rstrip("\n")
            if text == "":
                if fields:
                    return fields
                continue
            if text.startswith(":"):
                fields.setdefault("comment", text[1:].strip())
                continue
            name, _, value = text.partition(":")
            fields[name] = value.lstrip(" ")

    def events(self, count: int, *, timeout: float = 10) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {found}, wanted {count} events")
            message = self.message()
            if "event" in message:
                message["data"] = json.loads(str(message["data"]))
                found.append(message)
        return found

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def server(transactional_db, tmp_path):
    server = Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def token_headers(user):
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def ping(tenant, n: int, **payload):
    return event_record(tenant_id=tenant.pk, type="test_ping", payload={"n": n, **payload})


def test_stream_sends_only_the_tenants_events(server, tenant, other_tenant, token_headers):
    stream = Stream(server, token_headers)
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        assert stream.response.getheader("Cache-Control").startswith("no-cache")
        ping(other_tenant, 1, secret=True)
        mine = ping(tenant, 2)
        (event,) = stream.events(1)
        assert event["id"] == str(mine.pk)
        assert event["event"] == "test_ping"
        assert event["data"]["payload"] == {"n": 2}
        assert event["data"]["tenant_id"] == tenant.pk
    finally:
        stream.close()


def test_stream_replays_after_last_event_id(server, tenant, other_tenant, token_headers):
    first, second, third = (ping(tenant, n) for n in (1, 2, 3))
    ping(other_tenant, 4)
    stream = Stream(server, {**token_headers, "Last-Event-ID": str(first.pk)})
    try:
        assert [e["id"] for e in stream.events(2)] == [str(second.pk), str(third.pk)]
        fourth = ping(tenant, 5)
        assert [e["id"] for e in stream.events(1)] == [str(fourth.pk)]
    finally:
        stream.close()
    stream = Stream(server, token_headers, path=f"?last_event_id={second.pk}")
    try:
        assert [e["data"]["payload"]["n"] for e in stream.events(2)] == [3, 5]
    finally:
        stream.close()


def test_stream_sends_heartbeats(server, tenant, token_headers):
    stream = Stream(server, token_headers)
    try:
        started = time.monotonic()
        comments = []
        while len(comments) < 2:
            message = stream.message()
            if "comment" in message and str(message["comment"]).startswith("heartbeat"):
                comments.append(message)
        assert time.monotonic() - started < 5
    finally:
        stream.close()


def test_ten_streams_while_the_api_answers(server, tenant, token_headers):
    streams = [Stream(server, token_headers) for _ in range(10)]
    try:
        assert all(s.response.status == 200 for s in streams)
        received: dict[int, list] = {}

        def read(index: int) -> None:
            received[index] = streams[index].events(1, timeout=20)

        threads = [threading.Thread(target=read, args=(i,)) for i in range(10)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        status, body = server.get(api_path("project-list"), headers=token_headers)
        assert status == 200, body
        status, _ = server.get(api_path("task-definitions") + "/", headers=token_headers)
        assert status == 200
        assert time.monotonic() - started < 5
        event = ping(tenant, 42)
        for thread in threads:
            thread.join(timeout=25)
        assert sorted(received) == list(range(10))
        assert {r[0]["id"] for r in received.values()} == {str(event.pk)}
    finally:
        for stream in streams:
            stream.close()


def test_stream_with_session_auth(server, tenant, user):
    client = Client()
    # The login throttle (django-axes) checks every password login against its request.
    assert client.login(
        request=RequestFactory().post("/"), username=user.username, password="pw-for-tests-1"
    )
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    stream = Stream(server, {"Cookie": cookie})
    try:
        assert stream.response.status == 200
        mine = ping(tenant, 7)
        assert stream.events(1)[0]["id"] == str(mine.pk)
    finally:
        stream.close()


def test_stream_refuses_the_anonymous_and_bad_input(server, tenant, token_headers):
    assert server.get(api_path("event-stream"))[0] == 401
    assert server.get(api_path("event-stream"), headers={"Authorization": "Token nope"})[0] == 401
    status, body = server.get(
        api_path("event-stream") + "/", headers={**token_headers, "Last-Event-ID": "yesterday"}
    )
    assert status == 400
    assert "Last-Event-ID" in json.loads(body)["detail"]


def test_other_tenant_user_sees_none_of_ours(server, tenant, other_tenant):
    bob = make_user(other_tenant, "bob")
    headers = {"Authorization": f"Token {Token.objects.create(user=bob).key}"}
    stream = Stream(server, {**headers, "Last-Event-ID": "0"})
    try:
        ping(tenant, 1)
        ping(tenant, 2)
        theirs = ping(other_tenant, 3)
        (event,) = stream.events(1)
        assert event["id"] == str(theirs.pk)
        assert event["data"]["tenant_id"] == other_tenant.pk
    finally:
        stream.close()


def test_under_wsgi_the_stream_answers_with_the_backlog_and_ends(db, tenant, user, client):
    """runserver/WSGI buffers async streams whole: the view ends after one poll there."""
    from jobs.events import event_record

    first = event_record(tenant_id=tenant.pk, type="item", payload={"n": 1})
    event_record(tenant_id=tenant.pk, type="item", payload={"n": 2})
    client.force_login(user)
    response = client.get(api_path("event-stream"), HTTP_LAST_EVENT_ID=str(first.pk))
    assert response.status_code == 200
    from asgiref.sync import async_to_sync

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    body = async_to_sync(collect)().decode()
    assert "retry: " in body
    assert f"id: {first.pk + 1}\n" in body
    assert f"id: {first.pk}\n" not in body
