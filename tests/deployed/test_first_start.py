"""A studio's first start, as ``bin/run`` does it (issue 22, item 1): ``migrate``, ``demo
--if-no-users -v 0``, then ``serve``. The console ends in one block with the URL actually
served and the demo login; that login works over HTTP; a page, its static files, the favicon,
a photo's thumbnail, the first RAW and an open event stream, then Ctrl-C: and the whole
console (stdout and stderr of every command) has no warning, error or traceback in it.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import socket
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.deployment import Host, deployed_env, manage
from tests.raw_fixtures import dng_bytes

pytestmark = [pytest.mark.deployed, pytest.mark.timeout(240)]

NOISE = re.compile(r"Warning|WARNING|ERROR|Error:|Traceback|Cancel \d+ running task")


def wait_for_block(host: Host, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while "Ctrl-C stops all." not in (log := host.log()):
        assert host.proc.poll() is None, log
        assert time.monotonic() < deadline, f"no start-up block:\n{log}"
        time.sleep(0.2)
    return log


class Browser:
    """A cookie-keeping HTTP client: what a browser does, without the rendering."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name and c.value)

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        with self.opener.open(self.base + path, timeout=30) as reply:
            return reply.status, reply.read(), dict(reply.headers)

    def post(self, path: str, data: bytes, content_type: str, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method="POST",
            headers={"Content-Type": content_type, **headers},
        )
        with self.opener.open(request, timeout=60) as reply:
            return reply.status, reply.read()

    def log_in(self, username: str, password: str) -> str:
        status, page, _ = self.get("/admin/login/?next=/admin/")
        assert status == 200
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1).decode(),
                "next": "/admin/",
            }
        ).encode()
        status, page = self.post(
            "/admin/login/?next=/admin/", form, "application/x-www-form-urlencoded"
        )
        assert status == 200
        return page.decode()

    def api(self, path: str) -> object:
        status, body, _ = self.get(f"/api/{path}")
        assert status == 200
        return json.loads(body)


def open_event_stream(browser: Browser) -> socket.socket:
    """An event stream as the workspace keeps one open, read up to its first message."""
    host, port = urllib.parse.urlsplit(browser.base).netloc.split(":")
    stream = socket.create_connection((host, int(port)), timeout=60)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    stream.sendall(
        f"GET /api/events/stream HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    received = b""
    while b"stream open" not in received:
        chunk = stream.recv(4096)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received
    return stream


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_first_start_prints_one_block_with_a_working_login_and_a_clean_console(
    deployment, tmp_path
):
    var = tmp_path / "var"  # a fresh checkout's var/: no static folder, no demo login yet
    env = deployed_env(PHOTOLIB_VAR_DIR=str(var))
    consoles = []
    for args in (
        ("migrate", "--noinput", "--verbosity", "0"),
        ("demo", "--if-no-users", "--verbosity", "0", "--photos", "2"),
    ):
        done = manage(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        consoles.append(done.stdout + done.stderr)
    assert consoles == ["", ""], consoles  # bin/run's first start is quiet until serve's block

    host = Host("web", tmp_path, ["--port", str(deployment.port)], env)
    deployment.hosts.append(host)
    log = wait_for_block(host, timeout=90)

    block = log[log.index("Photo library:") :]
    url = re.search(r"Photo library: (http://\S+)", block).group(1)
    assert url == f"http://127.0.0.1:{deployment.port}/admin/"
    username = re.search(r"Username: +(\S+)", block).group(1)
    password = re.search(r"Password: +(\S+)", block).group(1)
    assert not (var / "demo-login.json").exists()  # printed once, then gone

    browser = Browser(url.removesuffix("/admin/"))
    index = browser.log_in(username, password)
    assert "Log out" in index or "logout" in index, index[:1000]
    # What a browser fetches with the page: its static files and the favicon.
    icon = re.search(r'<link rel="icon" href="([^"]+)"', index)
    assert icon, index[:1000]
    for path in (icon.group(1), "/favicon.ico", "/static/admin/css/base.css"):
        status, body, headers = browser.get(path)
        assert status == 200, path
        assert body, path
    assert headers["Content-Length"] == str(len(body))
    status, ico, headers = browser.get("/favicon.ico")
    assert headers["Content-Type"] == "image/x-icon"
    assert ico.startswith(b"\x00\x00\x01\x00")

    # The first RAW, through a worker: its thumbnail is a file response too.
    projects = browser.api("projects")["results"]
    project = projects[0]["id"]
    body, content_type = multipart("FIRST_0001.DNG", dng_bytes(preview_size=(320, 240)))
    status, reply = browser.post(
        f"/api/projects/{project}/upload",
        body,
        content_type,
        **{"X-CSRFToken": browser.cookie("csrftoken"), "Referer": url},
    )
    assert status == 201, reply
    task_id = json.loads(reply)["task_id"]
    deadline = time.monotonic() + 90
    while (task := browser.api(f"tasks/{task_id}"))["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, (task, host.log())
        time.sleep(0.5)
    assert task["status"] == "completed", task
    raw = browser.api(f"photos?project={project}&basename=FIRST_0001")["results"][0]
    status, thumbnail, _ = browser.get(f"/api/photos/{raw['id']}/thumbnail")
    assert status == 200
    assert thumbnail

    # A browser left open on the workspace: its event stream ends when serve stops.
    stream = open_event_stream(browser)
    ended = threading.Event()
    seen: list = []

    def read_to_end() -> None:
        # The server ends the response (the last chunk) and closes the connection.
        received = b""
        try:
            while chunk := stream.recv(4096):
                received += chunk
        except OSError as exc:
            seen.append(repr(exc))
            return
        seen.append(received)
        if received.endswith(b"0\r\n\r\n"):
            ended.set()

    threading.Thread(target=read_to_end, daemon=True).start()
    host.proc.send_signal(signal.SIGINT)
    host.proc.wait(timeout=60)
    assert ended.wait(10), (seen, host.log())

    log = host.log()
    assert "Stopped." in log, log
    noisy = [line for line in log.splitlines() if NOISE.search(line)]
    assert noisy == [], log
    assert log.count("Photo library:") == 1
