"""The client's gallery on a phone (issue 23 item 3): a 390×844 touch screen opens a share
link without logging in, hearts two photos, comments one and downloads a preview; the picks
and the comment are in the database and in the studio's event outbox, the downloaded file is
the preview, and Chromium reports no Content-Security-Policy violation."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from jobs.models import Event
from photos.storage import preview_path
from sharing.gallery.signing import image_claim
from sharing.models import SharePick
from sharing.tests.conftest import public_photo, share_make

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "accept_downloads": True,
}

# Functions, not bare expressions: Playwright evaluates those with eval(), which the page's
# Content-Security-Policy refuses.
TWO_HEARTS = (
    "() => document.querySelectorAll('#gallery-grid .gallery-heart[aria-pressed=\"true\"]')"
    ".length === 2"
)
SHOWING = "(name) => document.getElementById('gallery-loupe-title').textContent === name"
CURRENT_SRC = "() => document.getElementById('gallery-loupe-img').currentSrc"
PREVIEW_SHOWN = (
    "() => { const img = document.getElementById('gallery-loupe-img');"
    " return img.currentSrc.includes('/i/') && img.complete && img.naturalWidth > 0; }"
)


def test_a_client_hearts_comments_and_downloads_on_a_phone(
    browser, asgi_live_server, tenant, project, settings, tmp_path, artifacts
):
    settings.SHARE_RENDITIONS_ROOT = tmp_path / "renditions"
    photos = [public_photo(project, f"IMG_{n:04d}") for n in range(1, 7)]
    shared = share_make(tenant, photos, downloads="preview", message="Pick your favourites.")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text) if msg.type == "error" or "Refused" in msg.text else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    kinds: list[str] = []
    page.on("request", lambda request: kinds.append(image_kind(request.url)))

    page.goto(asgi_live_server.url + shared.url)
    tiles = page.locator("#gallery-grid .gallery-tile")
    tiles.first.wait_for()
    assert tiles.count() == 6
    page.locator("#gallery-grid .gallery-tile.is-loaded").first.wait_for()
    assert page.locator(".gallery-message").inner_text() == "Pick your favourites."
    # The phone layout: at least three thumbnails side by side, none wider than the screen.
    boxes = [tiles.nth(i).bounding_box() for i in range(3)]
    assert all(box is not None and box["width"] < 390 / 2 for box in boxes)
    assert len({box["y"] for box in boxes if box}) == 1
    page.screenshot(path=str(artifacts / "grid.png"))

    # The first heart asks the name once.
    tiles.nth(0).locator(".gallery-heart").tap()
    dialog = page.locator("#gallery-name-dialog")
    dialog.locator("input").fill("Anna")
    dialog.get_by_role("button", name="Continue").tap()
    page.locator('#gallery-grid .gallery-heart[aria-pressed="true"]').first.wait_for()
    tiles.nth(2).locator(".gallery-heart").tap()
    page.wait_for_function(TWO_HEARTS)
    assert not dialog.is_visible()
    assert page.locator("#gallery-picked").inner_text() == "2 picked"
    assert page.evaluate("localStorage.getItem('gallery-client-name')") == "Anna"

    # Thumbnails first: no preview is fetched before the loupe opens.
    assert "thumbnail" in kinds
    assert "preview" not in kinds

    # The loupe: open the third photo, swipe to the fourth and back, comment on the third.
    tiles.nth(2).locator(".gallery-open").tap()
    loupe = page.locator("#gallery-loupe")
    loupe.wait_for()
    assert page.locator("#gallery-loupe-title").inner_text() == "IMG_0003"
    page.wait_for_function(PREVIEW_SHOWN)
    # A 3× phone screen needs more pixels than the thumbnail has: srcset took the preview.
    assert image_kind(page.evaluate(CURRENT_SRC)) == "preview"
    swipe(page, "#gallery-loupe-stage", -150)
    page.wait_for_function(SHOWING, arg="IMG_0004")
    swipe(page, "#gallery-loupe-stage", 150)
    page.wait_for_function(SHOWING, arg="IMG_0003")
    page.locator("#gallery-comment").fill("Could you crop this one square?")
    with page.expect_response(lambda r: r.url.endswith("/api/picks")) as sent:
        page.locator("#gallery-comment-form button").tap()
    assert sent.value.status == 200
    page.locator("#gallery-status", has_text="Comment saved.").wait_for()
    page.screenshot(path=str(artifacts / "loupe.png"))

    with page.expect_download() as info:
        page.locator("#gallery-dl-preview").tap()
    download = info.value
    saved = Path(download.path())
    assert download.suggested_filename == "IMG_0003.webp"
    assert saved.read_bytes() == preview_path(project, "IMG_0003").read_bytes()
    with Image.open(saved) as image:
        assert image.size == (1600, 1200)

    picks = {p.photo.basename: p for p in SharePick.objects.select_related("photo")}
    assert sorted(picks) == ["IMG_0001", "IMG_0003"]
    assert all(p.picked and p.client_name == "Anna" for p in picks.values())
    assert picks["IMG_0003"].comment == "Could you crop this one square?"
    outbox = Event.objects.filter(tenant=tenant, type="share_pick").order_by("id")
    assert [e.payload["client_name"] for e in outbox] == ["Anna", "Anna", "Anna"]
    assert Event.objects.filter(type="share_downloaded", payload__kind="preview").count() == 1
    shared.link.refresh_from_db()
    assert shared.link.view_count == 1
    assert shared.link.download_count == 1

    # A reload shows the client's hearts again (the name is remembered).
    page.reload()
    page.wait_for_function(TWO_HEARTS)
    assert problems == []
    context.close()


def image_kind(url: str) -> str:
    """The kind of a gallery image URL (its signed claim), "" for any other URL."""
    if "/i/" not in url:
        return ""
    claim = image_claim(unquote(urlsplit(url).path.rsplit("/i/", 1)[1]))
    return claim.kind if claim else "invalid"


def swipe(page, selector: str, dx: int) -> None:  # type: ignore[no-untyped-def]
    """A one-finger horizontal swipe across ``selector``, as touch pointer events."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    points = [x - dx / 2 + dx * step / 5 for step in range(6)]
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": points[0], "y": y}]},
    )
    for px in points[1:]:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": y}]}
        )
    # Rest the finger before lifting it: a lift while moving starts a fling, and Chromium
    # swallows the next tap to stop the fling.
    page.wait_for_timeout(150)
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchMove", "touchPoints": [{"x": points[-1], "y": y}]},
    )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
