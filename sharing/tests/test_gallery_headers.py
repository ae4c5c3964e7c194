"""Every gallery reply is kept out of search engines, leaks no referrer, stays out of shared
caches and carries the site's Content-Security-Policy; the page has no inline script."""

from __future__ import annotations

import re

import pytest

from sharing.models import ShareLink, SharePick, token_new
from sharing.tests.conftest import share_make

pytestmark = pytest.mark.django_db


def assert_gallery_headers(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response["X-Robots-Tag"] == "noindex, nofollow", what
    assert response["Referrer-Policy"] == "no-referrer", what
    assert response["Cache-Control"].startswith("private"), what
    policy = response["Content-Security-Policy"]
    script_src = policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "'self'" in script_src, what
    assert "unsafe-inline" not in script_src, what


def test_every_kind_of_gallery_reply_carries_the_headers(client, tenant, shoot, settings):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL, watermark="W")
    locked = share_make(tenant, shoot, password="pw")
    SharePick.objects.create(link=shared.link, photo=shoot[0])
    row = client.get(shared.photos_url).json()["results"][0]
    replies = {
        "page": client.get(shared.url),
        "photos": client.get(shared.photos_url),
        "pick": client.post(
            shared.picks_url,
            {"photo_id": shoot[0].pk, "picked": True},
            content_type="application/json",
        ),
        "bad pick": client.post(shared.picks_url, "x", content_type="application/json"),
        "thumbnail": client.get(row["thumbnail"]),
        "preview download": client.get(row["preview"], {"download": "1"}),
        "original": client.get(row["original"]),
        "zip": client.get(shared.zip_url),
        "not found": client.get(f"/s/{token_new()}/"),
        "password form": client.get(locked.url),
        "wrong password": client.post(locked.url, {"password": "no"}),
        "password accepted": client.post(locked.url, {"password": "pw"}),
        "method not allowed": client.delete(shared.photos_url),
    }
    assert replies["zip"].status_code == 200
    for what, response in replies.items():
        assert_gallery_headers(response, what)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "gallery": "0/min",
        },
    }
    throttled = client.get(shared.url)
    assert throttled.status_code == 429
    assert_gallery_headers(throttled, "throttled")


def test_pages_have_no_inline_script_or_style(client, tenant, shoot):
    shared = share_make(tenant, shoot)
    locked = share_make(tenant, shoot, password="pw")
    for url in (shared.url, locked.url, f"/s/{token_new()}/"):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert "<style" not in html, url
        assert " style=" not in html, url
        assert 'name="robots" content="noindex, nofollow"' in html


def test_the_page_hands_the_client_its_paths_and_the_links_settings(client, tenant, shoot):
    shared = share_make(tenant, shoot, downloads="preview", allow_picks=False, message="Hi!")
    html = client.get(shared.url).content.decode()
    assert f'"photos": "/s/{shared.token}/api/photos"' in html
    assert '"allow_picks": false' in html
    assert '"downloads": "preview"' in html
    assert "Hi!" in html
    assert "sharing/gallery.js" in html
