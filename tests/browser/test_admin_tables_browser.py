"""The admin tables fit a 1440-pixel screen beside the filters (issue 22, item 7): no
horizontal scrolling of the projects, photos and jobs changelists."""

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
    """The demo studio: three projects through the real pipeline, tags, discards, jobs."""
    cache.clear()
    call_command("demo", "--photos", "4", "--password", PASSWORD, stdout=io.StringIO())


def login(page, live_server) -> None:
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:projects_project_changelist",
        "admin:photos_photo_changelist",
        "admin:jobs_job_changelist",
    ],
)
def test_admin_tables_fit_1440_pixels(browser, live_server, studio, changelist):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    login(page, live_server)
    page.goto(live_server.url + reverse(changelist))
    page.wait_for_selector("#result_list")
    widths = page.evaluate(
        """() => {
          const table = document.querySelector('#changelist table#result_list');
          const box = table.closest('.results') || table.parentElement;
          const columns = [...table.querySelectorAll('thead th')].map(
            th => `${th.className.replace('column-', '')}:${Math.round(th.getBoundingClientRect().width)}`);
          return {columns: columns.join(' '), table: table.scrollWidth, box: box.clientWidth,
                  page: document.documentElement.scrollWidth,
                  view: document.documentElement.clientWidth};
        }"""
    )
    assert widths["table"] <= widths["box"], widths
    assert widths["page"] <= widths["view"], widths
    context.close()
