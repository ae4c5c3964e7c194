"""Headless Chromium (Debian's ``chromium``) driven by Playwright against a live server.

The workspace tests use ``asgi_live_server`` (``tests/asgi_server.py``): the product's ASGI
app served by uvicorn, as ``manage.py serve`` does, so the event stream streams.
pytest-django's ``live_server`` is a WSGI server, which answers the async event stream only
once it has ended: there the page only ever sees the stream drop and falls back to polling.

Screenshots go to ``test-artifacts/`` at the repository root (gitignored; CI keeps them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

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


DOC_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def doc_screenshot(artifacts: Path):  # type: ignore[no-untyped-def]
    """Save a page's screenshot for the docs: always under the test's ``test-artifacts/``
    folder, and over the committed copy in ``docs/screenshots/`` when ``UPDATE_SCREENSHOTS=1``
    (so a test run leaves the working tree clean)."""
    import os

    def save(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = artifacts / name
        page.screenshot(path=str(path))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (DOC_SCREENSHOTS / name).write_bytes(path.read_bytes())
        return path

    return save
