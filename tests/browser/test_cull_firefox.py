"""The culling workspace in Firefox (SPEC §17: current Chromium and Firefox).

Debian's ``firefox-esr`` runs headless with its Marionette server on, driven by Mozilla's own
Python client (``marionette-driver``): no geckodriver and no browser download. Playwright's
Firefox needs its own patched build, and its WebDriver BiDi channel asks an ESR for commands
it does not have yet, so neither serves here. The test is skipped when Firefox or the client
is missing. Screenshots go to ``test-artifacts/<test name>/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from photos.models import Photo
from projects.services import staff_permissions_grant
from tests.browser.test_cull_workspace import PASSWORD, index, shoot
from tests.deployment import free_port
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser

FIREFOX = next(
    (found for name in ("firefox-esr", "firefox") if (found := shutil.which(name))), None
)
ENTER = "\ue007"
TAB = "\ue004"
ESCAPE = "\ue00c"
RIGHT = "\ue014"
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
def firefox(tmp_path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
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
        env={**os.environ, "MOZ_HEADLESS": "1"},
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


def shot(client: Any, path: Path) -> None:
    path.write_bytes(client.screenshot(format="binary"))


@pytest.fixture
def photographer(transactional_db, tenant):
    user = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=user)
    return user


def test_firefox_culls_by_keyboard_and_opens_the_loupe(
    firefox, photographer, asgi_live_server, tenant, artifacts
):
    from marionette_driver import By

    project = make_project(tenant, "Iceland July 2025")
    names = shoot(project, 3)
    index(project)

    firefox.navigate(asgi_live_server.url + reverse("admin:login"))
    firefox.find_element(By.ID, "id_username").send_keys(photographer.username)
    firefox.find_element(By.ID, "id_password").send_keys(PASSWORD)
    firefox.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    until(firefox, "return Boolean(document.querySelector('#user-tools'))")

    firefox.navigate(asgi_live_server.url + f"/admin/cull/?project={project.pk}")
    # The modules ran (window.cull is set last) and the grid painted every photo, in capture
    # order.
    until(
        firefox,
        "return Boolean(window.cull) && document.querySelector('#cull').dataset.ready === 'true'"
        " && document.querySelectorAll('.cull-tile img').length === 3"
        " && [...document.querySelectorAll('.cull-tile img')].every(i => i.complete && i.naturalWidth > 0)",
    )
    order = run(
        firefox,
        "return [...document.querySelectorAll('.cull-tile')]"
        ".sort((a, b) => a.dataset.index - b.dataset.index)"
        ".map(t => t.querySelector('.cull-name').textContent)",
    )
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
