"""The culling workspace (SPEC §17) in a real browser, by keyboard.

Photos are real JPEGs (and RAW stand-ins) in the temporary ``PHOTOS_ROOT``, indexed by the
pipeline's own tasks run in the test's process (``drain``); the browser talks to the live
server through the REST API exactly as a photographer's would. Screenshots of the grid, the
loupe and the tray land in ``test-artifacts/`` with a small performance report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from config.admin_scoping import staff_permissions_grant
from jobs.orchestrator import start_task
from jobs.runtime import drain
from photos.models import Photo
from projects.models import Project
from tests.factories import jpeg_bytes, make_project, make_user, write_file

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
SHOT = datetime(2025, 7, 14, 9, 0, 0, tzinfo=UTC)
REPORT = "performance.json"


def login(page, live_server, username: str) -> None:
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def folder(project: Project) -> Path:
    return Path(settings.PHOTOS_ROOT) / project.tenant.slug / project.folder


def shoot(project: Project, count: int, *, raw: bool = True, prefix: str = "IMG_") -> list[str]:
    """Write ``count`` photos (a JPEG with a capture time, and a RAW beside every one when
    ``raw``) and index them with the pipeline's own maintenance task."""
    names = []
    for n in range(count):
        base = f"{prefix}{n + 1:04d}"
        taken = SHOT + timedelta(minutes=count - n)  # Reverse of name order: sorting shows.
        color = (40 + 50 * (n % 4), 90 + 30 * (n % 3), 200 - 40 * (n % 5))
        write_file(
            folder(project) / f"{base}.jpg",
            jpeg_bytes(size=(480, 320), color=color, taken_at=taken, make="Fujifilm", model="X-T5"),
        )
        if raw:
            write_file(folder(project) / f"{base}.raf", b"RAW-STAND-IN " + base.encode())
        names.append(base)
    return names


def index(project: Project) -> None:
    start_task("maintenance", project.tenant, project=project, source="user")
    drain()


def order_in_grid(page) -> list[str]:
    return page.eval_on_selector_all(
        ".cull-tile",
        """tiles => tiles
            .map(t => [Number(t.dataset.index), t.querySelector('.cull-name').textContent])
            .sort((a, b) => a[0] - b[0]).map(x => x[1])""",
    )


def tile(page, basename: str):
    return page.locator(".cull-tile", has=page.locator(".cull-name", has_text=basename))


def open_workspace(page, live_server, query: str = "") -> None:
    page.goto(live_server.url + "/admin/cull/" + query)
    page.wait_for_selector("#cull[data-ready=true]")
    page.wait_for_selector(".cull-tile")


def report(artifacts: Path, page, **extra) -> dict:
    metrics = page.evaluate("window.cull.metrics")
    data = {**metrics, **extra}
    (artifacts / REPORT).write_text(json.dumps(data, indent=2))
    return data


@pytest.fixture
def photographer(transactional_db, tenant):
    user = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=user)
    return user


@pytest.fixture
def page(browser, photographer, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A failed request shows as a console error too; those are checked by URL below.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    login(page, live_server, photographer.username)
    page.errors = errors
    page.failed = failed
    yield page
    context.close()


def test_cull_a_project_by_keyboard_only(page, live_server, tenant, artifacts):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 6)
    index(project)
    assert Photo.objects.filter(project=project, thumbnail_status="generated").count() == 6

    open_workspace(page, live_server, f"?project={project.pk}")
    # Capture-time order: the last-named photo was taken first.
    assert order_in_grid(page) == list(reversed(names))
    page.screenshot(path=str(artifacts / "grid.png"))

    grid = page.locator("#cull-grid")
    assert grid.evaluate("el => el === document.activeElement")
    first = names[-1]
    assert tile(page, first).get_attribute("class").count("cull-current") == 1

    # Mark the first photo: discard its RAW, rate it 3, label it green.
    page.keyboard.press("r")
    page.keyboard.press("3")
    page.keyboard.press("8")
    page.wait_for_function("() => !document.querySelector('.cull-saving')")
    # The second: discard both files.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("x")
    # Third and fourth selected together with Shift: rate 5 both.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("5")
    page.wait_for_function("() => !document.querySelector('.cull-saving')")
    # A mistaken change, undone.
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.wait_for_function("() => !document.querySelector('.cull-saving')")
    page.keyboard.press("z")
    page.wait_for_selector("text=Undone.")

    def row(base: str) -> Photo:
        return Photo.objects.get(project=project, basename=base)

    assert (row(first).keep_jpg, row(first).keep_raw, row(first).rating, row(first).label) == (
        True,
        False,
        3,
        "green",
    )
    second = names[-2]
    assert (row(second).keep_jpg, row(second).keep_raw) == (False, False)
    assert [row(b).rating for b in names[-4:-2]] == [5, 5]
    assert row(names[-4]).keep_jpg is True  # The undone J.
    assert "cull-pending-delete" in tile(page, second).get_attribute("class")

    # The loupe, by keyboard: open, next, close.
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-loupe:not([hidden])")
    assert page.inner_text("#cull-loupe-title") == first
    assert "Fujifilm" in page.inner_text("#cull-loupe-meta")
    page.wait_for_function(
        "() => document.querySelector('#cull-loupe-img').complete"
        " && document.querySelector('#cull-loupe-img').naturalWidth > 0"
    )
    page.screenshot(path=str(artifacts / "loupe.png"))
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#cull-loupe-title") == second
    page.keyboard.press("Space")
    page.wait_for_selector("#cull-loupe", state="hidden")

    # The key list.
    page.keyboard.press("?")
    page.wait_for_selector("#cull-help[open]")
    assert "Discard both" in page.inner_text("#cull-help")
    page.keyboard.press("Escape")

    # Commit by keyboard: Tab to the Commit button, Enter, confirm with Enter.
    page.wait_for_selector("#cull-pending:has-text('To trash: 1 JPG, 2 RAW')")
    page.focus("[data-action=commit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-dialog[open]")
    assert "1 JPG and 2 RAW" in page.inner_text("#cull-dialog-body")
    page.focus("#cull-dialog-ok")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Commit started")
    drain()

    trash = sorted(p.name for p in (folder(project) / ".trash").iterdir())
    assert trash == sorted([f"{first}.raf", f"{second}.jpg", f"{second}.raf"])
    assert not Photo.objects.filter(project=project, basename=second).exists()
    # The grid follows the commit through the event stream.
    tile(page, second).wait_for(state="detached", timeout=15_000)
    page.wait_for_selector("#cull-pending:has-text('Nothing to trash')", timeout=15_000)
    report(artifacts, page, photos=6)
    assert page.errors == []
