"""The culling workspace (SPEC §17) in a real browser, by keyboard.

Photos are real JPEGs (and RAW stand-ins) in the temporary ``PHOTOS_ROOT``, indexed by the
pipeline's own tasks run in the test's process (``drain``); the browser talks to the live
server through the REST API exactly as a photographer's would. Screenshots of the grid, the
loupe and the tray land in ``test-artifacts/`` with a small performance report.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from jobs.models import Event, TaskRun
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.models import Photo
from photos.services import photos_rating_update
from photos.storage import project_dir
from projects.models import Project
from projects.services import staff_permissions_grant
from tests.factories import jpeg_bytes, make_project, make_user, write_file

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
SHOT = datetime(2025, 7, 14, 9, 0, 0, tzinfo=UTC)
REPORT = "performance.json"
STREAM_PATH = "/api/events/stream"

# Counts the rounds of the page's polling fallback (``Live.poll``: on a stream error and on
# every timer tick while the stream is not open). It wraps the method when main.js publishes
# ``window.cull``, in the same task that opened the stream: no round can have run before.
COUNT_POLLS = """
(() => {
  let published;
  Object.defineProperty(window, "cull", {
    configurable: true,
    get: () => published,
    set: (value) => {
      const live = value.live;
      const poll = live.poll.bind(live);
      live.polls = 0;
      live.poll = () => {
        live.polls += 1;
        poll();
      };
      published = value;
    },
  });
})();
"""


def login(page, asgi_live_server, username: str) -> None:
    page.goto(asgi_live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def shoot(project: Project, count: int, *, raw: bool = True, prefix: str = "IMG_") -> list[str]:
    """Write ``count`` photos (a JPEG with a capture time, and a RAW beside every one when
    ``raw``) and index them with the pipeline's own maintenance task."""
    names = []
    for n in range(count):
        base = f"{prefix}{n + 1:04d}"
        taken = SHOT + timedelta(minutes=count - n)  # Reverse of name order: sorting shows.
        color = (40 + 50 * (n % 4), 90 + 30 * (n % 3), 200 - 40 * (n % 5))
        write_file(
            project_dir(project) / f"{base}.jpg",
            jpeg_bytes(size=(480, 320), color=color, taken_at=taken, make="Fujifilm", model="X-T5"),
        )
        if raw:
            write_file(project_dir(project) / f"{base}.raf", b"RAW-STAND-IN " + base.encode())
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


def tab_to(page, selector: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(60):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def saved(page) -> None:
    """Wait until no change waits on the server (optimistic changes show before that)."""
    page.wait_for_function("() => window.cull.store.photos.every(p => !p._pending)")


def tile(page, basename: str):
    return page.locator(".cull-tile", has=page.locator(".cull-name", has_text=basename))


def open_workspace(page, asgi_live_server, query: str = "") -> None:
    page.goto(asgi_live_server.url + "/admin/cull/" + query)
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
def page(browser, photographer, asgi_live_server):
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
    login(page, asgi_live_server, photographer.username)
    page.errors = errors
    page.failed = failed
    yield page
    context.close()


def test_cull_a_project_by_keyboard_only(page, asgi_live_server, tenant, artifacts):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 6)
    index(project)
    assert Photo.objects.filter(project=project, thumbnail_status="generated").count() == 6

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    # Capture-time order: the last-named photo was taken first.
    assert order_in_grid(page) == list(reversed(names))
    # Every tile shows its thumbnail (served by the API) before the picture is taken.
    page.wait_for_function(
        """() => {
            const images = [...document.querySelectorAll('.cull-tile img')];
            return images.length === 6 && images.every((i) => i.complete && i.naturalWidth > 0);
        }"""
    )
    page.screenshot(path=str(artifacts / "grid.png"))

    grid = page.locator("#cull-grid")
    assert grid.evaluate("el => el === document.activeElement")
    first = names[-1]
    assert tile(page, first).get_attribute("class").count("cull-current") == 1

    # Mark the first photo: discard its RAW, rate it 3, label it green.
    page.keyboard.press("r")
    page.keyboard.press("3")
    page.keyboard.press("8")
    saved(page)
    # The second: discard both files.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("x")
    # Third and fourth selected together with Shift: rate 5 both.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("5")
    saved(page)
    # A mistaken change, undone.
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    saved(page)
    page.keyboard.press("Control+z")
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

    # Tags for the photo under the cursor: T, type, Enter.
    page.keyboard.press("t")
    page.wait_for_selector("#cull-dialog[open]")
    page.keyboard.type("keeper, north")
    page.keyboard.press("Enter")
    tile(page, names[-4]).locator(".cull-tags", has_text="keeper, north").wait_for()
    saved(page)
    assert sorted(t.name for t in row(names[-4]).tags.all()) == ["keeper", "north"]

    # The loupe, by keyboard: open, next, close.
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-loupe:not([hidden])")
    assert page.inner_text("#cull-loupe-title") == first
    assert "Fujifilm" in page.inner_text("#cull-loupe-meta")
    first_id = Photo.objects.get(project=project, basename=first).pk
    admin_link = page.get_attribute("#cull-loupe-admin", "href")
    assert admin_link == f"/admin/photos/photo/{first_id}/change/"
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
    tab_to(page, "[data-action=commit]", backwards=True)
    # Focus is visible on a control reached by keyboard.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-dialog[open]")
    assert "1 JPG and 2 RAW" in page.inner_text("#cull-dialog-body")
    # The dialog opens with its OK button focused.
    assert page.evaluate("document.activeElement.id") == "cull-dialog-ok"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Commit started")
    drain()

    trash = sorted(p.name for p in (project_dir(project) / ".trash").iterdir())
    assert trash == sorted([f"{first}.raf", f"{second}.jpg", f"{second}.raf"])
    assert not Photo.objects.filter(project=project, basename=second).exists()
    # The grid follows the commit through the event stream.
    tile(page, second).wait_for(state="detached", timeout=15_000)
    page.wait_for_selector("#cull-pending:has-text('Nothing to trash')", timeout=15_000)
    # The photo that kept its JPG keeps its thumbnail; its RAW badge is gone.
    tile(page, first).locator(".cull-badge", has_text="RAW").wait_for(state="detached")
    page.wait_for_function(
        """(name) => [...document.querySelectorAll('.cull-tile')]
            .find(t => t.querySelector('.cull-name').textContent === name)
            ?.querySelector('img')?.naturalWidth > 0""",
        arg=first,
    )
    # The admin's dark theme applies to the workspace too.
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(artifacts / "grid-dark.png"))
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.cull-tile')).backgroundColor"
    )
    assert background != "rgb(255, 255, 255)"
    report(artifacts, page, photos=6)
    assert page.errors == []


def press_all(page) -> None:
    page.keyboard.press("Control+a")
    page.wait_for_selector("text=photos selected.")


def test_select_all_across_two_projects_and_commit(page, asgi_live_server, tenant, artifacts):
    first = make_project(tenant, "Day one")
    second = make_project(tenant, "Day two")
    shoot(first, 3, prefix="ONE_")
    shoot(second, 2, prefix="TWO_")
    index(first)
    index(second)

    open_workspace(page, asgi_live_server)  # The unified view: every project.
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 5")
    press_all(page)
    assert "5 selected" in page.inner_text("#cull-count")
    page.keyboard.press("r")  # Discard the RAW of every selected photo.
    page.wait_for_selector("#cull-pending:has-text('To trash: 0 JPG, 5 RAW')")
    assert Photo.objects.filter(keep_raw=False).count() == 5

    page.click("[data-action=commit]")
    page.wait_for_selector("#cull-dialog[open]")
    body = page.inner_text("#cull-dialog-body")
    assert "Day one: 0 JPG and 3 RAW" in body
    assert "Day two: 0 JPG and 2 RAW" in body
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Commit started for 5 photo(s) in 2 project(s).")
    commits = TaskRun.objects.filter(type__startswith="change_commit")
    assert [(t.type, t.scope) for t in commits] == [("change_commit_all", "photo_set")]
    drain()
    for project, prefix, count in ((first, "ONE_", 3), (second, "TWO_", 2)):
        trashed = sorted(p.name for p in (project_dir(project) / ".trash").iterdir())
        assert trashed == [f"{prefix}{n:04d}.raf" for n in range(1, count + 1)]
    page.wait_for_selector("#cull-pending:has-text('Nothing to trash')", timeout=15_000)
    assert page.errors == []


def test_move_a_selection_shows_name_clashes_first(page, asgi_live_server, tenant, artifacts):
    source = make_project(tenant, "Wedding")
    dest = make_project(tenant, "Wedding selects")
    shoot(source, 3, raw=False)
    index(source)
    # A file of that name already sits in the destination's folder (not yet indexed).
    write_file(project_dir(dest) / "IMG_0001.jpg", jpeg_bytes())

    open_workspace(page, asgi_live_server, f"?project={source.pk}")
    press_all(page)
    page.click("[data-action=move]")
    page.select_option("#cull-move-dest", str(dest.pk))
    page.click("#cull-dialog-ok")
    page.wait_for_selector("#cull-dialog-title:has-text('Confirm the move')")
    body = page.inner_text("#cull-dialog-body")
    assert "2 photo(s) will move to Wedding selects." in body
    assert "IMG_0001: A photo named 'IMG_0001' already exists" in body
    page.screenshot(path=str(artifacts / "move-dry-run.png"))
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Move started (2 photo(s)).")
    drain()
    moved = Photo.objects.filter(project=dest).values_list("basename", flat=True)
    assert sorted(moved) == ["IMG_0002", "IMG_0003"]
    assert Photo.objects.get(project=source).basename == "IMG_0001"
    assert (project_dir(dest) / "IMG_0002.jpg").is_file()
    # The moved photos leave this project's grid through the event stream.
    page.wait_for_function(
        "() => document.querySelectorAll('.cull-tile').length === 1", timeout=15_000
    )
    assert order_in_grid(page) == ["IMG_0001"]
    assert page.errors == []


def stream_requests(page) -> list:
    """The page's requests of the event stream, recorded as they are sent."""
    requests: list = []
    page.on("request", lambda r: requests.append(r) if STREAM_PATH in r.url else None)
    return requests


def resumed_from(request) -> str | None:
    """The event id a stream request asks to resume after (``?last_event_id=``)."""
    return parse_qs(urlsplit(request.url).query).get("last_event_id", [None])[0]


def api_post(server, user, path: str, body: dict) -> dict:
    """``user`` calls the REST API (token authentication) on the server the page uses."""
    token, _ = Token.objects.get_or_create(user=user)
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_task_progress_appears_without_a_reload(
    page, asgi_live_server, tenant, artifacts, settings
):
    """Through the event stream alone: the page says it is live, one stream request carries
    every update, and the polling fallback never runs."""
    settings.EVENTS_STREAM_POLL_SECONDS = 0.2  # SQLite: how often an open stream reads
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 4)
    index(project)
    streams = stream_requests(page)
    page.add_init_script(COUNT_POLLS)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    assert page.is_visible("#cull-tasks-empty")
    page.wait_for_selector("#cull-live[data-state=live]:has-text('live')")

    # Another client starts work: the tray shows it from the event stream.
    start_task(
        "generate_derivatives", tenant, project=project, payload={"force": True}, source="user"
    )
    task = page.locator(".cull-task", has_text="Making previews")
    task.wait_for(timeout=15_000)
    assert "queued" in task.inner_text()
    page.screenshot(path=str(artifacts / "tray.png"))
    drain()
    page.wait_for_selector(".cull-task.cull-task-done", timeout=15_000)
    # A whole-project job counts two passes over the 4 photos: every thumbnail, then every
    # preview. (Read now: a completed task leaves the tray a few seconds later.)
    assert "8/8" in task.inner_text()
    page.screenshot(path=str(artifacts / "tray-done.png"))
    # Another user rates a photo through the API: its tile follows.
    colleague = make_user(tenant, "carl", password=PASSWORD)
    photo = Photo.objects.get(project=project, basename="IMG_0002")
    reply = api_post(
        asgi_live_server,
        colleague,
        "/api/photos/rating",
        {"items": [{"photo_id": photo.pk, "rating": 4}]},
    )
    assert reply["updated"] == 1, reply
    tile(page, "IMG_0002").locator(".cull-stars", has_text="★★★★☆").wait_for(timeout=15_000)
    assert page.get_attribute("#cull-live", "data-state") == "live"
    assert page.evaluate("window.cull.live.polls") == 0
    assert len(streams) == 1, [r.url for r in streams]
    assert page.errors == []
    assert page.failed == []


def test_event_stream_resumes_after_a_server_restart_without_missing_an_event(
    page, asgi_live_server, tenant, settings
):
    """The server goes away under an open stream (a redeploy): the page says it is
    reconnecting, asks again from the last event it handled (``?last_event_id=``, the
    server's equivalent of ``Last-Event-ID``) until the server is back, and the events written
    while no stream was open arrive through the stream."""
    settings.EVENTS_STREAM_POLL_SECONDS = 0.2
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 3)
    index(project)
    first, second, third = (
        Photo.objects.get(project=project, basename=name)
        for name in ("IMG_0001", "IMG_0002", "IMG_0003")
    )
    colleague = make_user(tenant, "carl", password=PASSWORD)
    streams = stream_requests(page)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.wait_for_selector("#cull-live[data-state=live]")

    # An event over the open stream moves the page's position to its id.
    api_post(
        asgi_live_server,
        colleague,
        "/api/photos/rating",
        {"items": [{"photo_id": first.pk, "rating": 1}]},
    )
    tile(page, first.basename).locator(".cull-stars", has_text="★☆☆☆☆").wait_for(timeout=15_000)
    handled = Event.objects.filter(type="item", photo_id=first.pk).latest("id").pk
    assert page.evaluate("window.cull.live.lastEventId") == handled

    asgi_live_server.stop()
    page.wait_for_selector("#cull-live[data-state=reconnecting]", timeout=15_000)
    # Written while no stream is open (by a worker, another web process…).
    photos_rating_update(
        user=colleague,
        items=[{"photo_id": second.pk, "rating": 2}, {"photo_id": third.pk, "rating": 3}],
    )
    missed = list(Event.objects.filter(pk__gt=handled).values_list("pk", flat=True))
    assert len(missed) >= 2
    reconnections_while_down = len(streams) - 1

    asgi_live_server.start()
    page.wait_for_selector("#cull-live[data-state=live]", timeout=15_000)
    tile(page, second.basename).locator(".cull-stars", has_text="★★☆☆☆").wait_for(timeout=15_000)
    tile(page, third.basename).locator(".cull-stars", has_text="★★★☆☆").wait_for(timeout=15_000)
    # Every reconnection asked for what came after the last event handled, and the missed
    # events came by id through the stream (the fallback's polls re-read only photos whose
    # thumbnails are pending).
    assert len(streams) > reconnections_while_down + 1
    assert [resumed_from(r) for r in streams[1:]] == [str(handled)] * (len(streams) - 1)
    assert page.evaluate("(ids) => ids.every((id) => window.cull.live.seen.has(id))", missed)
    assert page.evaluate("window.cull.live.lastEventId") == max(missed)
    assert page.failed == []


def test_tray_polls_when_the_event_stream_is_down(
    browser, photographer, asgi_live_server, tenant, settings
):
    settings.CULL_TRAY_POLL_MS = 400
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 2)
    index(project)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/api/events/stream*", lambda route: route.abort())
    page = context.new_page()
    login(page, asgi_live_server, photographer.username)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    start_task("generate_derivatives", tenant, project=project, source="user")
    page.locator(".cull-task", has_text="Making previews").wait_for(timeout=10_000)
    context.close()


def test_pending_thumbnails_are_polled_when_the_event_stream_is_down(
    browser, photographer, asgi_live_server, tenant, settings
):
    settings.CULL_TRAY_POLL_MS = 400
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 2)
    index(project)
    Photo.objects.filter(project=project, basename=names[0]).update(thumbnail_status="pending")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/api/events/stream*", lambda route: route.abort())
    page = context.new_page()
    login(page, asgi_live_server, photographer.username)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    assert tile(page, names[0]).locator(".cull-spinner").count() == 1
    Photo.objects.filter(project=project, basename=names[0]).update(thumbnail_status="generated")
    tile(page, names[0]).locator("img").wait_for(timeout=10_000)
    context.close()


def drop_files(page, files: dict[str, bytes]) -> None:
    """Drop files on the grid as a file manager would (a DataTransfer of real files)."""
    payload = [
        {"name": name, "data": base64.b64encode(data).decode()} for name, data in files.items()
    ]
    page.evaluate(
        """(files) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name));
            }
            const grid = document.querySelector("#cull-grid");
            for (const type of ["dragenter", "dragover", "drop"]) {
                grid.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }
        }""",
        payload,
    )


def test_upload_by_drop(page, asgi_live_server, tenant, artifacts):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 1)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    drop_files(
        page,
        {
            "DROP_0001.jpg": jpeg_bytes(size=(300, 200), taken_at=SHOT - timedelta(hours=1)),
            "DROP_0002.jpg": jpeg_bytes(size=(300, 200), color=(20, 160, 60)),
            "notes.txt": b"not a photo",
        },
    )
    page.wait_for_selector("#cull-upload:has-text('Uploaded 2 of 3 file(s); 1 refused.')")
    assert "notes.txt" in page.inner_text("#cull-upload .cull-refused")
    assert (project_dir(project) / "DROP_0001.jpg").is_file()
    assert not (project_dir(project) / "notes.txt").exists()
    # The upload task indexes them; the tiles appear with their thumbnails, in capture order.
    drain()
    page.wait_for_function(
        "() => document.querySelectorAll('.cull-tile img').length === 3", timeout=15_000
    )
    assert order_in_grid(page)[0] == "DROP_0001"
    page.screenshot(path=str(artifacts / "uploaded.png"))
    assert page.errors == []


def test_staff_of_another_tenant_sees_none_of_it(
    browser, asgi_live_server, tenant, other_tenant, transactional_db
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 2)
    index(project)
    outsider = make_user(other_tenant, "olaf", staff=True, password=PASSWORD)
    staff_permissions_grant(user=outsider)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    login(page, asgi_live_server, "olaf")
    page.goto(asgi_live_server.url + f"/admin/cull/?project={project.pk}")
    page.wait_for_selector("#cull[data-ready=true]")
    assert page.locator(".cull-tile").count() == 0
    assert page.is_visible("#cull-empty")
    assert "Iceland" not in page.content()
    assert page.locator('#cull-f-projects input[name="project"]').count() == 0
    # The API the page uses answers as if the photos did not exist.
    photo = Photo.objects.filter(project=project).first()
    status = page.evaluate(f"fetch('/api/photos/{photo.pk}/').then(r => r.status)")
    assert status == 404
    page.close()


def bulk_photos(project: Project, count: int, prefix: str) -> None:
    """Rows without files: enough for the grid, which shows a pending thumbnail for each."""
    Photo.objects.bulk_create(
        (
            Photo(
                project=project,
                basename=f"{prefix}{n:05d}",
                jpg_available=True,
                keep_jpg=True,
                taken_at=SHOT + timedelta(seconds=n),
            )
            for n in range(count)
        ),
        batch_size=2000,
    )


def test_twenty_thousand_photos_scroll_with_few_tiles(page, asgi_live_server, tenant, artifacts):
    sprint = make_project(tenant, "Sprint")
    bulk_photos(sprint, 5_000, "SPRINT_")
    marathon = make_project(tenant, "Marathon")
    bulk_photos(marathon, 20_000, "RUN_")

    # First paint of a 5,000-photo project, measured from the page's first script.
    open_workspace(page, asgi_live_server, f"?project={sprint.pk}")
    first_paint_5000 = page.evaluate("window.cull.metrics.firstPaintMs")

    open_workspace(page, asgi_live_server, f"?project={marathon.pk}")
    first_paint = page.evaluate("window.cull.metrics.firstPaintMs")
    most = 0
    # Scroll to the end, eight screens at a time, counting tile elements on the way; at the
    # end of what is loaded, wait for the next cursor page.
    while True:
        state = page.evaluate(
            """() => {
                const grid = document.querySelector("#cull-grid");
                grid.scrollTop += grid.clientHeight * 8;
                return {tiles: document.querySelectorAll(".cull-tile").length,
                        loaded: window.cull.store.photos.length,
                        complete: window.cull.store.complete,
                        bottom: grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 2};
            }"""
        )
        most = max(most, state["tiles"])
        if state["complete"] and state["bottom"]:
            break
        if state["bottom"]:
            page.wait_for_function(
                f"() => window.cull.store.photos.length > {state['loaded']}", timeout=30_000
            )
        page.wait_for_timeout(20)
    assert state["loaded"] == 20_000
    assert most <= 300
    # The last row renders on the next animation frame after the last scroll.
    page.locator(".cull-name", has_text="RUN_19999").wait_for()
    most = max(most, page.locator(".cull-tile").count())

    # Select all 20,000 and rate them: the client splits the request at 2,000 items.
    posts: list[int] = []
    page.on(
        "request",
        lambda r: (
            posts.append(len(json.loads(r.post_data)["items"]))
            if r.method == "POST" and r.url.endswith("/api/photos/rating")
            else None
        ),
    )
    page.keyboard.press("Control+a")
    page.wait_for_selector("text=20000 photos selected.")
    started = time.monotonic()
    page.keyboard.press("1")
    page.wait_for_function(
        "() => window.cull.store.photos.every(p => !p._pending)", timeout=120_000
    )
    rate_seconds = time.monotonic() - started
    assert posts == [2000] * 10
    assert Photo.objects.filter(project=marathon, rating=1).count() == 20_000
    report(
        artifacts,
        page,
        photos=20_000,
        max_tiles=most,
        first_paint_ms_5000=first_paint_5000,
        first_paint_ms_20000=first_paint,
        rate_20000_seconds=round(rate_seconds, 2),
    )


def test_tablet_culls_by_touch(browser, photographer, asgi_live_server, tenant, artifacts):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 3)
    index(project)
    context = browser.new_context(
        viewport={"width": 820, "height": 1180}, has_touch=True, is_mobile=False
    )
    page = context.new_page()
    login(page, asgi_live_server, photographer.username)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    columns = page.evaluate(
        "new Set([...document.querySelectorAll('.cull-tile')].map(t => t.style.transform.split(',')[0])).size"
    )
    assert columns >= 3
    tile(page, names[0]).tap()
    page.tap("[data-action=discard]")
    page.select_option("#cull-rate", "2")
    tile(page, names[0]).locator(".cull-stars", has_text="★★☆☆☆").wait_for()
    saved(page)
    photo = Photo.objects.get(project=project, basename=names[0])
    assert (photo.keep_jpg, photo.keep_raw, photo.rating) == (False, False, 2), page.inner_text(
        "#cull-messages"
    )
    page.tap("[data-action=loupe]")
    page.wait_for_selector("#cull-loupe:not([hidden])")
    assert page.inner_text("#cull-loupe-title") == names[0]
    page.tap("#cull-loupe-close")
    page.screenshot(path=str(artifacts / "tablet.png"))
    context.close()


def test_event_stream_resumes_from_the_last_event_after_a_drop(
    browser, photographer, asgi_live_server, tenant
):
    """The stream is played by the browser: one event, then the connection drops; the
    reconnection asks (``?last_event_id=``) for what came after that event, and the next event still reaches the
    page (a tile changes)."""
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 1)
    index(project)
    photo = Photo.objects.get(project=project)
    requests: list[dict] = []

    def stream(route) -> None:  # type: ignore[no-untyped-def]
        requests.append({"url": route.request.url})
        if len(requests) == 1:
            body = 'retry: 200\nid: 900001\nevent: pending_changes\ndata: {"type": "pending_changes"}\n\n'
        else:
            Photo.objects.filter(pk=photo.pk).update(rating=5)  # Changed behind the page's back.
            data = json.dumps(
                {
                    "type": "item",
                    "photo_id": photo.pk,
                    "project_id": project.pk,
                    "actor_id": None,
                    "job_id": None,
                    "payload": {"photo_id": photo.pk},
                }
            )
            body = f"retry: 60000\nid: 900002\nevent: item\ndata: {data}\n\n"
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/api/events/stream*", stream)
    page = context.new_page()
    login(page, asgi_live_server, photographer.username)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    tile(page, photo.basename).locator(".cull-stars", has_text="★★★★★").wait_for(timeout=10_000)
    assert requests[1]["url"].endswith("last_event_id=900001")
    context.close()


def test_filters_live_in_the_url_and_clicks_select(page, asgi_live_server, tenant):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 4)
    index(project)
    Photo.objects.filter(project=project, basename=names[0]).update(keep_raw=False)
    Photo.objects.filter(project=project, basename=names[1]).update(rating=4, label="red")

    open_workspace(page, asgi_live_server, f"?project={project.pk}&state=pending")
    assert order_in_grid(page) == [names[0]]
    assert page.input_value("select[name=state]") == "pending"

    page.select_option("select[name=state]", "")
    page.select_option("select[name=rating_min]", "4")
    page.wait_for_url(f"**/admin/cull/?project={project.pk}&rating_min=4")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 1")
    assert order_in_grid(page) == [names[1]]
    page.select_option("select[name=rating_min]", "")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 4")

    # Back: the bookmarked view comes again.
    page.go_back()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 1")
    assert page.input_value("select[name=rating_min]") == "4"
    page.select_option("select[name=rating_min]", "")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 4")

    # Click, Shift+click extends, Ctrl+click adds or removes.
    order = order_in_grid(page)
    tile(page, order[0]).click()
    tile(page, order[2]).click(modifiers=["Shift"])
    assert "3 selected" in page.inner_text("#cull-count")
    tile(page, order[1]).click(modifiers=["Control"])
    assert "2 selected" in page.inner_text("#cull-count")
    page.keyboard.press("Escape")
    assert "selected" not in page.inner_text("#cull-count")
    assert page.errors == []


def test_a_refused_change_is_rolled_back_with_a_message(page, asgi_live_server, tenant):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 2)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    press_all(page)
    # One photo goes away behind the page's back (another user's commit, say).
    gone = Photo.objects.get(project=project, basename=names[0])
    Photo.objects.filter(pk=gone.pk).delete()
    page.keyboard.press("x")
    page.wait_for_selector(".cull-message-error:has-text('1 change refused and rolled back.')")
    saved(page)
    assert "cull-pending-delete" not in tile(page, names[0]).get_attribute("class")
    assert "cull-pending-delete" in tile(page, names[1]).get_attribute("class")
    kept = Photo.objects.get(project=project, basename=names[1])
    assert (kept.keep_jpg, kept.keep_raw) == (False, False)


def active(page, expression: str = "document.activeElement.id"):
    return page.evaluate(expression)


def focus_inside(page, selector: str) -> bool:
    return page.evaluate("(s) => Boolean(document.activeElement.closest(s))", selector)


def test_the_loupe_and_dialogs_hold_the_focus_and_give_it_back(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 3)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    assert order == list(reversed(names))

    # From the second tile: the loupe is a modal dialog with a name and takes the focus.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    loupe = page.get_by_role("dialog", name="Loupe")
    loupe.wait_for()
    assert loupe.get_attribute("aria-modal") == "true"
    assert active(page) == "cull-loupe"
    # The page behind it is inert (no focus, no clicks); the live messages are not.
    assert page.evaluate("Boolean(document.querySelector('#cull-grid').closest('[inert]'))")
    assert page.evaluate("Boolean(document.querySelector('#header').closest('[inert]'))")
    assert not page.evaluate("Boolean(document.querySelector('#cull-messages').closest('[inert]'))")

    # Tab goes round the loupe's controls and never leaves it; Shift+Tab goes back round.
    controls = ["cull-loupe-prev", "cull-loupe-next", "cull-loupe-close", "cull-loupe-admin"]
    seen = []
    for _ in range(len(controls) * 2 + 1):
        page.keyboard.press("Tab")
        assert focus_inside(page, "#cull-loupe"), active(page, "document.activeElement.outerHTML")
        seen.append(active(page))
    assert seen == controls * 2 + controls[:1]
    page.keyboard.press("Shift+Tab")
    assert active(page) == "cull-loupe-admin"
    page.keyboard.press("Shift+Tab")
    assert active(page) == "cull-loupe-close"
    # Focus shows on the loupe's controls too.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.screenshot(path=str(artifacts / "loupe-focus.png"))

    # Esc: the loupe closes and the focus is back on the grid, its cursor on the same tile.
    page.keyboard.press("Escape")
    loupe.wait_for(state="hidden")
    assert active(page) == "cull-grid"
    assert page.get_attribute("#cull-grid", "aria-activedescendant") == "cull-current"
    assert page.get_attribute("#cull-current", "data-index") == "1"
    assert page.locator("#cull-current .cull-name").inner_text() == order[1]
    assert page.locator("[inert]").count() == 0

    # Opened from the View button, the loupe gives the focus back to that button.
    tab_to(page, "[data-action=loupe]")
    page.keyboard.press("Enter")
    loupe.wait_for()
    assert active(page) == "cull-loupe"
    page.keyboard.press("Escape")
    loupe.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.dataset.action") == "loupe"

    # The key list: a named modal dialog; Tab stays on its one button; Esc gives the focus back.
    page.focus("#cull-grid")
    page.keyboard.press("?")
    keys = page.get_by_role("dialog", name="Keys")
    keys.wait_for()
    assert keys.get_attribute("aria-modal") == "true"
    for _ in range(3):
        page.keyboard.press("Tab")
        assert focus_inside(page, "#cull-help")
    page.keyboard.press("Shift+Tab")
    assert focus_inside(page, "#cull-help")
    page.keyboard.press("Escape")
    keys.wait_for(state="hidden")
    assert active(page) == "cull-grid"

    # A confirmation: OK and Cancel take turns under Tab and Shift+Tab; Esc cancels and the
    # focus goes back to the button that asked.
    tab_to(page, "[data-action=revert]")
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Revert changes?")
    confirm.wait_for()
    assert confirm.get_attribute("aria-modal") == "true"
    assert active(page) == "cull-dialog-ok"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "cancel"
    page.keyboard.press("Tab")
    assert active(page) == "cull-dialog-ok"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.value") == "cancel"
    page.keyboard.press("Escape")
    confirm.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.dataset.action") == "revert"
    assert page.errors == []


def test_every_label_is_reachable_by_keyboard(page, asgi_live_server, tenant, artifacts):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 2)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    first, second = order_in_grid(page)

    def label(base: str) -> str:
        return Photo.objects.get(project=project, basename=base).label

    # Lightroom's keys: 9 is blue. L goes on to the next label: purple, then none.
    page.keyboard.press("9")
    saved(page)
    assert label(first) == "blue"
    page.keyboard.press("l")
    saved(page)
    assert label(first) == "purple"
    assert tile(page, first).locator(".cull-label-purple").count() == 1
    page.keyboard.press("l")
    saved(page)
    assert label(first) == "none"
    # Shift+L goes the other way: from none straight to purple.
    page.keyboard.press("Shift+L")
    saved(page)
    assert label(first) == "purple"
    page.keyboard.press("Shift+L")
    saved(page)
    assert label(first) == "blue"

    # The Label menu in the actions bar (Tab, then the arrow keys or a tap) lists every label,
    # purple too, with the number keys beside them.
    page.keyboard.press("ArrowRight")
    tab_to(page, "#cull-label")
    options = page.eval_on_selector_all("#cull-label option", "os => os.map(o => o.textContent)")
    assert options == [
        "–",
        "None",
        "Red (6)",
        "Yellow (7)",
        "Green (8)",
        "Blue (9)",
        "Purple",
    ]
    page.select_option("#cull-label", "purple")
    saved(page)
    assert label(second) == "purple"
    assert page.input_value("#cull-label") == ""

    # The key list says so.
    page.focus("#cull-grid")
    page.keyboard.press("?")
    page.wait_for_selector("#cull-help[open]")
    assert "L / Shift + L" in page.inner_text("#cull-help")
    assert "purple" in page.inner_text("#cull-help")
    page.screenshot(path=str(artifacts / "keys.png"))
    assert page.errors == []


def test_upload_a_folder_with_the_folder_picker(
    page, asgi_live_server, tenant, artifacts, tmp_path
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 1)  # IMG_0001 is in the project already.
    index(project)
    # A card's folder as a file manager shows it: photos at the top and in nested folders,
    # a name the project has already, a file that is not a photo, hidden files and folders.
    card = tmp_path / "Card"
    write_file(
        card / "FOLD_0001.jpg", jpeg_bytes(size=(300, 200), taken_at=SHOT - timedelta(hours=3))
    )
    write_file(
        card / "day2" / "FOLD_0002.jpg",
        jpeg_bytes(size=(300, 200), color=(20, 160, 60), taken_at=SHOT - timedelta(hours=2)),
    )
    write_file(
        card / "day2" / "best" / "FOLD_0003.jpg",
        jpeg_bytes(size=(300, 200), color=(200, 160, 60), taken_at=SHOT - timedelta(hours=1)),
    )
    write_file(card / "day2" / "IMG_0001.jpg", jpeg_bytes(size=(300, 200)))
    write_file(card / "notes.txt", b"not a photo")
    write_file(card / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write_file(card / ".thumbs" / "FOLD_0009.jpg", jpeg_bytes())

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    # The picker is a keyboard-reachable control with visible focus, like the other buttons.
    tab_to(page, "#cull-upload-folder", backwards=True)
    label = page.locator("label:has(#cull-upload-folder)")
    assert label.inner_text().strip() == "Upload folder…"
    assert label.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    assert page.get_attribute("#cull-upload-folder", "webkitdirectory") is not None

    # What the browser hands a folder picker for this folder: hidden files included.
    page.evaluate(
        """() => {
            const probe = document.createElement("input");
            probe.type = "file";
            probe.webkitdirectory = true;
            probe.id = "probe";
            document.body.appendChild(probe);
        }"""
    )
    page.set_input_files("#probe", str(card))
    picked = page.eval_on_selector("#probe", "el => [...el.files].map(f => f.webkitRelativePath)")
    assert "Card/.DS_Store" in picked
    assert "Card/.thumbs/FOLD_0009.jpg" in picked
    assert len(picked) == 7
    page.evaluate("document.querySelector('#probe').remove()")

    page.set_input_files("#cull-upload-folder", str(card))
    # Five sent (the hidden ones are skipped; the server would refuse and list them), three
    # saved.
    page.wait_for_selector("#cull-upload:has-text('Uploaded 3 of 5 file(s); 2 refused.')")
    rows = page.locator("#cull-upload .cull-refused li")
    refused = rows.all_inner_texts()
    assert len(refused) == 2
    # Refused files are listed by name with the server's reason, their path in the folder
    # in full on hover (the title) and on a click of the name.
    clash = next(line for line in refused if "IMG_0001" in line)
    assert clash.startswith("IMG_0001.jpg: ")
    assert "already exists" in clash
    clash_row = rows.filter(has_text="IMG_0001")
    assert clash_row.get_attribute("title").startswith("Card/day2/IMG_0001.jpg: ")
    clash_row.get_by_role("button", name="IMG_0001.jpg").click()
    assert clash_row.locator(".cull-refused-full").inner_text() == "Card/day2/IMG_0001.jpg"
    text = next(line for line in refused if "notes.txt" in line)
    assert text.startswith("notes.txt: ")
    assert rows.filter(has_text="notes.txt").get_attribute("title").startswith("Card/notes.txt: ")

    # Nested folders land flat in the project folder, as from a drop.
    present = sorted(
        p.name for p in project_dir(project).iterdir() if p.is_file() and not p.name.startswith(".")
    )
    assert present == [
        "FOLD_0001.jpg",
        "FOLD_0002.jpg",
        "FOLD_0003.jpg",
        "IMG_0001.jpg",
        "IMG_0001.raf",
    ]
    assert not (project_dir(project) / "day2").exists()
    # The one IMG_0001.jpg is the one shot first, not the upload's.
    assert (project_dir(project) / "IMG_0001.jpg").read_bytes() != (
        card / "day2" / "IMG_0001.jpg"
    ).read_bytes()

    drain()
    page.wait_for_function(
        """() => {
            const images = [...document.querySelectorAll('.cull-tile img')];
            return images.length === 4 && images.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        timeout=15_000,
    )
    assert order_in_grid(page) == ["FOLD_0001", "FOLD_0002", "FOLD_0003", "IMG_0001"]
    assert set(Photo.objects.filter(project=project).values_list("basename", flat=True)) == {
        "FOLD_0001",
        "FOLD_0002",
        "FOLD_0003",
        "IMG_0001",
    }
    page.screenshot(path=str(artifacts / "folder-uploaded.png"))
    assert page.errors == []
