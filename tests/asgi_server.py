"""``asgi_live_server``: the product's ASGI app served by uvicorn in a thread of the test process.

Used by the browser tests (the event stream streams, as under ``manage.py serve``) and by the
upload tests that talk HTTP over a real socket (``tests/test_upload_gate.py``). Registered for
every test by the root ``conftest.py``.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection


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
