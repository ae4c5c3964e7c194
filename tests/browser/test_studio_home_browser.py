"""The studio home at 1440×900, light and dark, in a real browser (issue 22, item 6).

The home's screenshots, light and dark, are committed under docs/screenshots/ (the README
links them); ``UPDATE_SCREENSHOTS=1`` rewrites them.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def studio(transactional_db):
    """The demo studio: three projects through the real pipeline (thumbnails, culling)."""
    import io

    cache.clear()
    call_command("demo", "--photos", "6", "--password", PASSWORD, stdout=io.StringIO())


def login(page, live_server) -> None:
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_studio_home_at_1440_shows_the_week_cull_progress_and_covers(
    browser, live_server, studio, scheme, doc_screenshot
):
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    page = context.new_page()
    login(page, live_server)
    page.goto(live_server.url + reverse("admin:index"))
    page.wait_for_selector("#studio-home")

    assert page.locator("#home-waiting .pl-cull-row").count() == 3
    bar = page.locator("#home-waiting .pl-cull-bar").first.bounding_box()
    assert bar["width"] > 100
    assert page.locator("#home-projects .pl-card").count() == 3
    covers = page.locator("#home-projects img.pl-cover")
    assert covers.count() == 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.pl-cover')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.inner_text("#home-uploaded").strip() == "18"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
    doc_screenshot(page, f"studio-home-{scheme}.png")
    context.close()
