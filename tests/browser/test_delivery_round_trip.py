"""The round trip of a delivery (issue 23 items 3 to 5), two browsers at once: the studio's
workspace on a desktop (signed in) and the client's gallery on a phone (no login). The client
hearts a photo and comments on it; the workspace, never reloaded, shows the ♥ badge on its tile
and the comment in its open loupe, and the *Client picks* filter shows it alone. Then the
client downloads the export the studio made of the link from the gallery's downloads menu."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.models import Event
from jobs.runtime import drain
from photos.models import Photo
from sharing import exportfiles
from sharing.exports import export_start
from sharing.models import Export, SharePick
from sharing.tests.conftest import derivatives_write, share_make
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import index, open_workspace, shoot, tile
from tests.browser.test_gallery_phone import PHONE

pytestmark = pytest.mark.browser

# The workspace tests' signed-in staff user (an owner) and desktop page (errors collected).
photographer = workspace.photographer
page = workspace.page

# A flag set on the workspace's window: still there at the end means the page never reloaded.
MARK = "() => { window.__roundTrip = 'same page'; }"
MARKED = "() => window.__roundTrip"
LOUPE_SAYS = (
    "(text) => { const meta = document.getElementById('cull-loupe-meta');"
    " return !!meta && meta.textContent.includes(text); }"
)


def test_a_clients_heart_and_comment_reach_the_open_workspace_live(
    page, browser, asgi_live_server, tenant, project, photographer, artifacts, settings, tmp_path
):
    settings.SHARE_RENDITIONS_ROOT = tmp_path / "renditions"
    shoot(project, 3, raw=False)
    index(project)
    photos = list(Photo.objects.filter(project=project).order_by("basename"))
    Photo.objects.filter(project=project).update(visibility=Photo.Visibility.PUBLIC)
    for photo in photos:
        derivatives_write(photo)
    shared = share_make(tenant, photos, title="Wedding selects", downloads="preview")
    started = export_start(user=photographer, kind=Export.Kind.JPEG, share_id=shared.link.pk)
    drain()
    export = Export.objects.get(pk=started.export.pk)
    assert export.status == Export.Status.COMPLETED
    second = photos[1]

    # The studio: the workspace on the project, live, the loupe open on IMG_0002.
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.wait_for_selector("#cull-live[data-state=live]")
    page.evaluate(MARK)
    page.wait_for_selector(f"#cull-f-picks option[value='{shared.link.pk}']", state="attached")
    assert page.locator(".cull-tile .cull-picked").count() == 0

    # The client: the gallery on a phone, in a browser context of its own (no session).
    phone = browser.new_context(**PHONE)
    client = phone.new_page()
    problems: list[str] = []
    client.on("pageerror", lambda error: problems.append(str(error)))
    client.on(
        "console",
        lambda msg: (
            problems.append(msg.text) if msg.type == "error" or "Refused" in msg.text else None
        ),
    )
    client.goto(asgi_live_server.url + shared.url)
    gallery_tile = client.locator(f"#gallery-grid .gallery-tile[data-photo='{second.pk}']")
    gallery_tile.wait_for()
    assert client.locator("#gallery-grid .gallery-tile").count() == 3
    gallery_tile.locator(".gallery-heart").tap()
    dialog = client.locator("#gallery-name-dialog")
    dialog.locator("input").fill("Anna")
    dialog.get_by_role("button", name="Continue").tap()
    gallery_tile.locator('.gallery-heart[aria-pressed="true"]').wait_for()

    # The heart reaches the workspace: the ♥ badge on IMG_0002's tile, no reload.
    badge = tile(page, "IMG_0002").locator(".cull-picked")
    badge.wait_for(timeout=15_000)
    assert badge.inner_text() == "♥"
    assert page.locator(".cull-tile .cull-picked").count() == 1
    page.wait_for_selector("text=♥ Anna picked IMG_0002 in “Wedding selects”")

    # With IMG_0002 open in the studio's loupe, the client comments on it in hers.
    tile(page, "IMG_0002").dblclick()
    page.wait_for_selector("#cull-loupe-meta:has-text('Anna (Wedding selects)')")
    gallery_tile.locator(".gallery-open").tap()
    client.locator("#gallery-loupe").wait_for()
    assert client.locator("#gallery-loupe-title").inner_text() == "IMG_0002"
    client.locator("#gallery-comment").fill("Our favourite! Print it large?")
    with client.expect_response(lambda r: r.url.endswith("/api/picks")) as sent:
        client.locator("#gallery-comment-form button").tap()
    assert sent.value.status == 200
    page.wait_for_function(LOUPE_SAYS, arg="Our favourite! Print it large?", timeout=15_000)
    assert "♥ Anna (Wedding selects)" in page.inner_text("#cull-loupe-meta")
    assert badge.inner_text() == "♥✎"
    page.screenshot(path=str(artifacts / "workspace-loupe-comment.png"))
    client.screenshot(path=str(artifacts / "gallery-loupe.png"))
    page.click("#cull-loupe-close")

    # The Client picks filter on the link shows the picked photo alone.
    page.select_option("#cull-f-picks", str(shared.link.pk))
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 1")
    assert tile(page, "IMG_0002").count() == 1
    assert f"picked_by_share={shared.link.pk}" in page.url
    assert page.evaluate(MARKED) == "same page"
    page.screenshot(path=str(artifacts / "workspace-client-picks.png"))

    # The client downloads the studio's delivery from the downloads menu.
    client.locator("#gallery-loupe-close").tap()
    client.locator(".gallery-downloads summary").tap()
    delivery = client.locator(f"#gallery-deliveries a[data-export='{export.pk}']")
    assert "JPEG files" in delivery.inner_text()
    with client.expect_download() as info:
        delivery.tap()
    saved = Path(info.value.path())
    assert info.value.suggested_filename == export.file_name
    assert saved.read_bytes() == exportfiles.zip_path(tenant.slug, export.pk).read_bytes()

    pick = SharePick.objects.get()
    assert (pick.photo_id, pick.picked, pick.client_name) == (second.pk, True, "Anna")
    assert pick.comment == "Our favourite! Print it large?"
    downloaded = Event.objects.get(type="share_downloaded")
    assert downloaded.payload["export_id"] == export.pk
    assert downloaded.payload["client_name"] == "Anna"
    assert problems == []
    assert page.errors == []
    phone.close()
