"""Export… in the culling workspace (issue 23 item 5) in Chromium: the dialog starts an export
of the selection, the tray shows its progress and then a Download link that serves the ZIP.

The task runs in the test's process (``drain``); the page follows it through the event stream
of the ASGI live server, as in ``test_cull_tray``.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from jobs.runtime import drain
from sharing.models import Export
from tests.browser import test_cull_tray as tray
from tests.browser.test_cull_workspace import index, shoot
from tests.factories import make_project

pytestmark = pytest.mark.browser

photographer = tray.photographer
page = tray.page


def test_export_of_the_selection_ends_in_the_tray_with_a_download_link(
    page, asgi_live_server, tenant, settings
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 3)
    index(project)
    tray.live_workspace(page, asgi_live_server, project, settings)

    page.focus("#cull-grid")
    page.keyboard.press("Control+a")
    page.wait_for_function("window.cull.store.selection.size === 3")
    page.click("button[data-action=export]")
    page.select_option("#cull-export-kind", "jpeg")
    page.fill("#cull-export-long-edge", "200")
    page.fill("#cull-export-quality", "70")
    page.fill("#cull-export-template", "{seq}_{basename}")
    page.click("#cull-dialog-ok")

    row = page.locator(".cull-task", has_text="Exporting 3 photos")
    row.wait_for(timeout=15_000)
    export = Export.objects.get()
    assert (export.kind, export.long_edge, export.quality) == ("jpeg", 200, 70)
    drain()
    link = row.locator("a.cull-task-download")
    link.wait_for(timeout=15_000)
    assert row.locator(".cull-task-count").text_content() == "3/3"

    with page.expect_download() as caught:
        link.click()
    data = caught.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        # The selection's order numbers the files: {seq}_{basename}.
        assert [n.split("_", 1)[0] for n in names] == ["001", "002", "003"]
        assert sorted(n.split("_", 1)[1] for n in names) == [
            "IMG_0001.jpg",
            "IMG_0002.jpg",
            "IMG_0003.jpg",
        ]
        assert max(Image.open(io.BytesIO(archive.read(names[0]))).size) == 200
    # A done export stays (its link with it) until dismissed.
    page.wait_for_timeout(6_000)
    assert row.count() == 1
    row.get_by_role("button", name="Dismiss Exporting 3 photos").click()
    row.wait_for(state="detached")
    assert page.errors == []
