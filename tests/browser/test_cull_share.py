"""Share links from the workspace and the client's picks back in it (issue 23 items 1, 2, 4),
in a real browser: share a selection (settings, dry run, the URL shown once), see a client's
pick arrive live (badge, filter, loupe comment), apply the picks after their dry run, and make
photos private."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.hashers import check_password

from photos.models import Photo
from sharing.models import ShareLink
from sharing.tests.factories import pick_record
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import index, open_workspace, press_all, shoot, tile

pytestmark = pytest.mark.browser

# The workspace tests' signed-in staff user (an owner) and page (errors and failed requests
# collected).
photographer = workspace.photographer
page = workspace.page


def test_share_a_selection_then_picks_show_live_and_apply_after_a_dry_run(
    page, asgi_live_server, tenant, project, artifacts
):
    shoot(project, 3, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.wait_for_selector("#cull-live[data-state=live]")
    press_all(page)

    # Share…: the link's settings, then what becomes public, then the URL once.
    page.click("[data-action=share]")
    page.fill("#cull-share-title", "Wedding selects")
    page.select_option("#cull-share-downloads", "original")
    page.fill("#cull-share-password", "open sesame")
    page.click("#cull-dialog-ok")
    page.wait_for_selector("#cull-dialog-title:has-text('Create the share link?')")
    body = page.inner_text("#cull-dialog-body")
    assert "3 photo(s) in “Wedding selects”." in body
    assert "3 private photo(s) become public" in body
    assert not ShareLink.objects.exists()  # The dry run wrote nothing.
    assert set(Photo.objects.values_list("visibility", flat=True)) == {"private"}
    page.screenshot(path=str(artifacts / "share-dry-run.png"))
    page.click("#cull-dialog-ok")
    page.wait_for_selector("#cull-dialog-title:has-text('Share link created')")
    url = page.input_value("#cull-share-url")
    assert "/s/" in url
    token = url.rstrip("/").rsplit("/", 1)[1]
    link = ShareLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.title == "Wedding selects"
    assert link.downloads == "original"
    assert check_password("open sesame", link.password)
    assert link.photos.count() == 3
    assert set(Photo.objects.values_list("visibility", flat=True)) == {"public"}
    page.click("#cull-share-copy")
    page.wait_for_selector("#cull-share-copy:has-text('Copied')")
    page.screenshot(path=str(artifacts / "share-url.png"))
    page.click("#cull-dialog-ok")
    # The tiles show the photos public (◎), from the reply: no reload.
    page.wait_for_function("() => document.querySelectorAll('.cull-public').length === 3")

    # The filter on the link's picks: none yet.
    page.wait_for_selector(f"#cull-f-picks option[value='{link.pk}']", state="attached")
    page.select_option("#cull-f-picks", str(link.pk))
    page.wait_for_selector("#cull-empty:not([hidden])")
    assert f"picked_by_share={link.pk}" in page.url

    # A client picks a photo in the gallery: it joins the filtered grid live, badged, announced.
    second = Photo.objects.get(basename="IMG_0002")
    pick_record(link, second, client_name="Anna", comment="Our favourite!")
    tile(page, "IMG_0002").wait_for(timeout=15_000)
    page.wait_for_selector(".cull-tile .cull-picked", timeout=15_000)
    page.wait_for_selector("text=♥ Anna picked IMG_0002 in “Wedding selects”: “Our favourite!”")
    assert page.evaluate("document.querySelectorAll('.cull-tile').length") == 1
    page.screenshot(path=str(artifacts / "picked-live.png"))
    # The loupe shows the comment.
    page.click("[data-action=loupe]")
    page.wait_for_selector("#cull-loupe-meta:has-text('Our favourite!')")
    assert "Anna (Wedding selects)" in page.inner_text("#cull-loupe-meta")
    page.click("#cull-loupe-close")

    # Apply picks: the dry run first, then the change through the rating service.
    page.click("[data-action=apply-picks]")
    assert page.input_value("#cull-apply-share") == str(link.pk)
    page.select_option("#cull-apply-rating", "5")
    page.select_option("#cull-apply-label", "green")
    page.click("#cull-dialog-ok")
    page.wait_for_selector("#cull-dialog-title:has-text('Apply the client')")
    body = page.inner_text("#cull-dialog-body")
    assert "1 of the 1 picked photo(s) change." in body
    assert "IMG_0002: rating → 5, label → green" in body
    assert Photo.objects.get(pk=second.pk).rating == 0
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Picks applied: 1 photo(s) changed.")
    ratings = dict(Photo.objects.values_list("basename", "rating"))
    assert ratings == {"IMG_0001": 0, "IMG_0002": 5, "IMG_0003": 0}
    assert Photo.objects.get(pk=second.pk).label == "green"
    page.wait_for_function(
        f"() => window.cull.store.get({second.pk}) && window.cull.store.get({second.pk}).rating === 5"
    )
    assert page.errors == []


def test_make_private_hides_the_selection_from_links(page, asgi_live_server, tenant, project):
    shoot(project, 2, raw=False)
    index(project)
    Photo.objects.update(visibility="public")
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.keyboard.press("Space")  # The loupe opens on the first photo; close it again.
    page.keyboard.press("Escape")
    page.click("[data-action=make-private]")
    page.wait_for_function("() => window.cull.store.photos.every(p => !p._pending)")
    first = page.evaluate("window.cull.store.photos[window.cull.store.cursor].id")
    assert Photo.objects.get(pk=first).visibility == "private"
    assert Photo.objects.exclude(pk=first).get().visibility == "public"
    page.keyboard.press("Control+z")  # Undo, like any culling change.
    page.wait_for_function(
        f"() => window.cull.store.get({first}).visibility === 'public' && !window.cull.store.get({first})._pending"
    )
    assert Photo.objects.get(pk=first).visibility == "public"
    assert page.errors == []
