"""Headless Chromium (Debian's ``chromium``) driven by Playwright against a live server.

The workspace tests use ``asgi_live_server``: the product's ASGI app served by uvicorn, as
``manage.py serve`` does, so the event stream streams. pytest-django's ``live_server`` is a
WSGI server, which answers the async event stream only once it has ended: there the page only
ever sees the stream drop and falls back to polling.

Screenshots go to ``test-artifacts/`` at the repository root (gitignored; CI keeps them).
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture
def browser(monkeypatch) -> Iterator:  # type: ignore[no-untyped-def]
    """A fresh Chromium per test.

    Playwright's sync API runs an event loop in this thread, so Django would refuse ORM calls
    from the test body; allow them for the test (the live server runs in its own thread).
    With that loop running, Django keeps the test body's database connection apart from the
    one it uses once Playwright has stopped: close it here, or it stays open and PostgreSQL
    refuses to drop the test database.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        )
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            connections.close_all()
            chromium.close()


@pytest.fixture
def artifacts(request) -> Path:  # type: ignore[no-untyped-def]
    """A folder for this test's screenshots: ``test-artifacts/<test name>/``."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class AsgiLiveServer:
    """``config.asgi:application`` served by uvicorn in a thread of the test process.

    In this process the server sees the test's database and its ``settings`` changes (a
    temporary ``PHOTOS_ROOT``, a shorter poll). Static files come from the app's own WhiteNoise
    middleware (``WHITENOISE_USE_FINDERS``), as when deployed. ``stop()`` and ``start()`` again
    restart it on the same port: open connections drop, as in a redeploy.
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self.port = 0
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None

    def start(self) -> None:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.application,
            lifespan="off",
            # Leave logging to pytest; Django logs the app's errors itself.
            log_config=None,
            access_log=False,
            # A stream still open when the server stops is cut after a second.
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server, self._failure = server, None

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # SystemExit too: report it in the test's thread.
                self._failure = exc

        # Off the main thread uvicorn installs no signal handlers (``capture_signals``).
        self._thread = threading.Thread(target=run, name="asgi-live-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start") from self._failure
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 30 s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is None or self._thread is None or self._socket is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError("uvicorn did not stop within 15 s")
        self._server = self._thread = self._socket = None
        # The database connections of the server's ended worker threads (the event stream's
        # shared-pool reads keep theirs open by design) close when collected: collect now, so
        # none holds the test database when pytest-django drops it (PostgreSQL refuses).
        gc.collect()

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="session")
def asgi_application(django_db_setup) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The product's ASGI app, loaded once; its event wake-up listener (PostgreSQL LISTEN or
    Redis) is stopped before the test database is dropped."""
    from config.asgi import application
    from jobs import wakeups
    from jobs.api import stream_slots

    yield application
    wakeups.hub_stop()
    stream_slots.reads_close()


@pytest.fixture
def asgi_live_server(transactional_db, asgi_application) -> Iterator[AsgiLiveServer]:
    """A fresh uvicorn for the test (a new event loop: no stream outlives its test).

    Every request opens its own database connection, so the test database must be one that
    other connections see: a file on SQLite (``SQLITE_TEST_PATH``), not ``:memory:``.
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail("asgi_live_server needs a SQLite test database in a file (SQLITE_TEST_PATH)")
    server = AsgiLiveServer(asgi_application)
    server.start()
    try:
        yield server
    finally:
        server.stop()
