"""Request bodies are capped before Django reads them (SPEC §9, §14; config/body_limit.py).

The ASGI application is called directly with a fake ``receive`` that counts how many body
bytes were pulled: a refused body must not be read past the cap. One test sends a real HTTP
request to uvicorn serving the product's ASGI app.
"""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
import time

import pytest
from PIL import Image

from config.asgi import application
from tests.urls import api_path

pytestmark = pytest.mark.fault

MiB = 1024 * 1024


class CountingBody:
    """An ASGI ``receive`` that streams ``total`` bytes in chunks and counts what was pulled."""

    def __init__(self, total: int, chunk: int = MiB, body: bytes | None = None) -> None:
        self.body = body
        self.total = len(body) if body is not None else total
        self.chunk = chunk
        self.pulled = 0
        self.calls = 0
        self.done = False

    async def __call__(self) -> dict:
        self.calls += 1
        if self.done:
            # Wait like a real server for a disconnect that never comes.
            await asyncio.sleep(3600)
        size = min(self.chunk, self.total - self.pulled)
        start = self.pulled
        data = b"x" * size if self.body is None else self.body[start : start + size]
        self.pulled += size
        self.done = self.pulled >= self.total
        return {"type": "http.request", "body": data, "more_body": not self.done}


def call_app(
    path: str,
    receive: CountingBody,
    *,
    method: str = "POST",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        from asgiref.sync import sync_to_async
        from django.db import close_old_connections

        try:
            await asyncio.wait_for(application(scope, receive, send), timeout=60)
        finally:
            # As Django does at a request's end, in the thread the middleware's query used.
            await sync_to_async(close_old_connections)()

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def test_declared_oversized_body_is_refused_before_reading_a_byte(db, settings):
    settings.PIPELINE_MAX_BODY_BYTES = 10 * MiB
    receive = CountingBody(60 * MiB)
    status, body = call_app(
        api_path("photo-keep"),
        receive,
        headers=[
            (b"content-length", str(60 * MiB).encode()),
            (b"content-type", b"application/json"),
        ],
    )
    assert status == 413
    assert b"exceeds the limit of 10485760 bytes" in body
    assert receive.pulled == 0


def test_anonymous_60_mib_upload_is_refused_before_authentication(db, settings, project):
    """The upload path's larger cap is for authenticated users only."""
    settings.PIPELINE_MAX_BODY_BYTES = 10 * MiB
    settings.PIPELINE_MAX_UPLOAD_BYTES = 500 * MiB
    receive = CountingBody(60 * MiB)
    status, _ = call_app(
        api_path("project-upload", pk=project.pk),
        receive,
        headers=[
            (b"content-length", str(60 * MiB).encode()),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
            (b"authorization", b"Token not-a-real-token"),
        ],
    )
    assert status == 413
    assert receive.pulled == 0


def test_chunked_body_stops_being_read_once_past_the_cap(db, settings):
    settings.PIPELINE_MAX_BODY_BYTES = 10 * MiB
    receive = CountingBody(60 * MiB, chunk=MiB)
    status, _ = call_app(
        api_path("photo-keep"), receive, headers=[(b"content-type", b"application/json")]
    )
    assert status == 413
    # The chunk that crossed the cap is the last one pulled.
    assert 10 * MiB < receive.pulled <= 11 * MiB


def test_invalid_content_length_is_refused(db):
    receive = CountingBody(10)
    status, _ = call_app(api_path("photo-keep"), receive, headers=[(b"content-length", b"-5")])
    assert status == 400
    assert receive.pulled == 0


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 160)).save(out, "JPEG", quality=95)
    return out.getvalue()


def multipart(files: dict[str, bytes], boundary: str = "pl-boundary") -> bytes:
    parts = []
    for name, data in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def test_authenticated_upload_gets_the_upload_cap(transactional_db, settings, photos_root):
    from rest_framework.authtoken.models import Token

    from tests.factories import make_project, make_tenant, make_user

    tenant = make_tenant("acme")
    project = make_project(tenant, "Body Caps")
    token = Token.objects.create(user=make_user(tenant, "uploader"))
    body = multipart({"IMG_0001.jpg": jpeg(1), "IMG_0002.jpg": jpeg(2)})
    # The body is over the ordinary cap but under the upload cap: accepted.
    settings.PIPELINE_MAX_BODY_BYTES = 1024
    settings.PIPELINE_MAX_UPLOAD_BYTES = len(body) + 1
    headers = [
        (b"content-type", b"multipart/form-data; boundary=pl-boundary"),
        (b"authorization", f"Token {token.key}".encode()),
    ]
    receive = CountingBody(0, chunk=4096, body=body)
    status, reply = call_app(
        api_path("project-upload", pk=project.pk),
        receive,
        headers=[*headers, (b"content-length", str(len(body)).encode())],
    )
    assert status == 201, reply
    assert receive.pulled == len(body)

    # Over the upload cap by its declared length: 413 before a byte is read, nothing written.
    settings.PIPELINE_MAX_UPLOAD_BYTES = len(body) // 2
    other = multipart({"IMG_0003.jpg": jpeg(3)}) * 2
    receive = CountingBody(0, chunk=1024, body=other)
    status, _ = call_app(
        api_path("project-upload", pk=project.pk),
        receive,
        headers=[*headers, (b"content-length", str(len(other)).encode())],
    )
    assert status == 413
    assert receive.pulled == 0
    # Streamed without a length (chunked): 411, the length is required before anything is read.
    receive = CountingBody(0, chunk=1024, body=other)
    status, _ = call_app(api_path("project-upload", pk=project.pk), receive, headers=headers)
    assert status == 411
    assert receive.pulled == 0
    assert not (photos_root / "acme" / project.folder / "IMG_0003.jpg").exists()


def test_small_requests_pass_through(transactional_db, settings):
    from rest_framework.authtoken.models import Token

    from tests.factories import make_tenant, make_user

    token = Token.objects.create(user=make_user(make_tenant("acme"), "reader"))
    receive = CountingBody(0, body=b"")
    status, body = call_app(
        api_path("project-list"),
        receive,
        method="GET",
        headers=[(b"authorization", f"Token {token.key}".encode())],
    )
    assert status == 200, body


@pytest.mark.workers
@pytest.mark.timeout(90)
def test_uvicorn_answers_413_to_an_oversized_anonymous_upload(transactional_db, tmp_path):
    """Over real HTTP: the server answers 413 while the client has sent only the headers."""
    from tests.workers import ROOT, child_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "uvicorn.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=child_env(PIPELINE_MAX_BODY_BYTES=str(MiB)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "uvicorn.log").read_text()) from None
                time.sleep(0.2)
        with conn:
            conn.sendall(
                b"POST /api/projects/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=x\r\n"
                + f"Content-Length: {60 * MiB}\r\n\r\n".encode()
            )
            conn.settimeout(20)
            reply = b""
            while b"exceeds" not in reply:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 413"), reply
        assert b"exceeds the limit of 1048576 bytes" in reply
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_a_logged_in_session_gets_the_upload_cap(transactional_db, settings):
    from django.test import Client

    from tests.factories import make_project, make_tenant, make_user

    tenant = make_tenant("acme")
    project = make_project(tenant, "Session Caps")
    browser = Client()
    browser.force_login(make_user(tenant, "admin-user"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    settings.PIPELINE_MAX_BODY_BYTES = 1024
    settings.PIPELINE_MAX_UPLOAD_BYTES = 4 * MiB
    body = multipart({"IMG_0001.jpg": jpeg(1), "IMG_0002.jpg": jpeg(2)})
    declared = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"multipart/form-data; boundary=pl-boundary"),
    ]
    path = api_path("project-upload", pk=project.pk)

    # A session's POST carries its CSRF token, as the workspace's does.
    csrf = "a" * 32
    receive = CountingBody(0, chunk=512, body=body)
    status, reply = call_app(
        path,
        receive,
        headers=[
            *declared,
            (b"cookie", f"{cookie}; {settings.CSRF_COOKIE_NAME}={csrf}".encode()),
            (b"x-csrftoken", csrf.encode()),
        ],
    )
    # Over the ordinary cap, under the upload cap: read and saved.
    assert status == 201, reply
    assert receive.pulled == len(body)

    forged = CountingBody(2 * MiB)
    status, _ = call_app(path, forged, headers=[*declared, (b"cookie", b"sessionid=not-a-session")])
    assert status == 413
    assert forged.pulled == 0


def test_the_credential_check_leaves_no_database_connection_open(transactional_db):
    """The check runs before Django's request handling, where no ``request_finished`` closes
    connections: one left open on asgiref's shared thread would go stale when the database
    restarts, and every later authenticated upload would fail."""
    from asgiref.sync import sync_to_async
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from config.body_limit import request_is_authenticated
    from tests.factories import make_tenant, make_user

    token = Token.objects.create(user=make_user(make_tenant("acme"), "uploader"))
    scope = {"headers": [(b"authorization", f"Token {token.key}".encode())]}

    async def check() -> tuple[bool, bool]:
        valid = await request_is_authenticated(scope)
        # The same thread the check used (thread-sensitive code outside a request shares one).
        still_open = await sync_to_async(
            lambda: connection.connection is not None, thread_sensitive=True
        )()
        return valid, still_open

    assert asyncio.run(check()) == (True, False)
    scope["headers"] = [(b"authorization", b"Token not-a-token")]
    assert asyncio.run(check()) == (False, False)
