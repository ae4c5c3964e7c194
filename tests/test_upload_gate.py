"""An authenticated upload is refused before its body is read, and streams into the project
folder (SPEC §9, §14; ``config/upload_gate.py``).

Over a real socket to uvicorn serving the product's ASGI app (``asgi_live_server``): each
refusal is answered while the client has sent the headers and only the first part of the
body, and a normal upload's bytes are in the project folder's hidden temporary file while the
rest of its body has not been sent, with nothing spooled to ``TMPDIR``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import pytest
from django.core.files import temp as django_temp
from PIL import Image
from rest_framework.authtoken.models import Token

from photos import storage
from photos.models import Photo
from tests.factories import make_project, make_tenant, make_user
from tests.urls import api_path

MiB = 1024 * 1024
BOUNDARY = "gate-boundary"
# What the client sends before waiting for the answer: the headers and this much body.
FIRST_PART = 16 * 1024


def jpeg(seed: int, *, padding: int = 0) -> bytes:
    """A real JPEG; ``padding`` bytes after its end make it as large as a camera's."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 160)).save(out, "JPEG", quality=95)
    return out.getvalue() + bytes(padding)


def multipart(files: dict[str, bytes]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for name, data in files.items()
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def token_for(user) -> str:  # type: ignore[no-untyped-def]
    return Token.objects.get_or_create(user=user)[0].key


def head(project_id: int, token: str, length: int) -> bytes:
    return (
        f"POST /api/projects/{project_id}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def reply_of(conn: socket.socket) -> tuple[int, dict[str, str], dict]:
    """Read the whole reply (the server closes the connection after it)."""
    conn.settimeout(30)
    data = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    header, _, body = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body or b"{}")


def send_part(server, project_id: int, token: str, body: bytes) -> socket.socket:  # type: ignore[no-untyped-def]
    """Connect and send the headers and the first part of ``body``; the rest stays unsent."""
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    conn.sendall(head(project_id, token, len(body)) + body[:FIRST_PART])
    return conn


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != ".photolib")


@pytest.fixture
def studio(transactional_db, settings):  # type: ignore[no-untyped-def]
    settings.PIPELINE_MAX_UPLOAD_BYTES = 64 * MiB
    tenant = make_tenant("acme")
    return {
        "tenant": tenant,
        "project": make_project(tenant, "Wedding"),
        "editor": make_user(tenant, "eddie", role="editor"),
    }


def refusal_case(case: str, studio, settings) -> tuple[str, int, bytes]:  # type: ignore[no-untyped-def]
    """``(token, project id, body)`` of a refused upload."""
    body = multipart({"IMG_0001.jpg": jpeg(1, padding=4 * MiB)})
    project = studio["project"]
    if case == "tenantless token":
        return token_for(make_user(None, "drifter")), project.pk, body
    if case == "other tenant's project":
        theirs = make_project(make_tenant("globex"), "Globex Secret Shoot")
        return token_for(studio["editor"]), theirs.pk, body
    if case == "nonexistent project":
        return token_for(studio["editor"]), project.pk + 1000, body
    if case == "viewer role":
        return token_for(make_user(studio["tenant"], "vera", role="viewer")), project.pk, body
    if case == "declared length over the cap":
        settings.PIPELINE_MAX_BODY_BYTES = 1 * MiB
        settings.PIPELINE_MAX_UPLOAD_BYTES = 2 * MiB
        return token_for(studio["editor"]), project.pk, body
    raise AssertionError(case)


REFUSALS = {
    "tenantless token": 403,
    "other tenant's project": 404,
    "nonexistent project": 404,
    "viewer role": 403,
    "declared length over the cap": 413,
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_an_upload_is_refused_before_the_rest_of_its_body_is_sent(
    asgi_live_server, studio, settings, case
):
    token, project_id, body = refusal_case(case, studio, settings)
    assert len(body) > 4 * MiB

    conn = send_part(asgi_live_server, project_id, token, body)
    with conn:
        status, _, reply = reply_of(conn)

    assert status == REFUSALS[case], reply
    assert reply["detail"]
    # Nothing reached the project folder, not even a temporary file.
    assert files_in(storage.project_dir(studio["project"])) == []


def test_a_missing_project_is_refused_exactly_as_the_api_refuses_it(
    asgi_live_server, studio, client_for
):
    """The gate's 404 is the view's own (same status, same body), so an id of another tenant
    tells nothing the API does not."""
    editor = studio["editor"]
    other = make_project(make_tenant("globex"), "Globex Secret Shoot")
    body = multipart({"IMG_0001.jpg": jpeg(1)})
    api = client_for(editor)
    for project_id in (other.pk, other.pk + 1000):
        # The view's answer (the test client has no gate in front of the view).
        expected = api.post(api_path("project-upload", pk=project_id), {"files": []})
        conn = send_part(asgi_live_server, project_id, token_for(editor), body)
        with conn:
            status, _, reply = reply_of(conn)
        assert (status, reply) == (expected.status_code, expected.json())


def test_a_throttled_upload_is_refused_before_its_body_is_read(asgi_live_server, studio, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "bulk": "1/min",
        },
    }
    token, project = token_for(studio["editor"]), studio["project"]
    first = multipart({"IMG_0001.jpg": jpeg(1)})
    conn = send_part(asgi_live_server, project.pk, token, first)
    with conn:
        conn.sendall(first[FIRST_PART:])
        status, _, reply = reply_of(conn)
    # One upload a minute: the first is saved (and counted once, not twice)...
    assert status == 201, reply

    second = multipart({"IMG_0002.jpg": jpeg(2, padding=4 * MiB)})
    conn = send_part(asgi_live_server, project.pk, token, second)
    with conn:
        status, headers, reply = reply_of(conn)
    # ...the second is refused from its headers.
    assert status == 429, reply
    assert int(headers["retry-after"]) > 0
    assert files_in(storage.project_dir(project)) == ["IMG_0001.jpg"]


class SpoolWatch:
    """Counts temporary files made the ways Django spools a body or an uploaded file."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.made: list[str] = []
        for owner, name in (
            (tempfile, "TemporaryFile"),  # a SpooledTemporaryFile rolling over to disk
            (tempfile, "NamedTemporaryFile"),
            (django_temp, "NamedTemporaryFile"),  # TemporaryUploadedFile
        ):
            real = getattr(owner, name)

            def watched(*args, _real=real, _name=name, **kwargs):  # type: ignore[no-untyped-def]
                self.made.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(owner, name, watched)


def test_an_upload_streams_into_the_project_folder_and_never_through_tmpdir(
    asgi_live_server, studio, settings, monkeypatch, tmp_path
):
    spool = tmp_path / "tmpdir"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    watch = SpoolWatch(monkeypatch)
    project = studio["project"]
    folder = storage.project_dir(project)
    photos = {"IMG_0001.jpg": jpeg(1, padding=12 * MiB), "IMG_0002.jpg": jpeg(2, padding=12 * MiB)}
    body = multipart(photos)

    conn = send_part(asgi_live_server, project.pk, token_for(studio["editor"]), body)
    with conn:
        conn.sendall(body[FIRST_PART : 8 * MiB])
        # While the rest of the body is unsent, the first photo's bytes are already in its
        # hidden temporary file in the project folder: streamed there, not read ahead.
        deadline = time.monotonic() + 60
        while True:
            temps = [p for p in folder.iterdir() if p.name.startswith(".IMG_0001.jpg.")]
            if temps and temps[0].stat().st_size >= 6 * MiB:
                break
            assert time.monotonic() < deadline, "no temporary file grew in the project folder"
            time.sleep(0.05)
        assert temps[0].name.endswith(".tmp")
        assert list(spool.iterdir()) == []
        conn.sendall(body[8 * MiB :])
        status, _, reply = reply_of(conn)

    assert status == 201, reply
    assert reply["files"] == ["IMG_0001.jpg", "IMG_0002.jpg"]
    for name, data in photos.items():
        assert (folder / name).read_bytes() == data
    # Published by name; no temporary file left, and nothing ever spooled to TMPDIR.
    assert files_in(folder) == ["IMG_0001.jpg", "IMG_0002.jpg"]
    assert list(spool.iterdir()) == []
    assert watch.made == []
    assert Photo.objects.filter(project=project).count() == 2


def test_a_refused_file_of_a_streamed_upload_leaves_nothing_behind(
    asgi_live_server, studio, settings
):
    settings.PHOTOS_MAX_UPLOAD_BYTES = 1 * MiB
    project = studio["project"]
    body = multipart({"IMG_0001.jpg": jpeg(1), "IMG_0002.jpg": jpeg(2, padding=3 * MiB)})
    conn = send_part(asgi_live_server, project.pk, token_for(studio["editor"]), body)
    with conn:
        conn.sendall(body[FIRST_PART:])
        status, _, reply = reply_of(conn)

    # All or nothing by default (SPEC §9): 400, the file over the size limit named.
    assert status == 400, reply
    assert [e["file"] for e in reply["errors"]] == ["IMG_0002.jpg"]
    assert files_in(storage.project_dir(project)) == []


def open_handles_on(folder: Path) -> list[str]:
    """This process's file descriptors open on ``folder`` (the live server runs in it)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target == str(folder) or target.startswith(f"{folder}/"):
            found.append(target)
    return found


def test_a_session_upload_refused_for_csrf_leaves_no_file_and_no_handle(
    asgi_live_server, studio, settings
):
    """Admitted by the gate (a valid session), refused by the API's CSRF check, which parses
    the body first: the staged temporary files and the folder handle go with the request."""
    from django.test import Client

    browser = Client()
    browser.force_login(studio["editor"])
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    project = studio["project"]
    folder = storage.project_dir(project)
    body = multipart({"IMG_0001.jpg": jpeg(1, padding=2 * MiB)})
    request = (
        f"POST /api/projects/{project.pk}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        # A CSRF cookie but no token: Django reads the form for one, parsing the body.
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={'a' * 32}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", asgi_live_server.port), timeout=30) as conn:
        conn.sendall(request + body)
        status, _, reply = reply_of(conn)

    assert status == 403, reply
    assert "CSRF" in reply["detail"]
    # Cleaned up as the request ends (just after its answer): no temporary file is left, and
    # the request's staging let go of the project folder (no descriptor leaks per upload).
    deadline = time.monotonic() + 30
    while files_in(folder) or open_handles_on(folder):
        assert time.monotonic() < deadline, (files_in(folder), open_handles_on(folder))
        time.sleep(0.05)


def test_an_upload_streaming_while_its_project_is_deleted_keeps_nothing_and_says_so(
    asgi_live_server, studio, photos_root
):
    """SPEC §9 with a delete in the middle: never a 201 for files that went into a deleted
    project's folder; every file is named as not kept, and nothing is left on disk."""
    from photos.project_deletion import project_delete

    project = studio["project"]
    photos = {"IMG_0001.jpg": jpeg(1, padding=3 * MiB), "IMG_0002.jpg": jpeg(2, padding=3 * MiB)}
    body = multipart(photos)
    conn = send_part(asgi_live_server, project.pk, token_for(studio["editor"]), body)
    with conn:
        conn.sendall(body[FIRST_PART : 4 * MiB])
        folder = storage.project_dir(project)
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".IMG_0002.jpg.") for p in folder.iterdir()):
            assert time.monotonic() < deadline, "the second file never started streaming"
            time.sleep(0.05)
        # The project is deleted while its upload streams (its folder becomes a tombstone).
        project_delete(user=studio["editor"], project=project)
        conn.sendall(body[4 * MiB :])
        status, _, reply = reply_of(conn)

    assert status == 400, reply
    assert "files" not in reply
    assert {e["file"] for e in reply["errors"]} == set(photos)
    assert not Photo.objects.filter(project=project).exists()
    leftovers = [p.name for p in photos_root.rglob("*") if p.is_file() and "IMG_" in p.name]
    assert leftovers == []


def test_a_client_expecting_100_continue_gets_the_refusal_or_the_go_ahead(asgi_live_server, studio):
    """``Expect: 100-continue``: a refused upload is answered instead of ``100 Continue``, so
    the client never sends its body; an admitted one is told to go on."""
    project = studio["project"]
    body = multipart({"IMG_0001.jpg": jpeg(1)})

    def first_line(token: str) -> bytes:
        request = head(project.pk, token, len(body)).replace(
            b"Connection: close\r\n", b"Connection: close\r\nExpect: 100-continue\r\n"
        )
        with socket.create_connection(("127.0.0.1", asgi_live_server.port), timeout=30) as c:
            c.sendall(request)
            c.settimeout(30)
            data = b""
            while b"\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1.1 100"):
                c.sendall(body)
                reply = data + c.recv(65536)
                while chunk := c.recv(65536):
                    reply += chunk
                assert b"HTTP/1.1 201" in reply, reply
        return data.split(b"\r\n", 1)[0]

    viewer = make_user(studio["tenant"], "vera", role="viewer")
    assert first_line(token_for(viewer)).startswith(b"HTTP/1.1 403")
    assert first_line(token_for(studio["editor"])).startswith(b"HTTP/1.1 100")
    assert files_in(storage.project_dir(project)) == ["IMG_0001.jpg"]


def test_uploads_one_after_another_on_one_kept_alive_connection_all_succeed(
    asgi_live_server, studio
):
    """A browser or a client reuses its connection; uvicorn starts the next request from inside
    the previous one, whose context held asgiref's executor of the streamed body: every other
    upload was a 500 ("CurrentThreadExecutor already quit or is broken") until each request got
    a fresh context (``config/request_context.py``)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(studio['editor'])}"
    url = f"{asgi_live_server.url}/api/projects/{studio['project'].pk}/upload"
    statuses = []
    for round_ in range(4):
        files = [
            ("files", (f"K{round_}_{n}.jpg", jpeg(round_ * 10 + n), "image/jpeg")) for n in range(3)
        ]
        statuses.append(session.post(url, files=files, timeout=60).status_code)
    assert statuses == [201, 201, 201, 201]
    assert Photo.objects.filter(project=studio["project"]).count() == 12
