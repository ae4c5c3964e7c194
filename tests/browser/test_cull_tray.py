"""The culling workspace's tray and grid chrome (issue 22, item 4) in Chromium.

Tasks run in the test's process (``drain``); the page follows them through the event stream of
the ASGI live server, as in ``test_cull_workspace``. Every row the tray ever shows is recorded
by a MutationObserver, so what a photographer saw in between is checked too, not only the end.
"""

from __future__ import annotations

import re

import pytest

from jobs.lifecycle import job_cancel
from jobs.models import Job
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.models import Photo
from photos.storage import project_dir
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import (
    drop_files,
    index,
    login,
    open_workspace,
    shoot,
    tab_to,
)
from tests.factories import jpeg_bytes, make_project, write_file

pytestmark = pytest.mark.browser

# Records the text of every tray row each time the tray changes: ``window.trayRows``.
RECORD_TRAY = """
window.trayRows = [];
new MutationObserver(() => {
  for (const row of document.querySelectorAll(".cull-task")) {
    window.trayRows.push({
      task: row.dataset.task,
      title: row.querySelector(".cull-task-title").textContent,
      step: row.querySelector(".cull-task-step").textContent,
    });
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


# The workspace tests' signed-in staff user (its page fixture, below, checks less).
photographer = workspace.photographer


@pytest.fixture
def page(browser, photographer, asgi_live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, asgi_live_server, photographer.username)
    page.errors = errors
    yield page
    context.close()


def live_workspace(page, asgi_live_server, project, settings) -> None:
    settings.EVENTS_STREAM_POLL_SECONDS = 0.2  # SQLite: how often an open stream reads
    page.add_init_script(RECORD_TRAY)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.wait_for_selector("#cull-live[data-state=live]")


def step_number(text: str) -> int | None:
    found = re.search(r"step (\d+)/\d+", text)
    return int(found.group(1)) if found else None


def test_the_tray_shows_task_titles_and_steps_that_only_move_forward(
    page, asgi_live_server, tenant, settings
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 3)
    index(project)
    live_workspace(page, asgi_live_server, project, settings)

    start_task("maintenance", tenant, project=project, source="user")
    page.wait_for_selector(".cull-task:has-text('Maintenance of Iceland July 2025')")
    drain()
    page.wait_for_selector(".cull-task.cull-task-done", timeout=15_000)

    rows = page.evaluate("window.trayRows")
    assert rows, "the tray showed nothing"
    assert {row["title"] for row in rows} == {"Maintenance of Iceland July 2025"}
    # No job type names, and a step counter that never goes back nor leaves "done".
    steps = [row["step"] for row in rows]
    assert not [s for s in steps if re.search(r"[a-z]+_[a-z]+", s)], steps
    numbers = [n for n in map(step_number, steps) if n is not None]
    assert numbers == sorted(numbers), steps
    first_done = steps.index("done")
    assert set(steps[first_done:]) == {"done"}, steps
    assert page.errors == []


def test_a_completed_task_leaves_the_tray_and_a_failed_one_stays_until_dismissed(
    page, asgi_live_server, tenant, settings
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 2)
    index(project)
    live_workspace(page, asgi_live_server, project, settings)

    doomed = start_task(
        "generate_derivatives", tenant, project=project, payload={"force": True}, source="user"
    )
    canceled = page.locator(".cull-task", has_text="Making previews")
    canceled.wait_for(timeout=15_000)
    job_cancel(job_id=Job.objects.filter(task_id=doomed["task_id"]).first().pk)
    page.wait_for_selector(".cull-task.cull-task-failed:has-text('Making previews')")

    start_task("maintenance", tenant, project=project, source="user")
    done = page.locator(".cull-task", has_text="Maintenance of Iceland July 2025")
    done.wait_for(timeout=15_000)
    drain()
    page.wait_for_selector(".cull-task.cull-task-done", timeout=15_000)
    # The completed task leaves by itself, a few seconds later, with no event nor reload.
    done.wait_for(state="detached", timeout=15_000)
    assert canceled.count() == 1
    assert page.is_hidden("#cull-tasks-empty")
    # The failed one leaves when its close button is pressed.
    canceled.get_by_role("button", name="Dismiss Making previews").click()
    canceled.wait_for(state="detached")
    assert page.is_visible("#cull-tasks-empty")
    assert page.errors == []


def test_an_upload_says_uploading_on_an_empty_grid_and_its_summary_then_leaves(
    page, asgi_live_server, tenant, settings
):
    project = make_project(tenant, "Iceland July 2025")
    settings.EVENTS_STREAM_POLL_SECONDS = 0.2
    page.goto(asgi_live_server.url + f"/admin/cull/?project={project.pk}")
    page.wait_for_selector("#cull[data-ready=true]")
    page.wait_for_selector("#cull-empty:has-text('No photos match this filter.')")
    # The first file's bytes are held while the page is looked at: files are being saved.
    held: list = []

    def hold_the_first_chunk(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method == "PATCH" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/uploads/**", hold_the_first_chunk)
    drop_files(page, {"UP_0001.jpg": jpeg_bytes(size=(300, 200)), "UP_0002.jpg": jpeg_bytes()})
    page.wait_for_selector("#cull-empty:has-text('Uploading 2 files')")
    assert "No photos match" not in page.inner_text("#cull-grid")
    for _ in range(200):  # The first chunk is on its way once its upload is created.
        if held:
            break
        page.wait_for_timeout(50)
    assert "Uploading 2 files" in page.inner_text("#cull-empty")
    held[0].continue_()
    page.wait_for_selector("#cull-upload:has-text('Uploaded 2 of 2 file(s).')")
    assert "No photos match" not in page.inner_text("#cull-grid")
    assert "2 files uploaded" in page.inner_text("#cull-empty")
    # Nothing refused: the summary leaves by itself a few seconds later.
    page.wait_for_selector("#cull-upload", state="hidden", timeout=15_000)
    drain()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")
    assert page.is_hidden("#cull-empty")
    assert page.errors == []


def test_an_upload_with_refusals_keeps_its_summary_until_dismissed(
    page, asgi_live_server, tenant, settings
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 1)
    index(project)
    write_file(project_dir(project) / "CLASH_0001.jpg", jpeg_bytes())
    live_workspace(page, asgi_live_server, project, settings)
    drop_files(page, {"CLASH_0001.jpg": jpeg_bytes(), "notes.txt": b"not a photo"})
    summary = page.locator("#cull-upload")
    summary.locator("text=Uploaded 0 of 2 file(s); 2 refused.").wait_for()
    # A completed task meanwhile leaves the tray; the refusals stay.
    start_task("maintenance", tenant, project=project, source="user")
    done = page.locator(".cull-task", has_text="Maintenance of")
    done.wait_for(timeout=15_000)
    drain()
    done.wait_for(state="detached", timeout=15_000)
    assert summary.is_visible()
    assert "CLASH_0001.jpg: " in summary.inner_text()
    summary.get_by_role("button", name="Dismiss the upload summary").click()
    summary.wait_for(state="hidden")
    assert page.errors == []


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_project_picker_covers_no_filter_and_closes_on_esc_and_a_click_outside(
    page, asgi_live_server, tenant
):
    projects = [make_project(tenant, f"Shoot number {n} of the summer") for n in range(6)]
    shoot(projects[0], 2)
    index(projects[0])
    open_workspace(page, asgi_live_server, f"?project={projects[0].pk}")
    picker = page.locator("#cull-f-projects")
    page.click("#cull-f-projects-summary")
    fieldset = picker.locator("fieldset")
    fieldset.wait_for()
    box = fieldset.bounding_box()
    controls = page.locator("#cull-filters > label, #cull-filters > button")
    for n in range(controls.count()):
        assert not overlaps(box, controls.nth(n).bounding_box()), controls.nth(n).inner_text()
    # Choosing a project keeps it open; Esc closes it and gives the focus back.
    picker.get_by_label("Shoot number 1 of the summer").check()
    assert picker.get_attribute("open") is not None
    page.keyboard.press("Escape")
    assert picker.get_attribute("open") is None
    assert page.evaluate("document.activeElement.id") == "cull-f-projects-summary"
    # By keyboard it opens again; a click outside closes it.
    page.keyboard.press("Enter")
    assert picker.get_attribute("open") is not None
    page.click("#cull-count")
    assert picker.get_attribute("open") is None
    assert page.errors == []


def clipped(box: dict, to: dict) -> dict | None:
    """The part of ``box`` inside ``to`` (what is visible of a tile in the scrolled grid)."""
    x, y = max(box["x"], to["x"]), max(box["y"], to["y"])
    right = min(box["x"] + box["width"], to["x"] + to["width"])
    bottom = min(box["y"] + box["height"], to["y"] + to["height"])
    if right <= x or bottom <= y:
        return None
    return {"x": x, "y": y, "width": right - x, "height": bottom - y}


def test_an_error_message_covers_no_tile(page, asgi_live_server, tenant):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 30, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.keyboard.press("Control+a")
    Photo.objects.filter(project=project, basename=names[0]).delete()
    page.keyboard.press("x")
    message = page.locator(".cull-message-error", has_text="refused")
    message.wait_for()
    # Scrolled to the end: the bottom-right tiles are the ones a message in the corner hid.
    page.hover("#cull-grid")
    page.mouse.wheel(0, 20_000)
    page.wait_for_function(
        "() => { const g = document.querySelector('#cull-grid');"
        " return g.scrollTop + g.clientHeight >= g.scrollHeight - 1; }"
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    toast = page.locator("#cull-messages").bounding_box()
    grid = page.locator("#cull-grid").bounding_box()
    tiles = page.locator(".cull-tile")
    seen = 0
    for n in range(tiles.count()):
        visible = clipped(tiles.nth(n).bounding_box(), grid)
        if visible is not None:
            seen += 1
            assert not overlaps(visible, toast), tiles.nth(n).inner_text()
    assert seen > 0
    assert page.errors == []


def columns(page) -> tuple[int, float]:
    """The grid's number of columns and its tiles' width, as laid out."""
    boxes = [box for box in (t.bounding_box() for t in page.locator(".cull-tile").all()) if box]
    return len({round(box["x"]) for box in boxes}), boxes[0]["width"]


def test_the_tile_size_slider_reflows_the_grid_and_is_remembered(page, asgi_live_server, tenant):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 24, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    before, width = columns(page)
    # By keyboard: the slider has a label and the arrow keys / End move it.
    tab_to(page, "#cull-tile-size", backwards=True)
    assert page.get_by_label("Tile size").evaluate("el => el === document.activeElement")
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('#cull-tile-size').value === '320'")
    page.wait_for_function(f"() => document.querySelector('.cull-tile').offsetWidth > {width}")
    large, large_width = columns(page)
    assert large < before
    assert large_width >= 320
    # The arrow keys on the slider do not move the grid's cursor (the slider keeps them).
    cursor = page.evaluate("window.cull.store.cursor")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.cull.store.cursor") == cursor
    assert page.input_value("#cull-tile-size") == "310"
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    chosen = columns(page)
    # Remembered in this browser: a reload keeps the size.
    page.reload()
    page.wait_for_selector("#cull[data-ready=true]")
    page.wait_for_selector(".cull-tile")
    assert page.input_value("#cull-tile-size") == "310"
    assert columns(page) == chosen
    page.locator("#cull-tile-size").focus()
    page.keyboard.press("Home")
    page.wait_for_function(
        f"() => document.querySelector('.cull-tile').offsetWidth < {chosen[1]} - 20"
    )
    assert columns(page)[0] > before
    assert page.errors == []
