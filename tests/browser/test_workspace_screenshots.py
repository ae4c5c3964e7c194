"""The culling workspace at 1440×900, light and dark, on the demo studio (issue 22).

The workspace takes its colours from the admin's CSS variables, so the browser's colour scheme
turns the whole page dark. The screenshots are committed under docs/screenshots/ (the README
links them); ``UPDATE_SCREENSHOTS=1`` rewrites them.
"""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def studio(transactional_db):
    cache.clear()
    call_command("demo", "--photos", "8", "--password", PASSWORD, stdout=io.StringIO())


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_workspace_at_1440_in_light_and_dark(
    browser, asgi_live_server, studio, scheme, doc_screenshot
):
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(asgi_live_server.url + reverse("admin:login"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    page.goto(asgi_live_server.url + "/admin/cull/")
    page.wait_for_selector("#cull[data-ready=true]")
    page.wait_for_selector(".cull-tile")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cull-tile img')].length > 0 &&"
        " [...document.querySelectorAll('.cull-tile img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    # The loupe open on the first photo is the second view a photographer sees.
    page.keyboard.press("Home")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    grid_bg = page.evaluate(
        "() => getComputedStyle(document.querySelector('.cull-grid')).backgroundColor"
    )
    channels = [int(c) for c in grid_bg[grid_bg.index("(") + 1 : grid_bg.index(")")].split(",")[:3]]
    # Light: a pale grid; dark: a dark one.
    assert (min(channels) > 200) == (scheme == "light"), grid_bg
    assert errors == []
    doc_screenshot(page, f"workspace-{scheme}.png")
    context.close()
