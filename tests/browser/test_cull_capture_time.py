"""The capture time as recorded (SPEC §17): the loupe shows a 09:30 capture as 09:30 in every
viewer's time zone, never shifted (before the fix, Berlin saw 11:30)."""

from __future__ import annotations

from datetime import datetime

import pytest

from photos.storage import project_dir
from tests.browser.test_cull_workspace import PASSWORD, index, login, open_workspace
from tests.factories import jpeg_bytes, make_project, make_user, write_file

pytestmark = pytest.mark.browser

ZONES = ("Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo")


@pytest.fixture
def shot(transactional_db, tenant):
    user = make_user(tenant, "clara", staff=True, password=PASSWORD)
    from projects.services import staff_permissions_grant

    staff_permissions_grant(user=user)
    project = make_project(tenant, "Morning")
    taken = datetime(2025, 7, 14, 9, 30, 0)  # noqa: DTZ001 - an EXIF time has no zone
    write_file(
        project_dir(project) / "DSC_0930.jpg",
        jpeg_bytes(size=(480, 320), taken_at=taken, make="Nikon", model="Z8"),
    )
    index(project)
    return user


@pytest.mark.parametrize("zone", ZONES)
def test_the_loupe_shows_the_capture_time_as_recorded_in_any_time_zone(
    browser, shot, asgi_live_server, zone
):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id=zone)
    page = context.new_page()
    try:
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == zone
        login(page, asgi_live_server, shot.username)
        open_workspace(page, asgi_live_server)
        page.keyboard.press("Home")
        page.keyboard.press("Enter")
        page.wait_for_selector("#cull-loupe:not([hidden])")
        meta = page.inner_text("#cull-loupe-meta")
        assert "2025-07-14 09:30:00" in meta
        assert "11:30" not in meta
    finally:
        context.close()
