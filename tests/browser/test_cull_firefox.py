"""The culling workspace in Firefox (SPEC §17: current Chromium and Firefox).

Debian's ``firefox-esr`` runs headless with its Marionette server on, driven by Mozilla's own
Python client (``marionette-driver``): no geckodriver and no browser download. Playwright's
Firefox needs its own patched build, and its WebDriver BiDi channel asks an ESR for commands
it does not have yet, so neither serves here. The test is skipped when Firefox or the client
is missing. Screenshots go to ``test-artifacts/<test name>/``.

The second test checks, in one session, what ``test_cull_focus_check.py`` and
``test_cull_capture_time.py`` check in Chromium (issue 24): zoom to 100 % and back, a drag
that pans, compare, survey, a burst's stack, and the capture time shown as recorded by a
Firefox that runs in another time zone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from photos.models import Photo
from photos.storage import project_dir
from projects.services import staff_permissions_grant
from tests.browser.test_cull_focus_check import IMAGE_POINT, jpeg_of
from tests.browser.test_cull_workspace import PASSWORD, index, shoot
from tests.deployment import free_port
from tests.factories import make_project, make_user, write_file
from tests.hint_frames import burst, scene

pytestmark = pytest.mark.browser

FIREFOX = next(
    (found for name in ("firefox-esr", "firefox") if (found := shutil.which(name))), None
)
# A camera's wall clock, without a zone (as EXIF records it).
MORNING = datetime(2025, 7, 14, 9, 30, 0)  # noqa: DTZ001 - an EXIF time has no zone
ENTER = "\ue007"
TAB = "\ue004"
ESCAPE = "\ue00c"
RIGHT = "\ue014"
HOME = "\ue011"
END = "\ue010"
SHIFT = "\ue008"
# A test profile that asks nothing of the network: no updates, telemetry, remote settings,
# captive-portal or connectivity checks (the recommended automation prefs Marionette applies
# cover most; these make sure).
PREFS = {
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.safebrowsing.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "extensions.update.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
}


def pref_line(name: str, value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
    return f'user_pref("{name}", {text});\n'


@pytest.fixture
def firefox_zone() -> str | None:
    """The time zone Firefox runs in (its ``TZ``); None: the machine's. A test picks another
    with ``@pytest.mark.parametrize("firefox_zone", [...])``."""
    return None


@pytest.fixture
def firefox(tmp_path, firefox_zone) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A headless Firefox with a fresh profile and a Marionette session on a free port."""
    if FIREFOX is None:
        pytest.skip("Firefox is missing: install Debian's firefox-esr to run this test")
    marionette = pytest.importorskip(
        "marionette_driver.marionette", reason="pip install marionette-driver to run this test"
    )
    profile = tmp_path / "firefox-profile"
    profile.mkdir()
    port = free_port()
    prefs = {**PREFS, "marionette.port": port}
    (profile / "user.js").write_text("".join(pref_line(k, v) for k, v in prefs.items()))
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "MOZ_HEADLESS": "1",
            **({"TZ": firefox_zone} if firefox_zone else {}),
        },
    )
    client = marionette.Marionette(host="127.0.0.1", port=port)
    try:
        client.start_session(timeout=90)
        client.set_window_rect(width=1280, height=800)
        yield client
    finally:
        try:
            client.delete_session()
        except Exception:
            pass  # The browser may be gone already; the process is ended below either way.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def run(client: Any, script: str, *args: Any) -> Any:
    """JavaScript in the page's own scope (``window.cull`` is the page's)."""
    return client.execute_script(script, script_args=list(args), sandbox=None)


def until(client: Any, script: str, *args: Any, timeout: float = 30) -> Any:
    from marionette_driver.wait import Wait

    return Wait(client, timeout=timeout).until(lambda c: run(c, script, *args))


def press(client: Any, *keys: str) -> None:
    for key in keys:
        client.actions.sequence("key", "keyboard").key_down(key).key_up(key).perform()


def press_with(client: Any, modifier: str, key: str) -> None:
    """``key`` with ``modifier`` (Shift, Ctrl) held down."""
    client.actions.sequence("key", "keyboard").key_down(modifier).key_down(key).key_up(key).key_up(
        modifier
    ).perform()


def drag(client: Any, start: tuple[float, float], by: tuple[float, float], steps: int = 6) -> None:
    """A left-button mouse drag from ``start`` (viewport pixels), moved by ``by`` in steps."""
    x, y = round(start[0]), round(start[1])
    mouse = client.actions.sequence("pointer", "mouse", {"pointerType": "mouse"})
    mouse.pointer_move(x, y).pointer_down()
    for step in range(1, steps + 1):
        mouse.pointer_move(round(x + by[0] * step / steps), round(y + by[1] * step / steps))
    mouse.pointer_up().perform()


def hover(client: Any, x: float, y: float) -> None:
    client.actions.sequence("pointer", "mouse", {"pointerType": "mouse"}).pointer_move(
        round(x), round(y)
    ).perform()


def box(client: Any, selector: str) -> dict[str, float]:
    return run(
        client,
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}",
        selector,
    )


def image_point(client: Any, selector: str, x: float, y: float, width: int) -> dict[str, float]:
    """The image pixel under the viewport point (x, y) of a loupe pane, and the scale."""
    return run(client, f"return ({IMAGE_POINT})(arguments[0])", [selector, x, y, width])


def grid_order(client: Any) -> list[str]:
    return run(
        client,
        "return [...document.querySelectorAll('.cull-tile')]"
        ".sort((a, b) => a.dataset.index - b.dataset.index)"
        ".map(t => t.querySelector('.cull-name').textContent)",
    )


def shot(client: Any, path: Path) -> None:
    path.write_bytes(client.screenshot(format="binary"))


def sign_in_and_open(client: Any, server: Any, user: Any, project: Any) -> None:
    """Sign in on the admin's form, then open the workspace on ``project``."""
    from marionette_driver import By

    client.navigate(server.url + reverse("admin:login"))
    client.find_element(By.ID, "id_username").send_keys(user.username)
    client.find_element(By.ID, "id_password").send_keys(PASSWORD)
    client.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    until(client, "return Boolean(document.querySelector('#user-tools'))")
    client.navigate(server.url + f"/admin/cull/?project={project.pk}")


@pytest.fixture
def photographer(transactional_db, tenant):
    user = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=user)
    return user


def test_firefox_culls_by_keyboard_and_opens_the_loupe(
    firefox, photographer, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 3)
    index(project)

    sign_in_and_open(firefox, asgi_live_server, photographer, project)
    # The modules ran (window.cull is set last) and the grid painted every photo, in capture
    # order.
    until(
        firefox,
        "return Boolean(window.cull) && document.querySelector('#cull').dataset.ready === 'true'"
        " && document.querySelectorAll('.cull-tile img').length === 3"
        " && [...document.querySelectorAll('.cull-tile img')].every(i => i.complete && i.naturalWidth > 0)",
    )
    order = grid_order(firefox)
    assert order == list(reversed(names))
    assert run(firefox, "return document.activeElement.id") == "cull-grid"
    # The event stream is open in Firefox too.
    until(firefox, "return document.querySelector('#cull-live').dataset.state === 'live'")
    shot(firefox, artifacts / "firefox-grid.png")

    # X discards both files of the photo under the cursor: shown at once, then stored.
    press(firefox, "x")
    until(firefox, "return window.cull.store.photos.every(p => !p._pending)")
    first = Photo.objects.get(project=project, basename=order[0])
    assert (first.keep_jpg, first.keep_raw) == (False, False)
    assert run(
        firefox,
        "return document.querySelector('.cull-tile[data-index=\"0\"]')"
        ".classList.contains('cull-pending-delete')",
    )

    # Enter opens the loupe on that photo, as a modal dialog that holds the focus.
    press(firefox, ENTER)
    until(firefox, "return !document.querySelector('#cull-loupe').hidden")
    assert (
        run(firefox, "return document.querySelector('#cull-loupe-title').textContent") == (order[0])
    )
    assert run(firefox, "return document.activeElement.id") == "cull-loupe"
    until(
        firefox,
        "const img = document.querySelector('#cull-loupe-img');"
        " return img.complete && img.naturalWidth > 0",
    )
    inside: list[bool] = []
    for _ in range(6):
        press(firefox, TAB)
        inside.append(run(firefox, "return Boolean(document.activeElement.closest('#cull-loupe'))"))
    assert inside == [True] * 6
    shot(firefox, artifacts / "firefox-loupe.png")
    # Right arrow (from a loupe button: buttons keep only Space and Enter) shows the next photo;
    # Esc gives the focus back to the grid, its cursor on the photo last shown.
    press(firefox, RIGHT)
    until(
        firefox,
        "return document.querySelector('#cull-loupe-title').textContent === arguments[0]",
        order[1],
    )
    press(firefox, ESCAPE)
    until(firefox, "return document.querySelector('#cull-loupe').hidden")
    assert run(firefox, "return document.activeElement.id") == "cull-grid"
    assert run(firefox, "return document.querySelector('#cull-current').dataset.index") == "1"


def loupe_is(client: Any, mode: str) -> None:
    until(
        client,
        "const loupe = document.querySelector('#cull-loupe');"
        " return loupe.open && !loupe.hidden && loupe.dataset.mode === arguments[0]",
        mode,
    )


def loupe_closed(client: Any) -> None:
    until(client, "return document.querySelector('#cull-loupe').hidden")
    assert run(client, "return document.activeElement.id") == "cull-grid"


@pytest.mark.parametrize("firefox_zone", ["Europe/Berlin"])
def test_firefox_zoom_compare_survey_stacks_and_the_capture_time(
    firefox, photographer, asgi_live_server, tenant, artifacts
):
    """The checks of test_cull_focus_check.py and test_cull_capture_time.py, lighter, in one
    Firefox session that runs in Berlin (UTC+2 in July)."""
    project = make_project(tenant, "Lofoten")
    # Two detailed photos a minute apart (no burst), large enough that 100 % is no fit; then a
    # burst: three frames in the same second, half an hour later.
    for n, name in enumerate(["DSC_0001", "DSC_0002"]):
        image = scene(n + 1, (2400, 1600))
        write_file(
            project_dir(project) / f"{name}.jpg",
            jpeg_of(image, taken=MORNING + timedelta(minutes=n)),
        )
    frames = burst(7, (960, 640))
    stacked = ["DSC_0101", "DSC_0102", "DSC_0103"]
    for name, frame in zip(stacked, frames, strict=False):
        write_file(
            project_dir(project) / f"{name}.jpg",
            jpeg_of(frame.image, taken=MORNING + timedelta(minutes=30)),
        )
    index(project)
    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert rows["DSC_0101"].burst is not None
    assert rows["DSC_0101"].burst == rows["DSC_0102"].burst == rows["DSC_0103"].burst
    assert rows["DSC_0001"].burst is None
    assert rows["DSC_0002"].burst is None
    assert (rows["DSC_0001"].width, rows["DSC_0001"].height) == (2400, 1600)

    sign_in_and_open(firefox, asgi_live_server, photographer, project)
    zone = run(firefox, "return Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert zone == "Europe/Berlin"
    until(
        firefox,
        "return Boolean(window.cull) && document.querySelector('#cull').dataset.ready === 'true'"
        " && document.querySelectorAll('.cull-tile img').length === 3",
    )

    # The burst shows as one stack (its first frame, its size on it).
    assert grid_order(firefox) == ["DSC_0001", "DSC_0002", "DSC_0101"]
    stack = "return document.querySelector('.cull-tile[data-index=\"2\"] .cull-stack')?.textContent"
    assert run(firefox, stack) == "\u25a3 3"
    shot(firefox, artifacts / "firefox-stack.png")
    # S opens the stack under the cursor; a click on its badge closes it again.
    press(firefox, END)
    until(firefox, "return document.querySelector('#cull-current')?.dataset.index === '2'")
    press(firefox, "s")
    until(firefox, "return document.querySelectorAll('.cull-tile').length === 5")
    assert grid_order(firefox) == ["DSC_0001", "DSC_0002", *stacked]
    assert run(firefox, stack) == "\u25a3 3 \u25b4"
    from marionette_driver import By

    firefox.find_element(By.CSS_SELECTOR, ".cull-tile[data-index='2'] .cull-stack").click()
    until(firefox, "return document.querySelectorAll('.cull-tile').length === 3")
    assert grid_order(firefox) == ["DSC_0001", "DSC_0002", "DSC_0101"]

    # The loupe shows the capture time as the camera recorded it, not shifted to Berlin.
    press(firefox, HOME, ENTER)
    loupe_is(firefox, "single")
    assert run(firefox, "return document.querySelector('#cull-loupe-title').textContent") == (
        "DSC_0001"
    )
    meta = run(firefox, "return document.querySelector('#cull-loupe-meta').innerText")
    assert "2025-07-14 09:30:00" in meta, meta
    assert "11:30" not in meta, meta

    # Z zooms to 100 % at the pointer: the point under it stays, one image pixel per CSS pixel.
    until(
        firefox,
        "const img = document.querySelector('#cull-loupe-img');"
        " return img.complete && img.naturalWidth > 0",
    )
    view = box(firefox, "#cull-loupe-view")
    x, y = round(view["x"] + view["width"] * 0.3), round(view["y"] + view["height"] * 0.4)
    hover(firefox, x, y)
    before = image_point(firefox, "#cull-loupe-img", x, y, 2400)
    assert before["scale"] < 0.5  # Fitted: a 2400-pixel photo in a ~1000-pixel view.
    press(firefox, "z")
    until(firefox, "return document.querySelector('#cull-loupe').dataset.zoom === '100'")
    # The full-size original replaces the preview, at its natural size.
    until(
        firefox,
        "const img = document.querySelector('#cull-loupe-img');"
        " return img.dataset.kind === 'full' && img.complete && img.naturalWidth === 2400",
    )
    after = image_point(firefox, "#cull-loupe-img", x, y, 2400)
    assert after["scale"] == pytest.approx(1, abs=0.001)
    assert after["x"] == pytest.approx(before["x"], abs=1.5)
    assert after["y"] == pytest.approx(before["y"], abs=1.5)
    shot(firefox, artifacts / "firefox-zoom-100.png")
    # A drag pans: the image follows the pointer, pixel for pixel; a drag is no click.
    drag(firefox, (x, y), (-120, -60))
    assert run(firefox, "return document.querySelector('#cull-loupe').dataset.zoom") == "100"
    panned = image_point(firefox, "#cull-loupe-img", x, y, 2400)
    assert panned["x"] == pytest.approx(before["x"] + 120, abs=1.5)
    assert panned["y"] == pytest.approx(before["y"] + 60, abs=1.5)
    # Z again fits the photo to the view.
    press(firefox, "z")
    until(firefox, "return document.querySelector('#cull-loupe').dataset.zoom === 'fit'")
    fitted = image_point(firefox, "#cull-loupe-img", x, y, 2400)
    assert fitted["scale"] == pytest.approx(before["scale"], abs=0.001)
    press(firefox, ESCAPE)
    loupe_closed(firefox)

    # C compares the photo under the cursor with the next one, side by side.
    ids = {name: row.pk for name, row in rows.items()}
    press(firefox, "c")
    loupe_is(firefox, "compare")
    panes = (
        "return [...document.querySelectorAll('.cull-loupe-image img')]"
        ".map(i => Number(i.dataset.photoId))"
    )
    assert run(firefox, panes) == [ids["DSC_0001"], ids["DSC_0002"]]
    until(
        firefox,
        "return [...document.querySelectorAll('.cull-loupe-image img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    assert run(firefox, "return document.querySelector('#cull-loupe-view-right').hidden") is False
    left, right = box(firefox, "#cull-loupe-view"), box(firefox, "#cull-loupe-view-right")
    assert left["width"] > 300
    assert right["width"] > 300
    assert left["x"] + left["width"] <= right["x"] + 1  # Side by side, left then right.
    assert left["y"] == pytest.approx(right["y"], abs=1)
    shot(firefox, artifacts / "firefox-compare.png")
    press(firefox, ESCAPE)
    loupe_closed(firefox)

    # N surveys the selection, fitted to the stage; with nothing selected, a message only.
    press(firefox, "n")
    until(
        firefox,
        "return document.querySelector('#cull-messages').textContent"
        ".includes('Select two photos or more')",
    )
    assert run(firefox, "return document.querySelector('#cull-loupe').hidden")
    press(firefox, HOME)
    press_with(firefox, SHIFT, RIGHT)
    until(firefox, "return window.cull.store.selection.size === 2")
    press(firefox, "n")
    loupe_is(firefox, "survey")
    cells = run(
        firefox,
        "return [...document.querySelectorAll('.cull-survey-cell')].map(c => {"
        " const r = c.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height} })",
    )
    assert len(cells) == 2
    stage = box(firefox, ".cull-loupe-stage")
    for cell in cells:
        assert cell["width"] > 100
        assert cell["height"] > 100
        assert cell["x"] >= stage["x"] - 1
        assert cell["y"] >= stage["y"] - 1
        assert cell["x"] + cell["width"] <= stage["x"] + stage["width"] + 1
        assert cell["y"] + cell["height"] <= stage["y"] + stage["height"] + 1
    # The focus starts on the photo under the cursor (the end of the Shift range).
    focus = "return document.querySelector('.cull-survey-focus figcaption').textContent"
    assert run(firefox, focus).startswith("DSC_0002")
    shot(firefox, artifacts / "firefox-survey.png")
    press(firefox, ESCAPE)
    loupe_closed(firefox)
