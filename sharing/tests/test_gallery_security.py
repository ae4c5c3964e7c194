"""What the gallery guarantees against a client who tries more than the link gives
(SPEC §14, §18; docs/SECURITY.md "Client galleries")."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from photos.models import Photo
from projects.services import staff_permissions_grant
from sharing.gallery import access
from sharing.gallery.signing import image_sign
from sharing.models import ShareLink, SharePick, token_new
from sharing.tests.conftest import public_photo, share_make
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# Headers that legitimately differ between two replies (none do today; listed to be explicit).
VOLATILE = {"Date"}


def reply_shape(response):  # type: ignore[no-untyped-def]
    headers = tuple(sorted((k, v) for k, v in response.headers.items() if k not in VOLATILE))
    return response.status_code, headers, response.content


def image_url(shared, photo_id: int, kind: str = "thumbnail", **kw) -> str:  # type: ignore[no-untyped-def]
    expires = kw.pop("expires", int(time.time()) + 3600)
    link_id = kw.pop("link_id", shared.link.pk)
    signed = image_sign(link_id=link_id, photo_id=photo_id, kind=kind, expires=expires)
    return f"/s/{shared.token}/i/{signed}"


def first_row(client, shared):  # type: ignore[no-untyped-def]
    return client.get(shared.photos_url).json()["results"][0]


# --- tokens --------------------------------------------------------------------------------


def test_unknown_expired_and_revoked_links_all_get_the_same_404(client, tenant, shoot):
    expired = share_make(tenant, shoot, expires_at=timezone.now() - timedelta(seconds=1))
    revoked = share_make(tenant, shoot, revoked_at=timezone.now())
    guessed = token_new()
    replies = [
        client.get(f"/s/{guessed}/"),
        client.get(f"/s/{guessed[:-1]}/"),
        client.get("/s/x/"),
        client.get(f"/s/{'a' * 500}/"),
        client.get(expired.url),
        client.get(revoked.url),
    ]
    shapes = {reply_shape(r) for r in replies}
    assert len(shapes) == 1, shapes
    status, headers, body = shapes.pop()
    assert status == 404
    assert b"not available" in body
    # The same for every path under the token.
    for suffix in ("api/photos", "download/picks.zip", "exports/1/download"):
        for token in (guessed, expired.token, revoked.token):
            response = client.get(f"/s/{token}/{suffix}")
            assert reply_shape(response) == (status, headers, body), (token, suffix)


def test_a_link_answers_404_at_once_when_revoked(client, shared):
    assert client.get(shared.photos_url).status_code == 200
    ShareLink.objects.filter(pk=shared.link.pk).update(revoked_at=timezone.now())
    assert client.get(shared.photos_url).status_code == 404
    assert client.get(shared.url).status_code == 404


def test_tokens_are_compared_in_constant_time(client, shared, monkeypatch):
    compared: list[tuple[str, str]] = []
    real = access.hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert client.get(shared.photos_url).status_code == 200
    assert compared == [(shared.link.token_hash, shared.link.token_hash)]


def test_only_the_tokens_hash_is_stored(shared):
    row = ShareLink.objects.filter(pk=shared.link.pk).values().get()
    assert shared.token not in {str(v) for v in row.values()}


# --- passwords -----------------------------------------------------------------------------


@pytest.fixture
def locked(tenant, shoot):  # type: ignore[no-untyped-def]
    return share_make(tenant, shoot, password="open sesame", downloads="preview")


def test_a_password_link_shows_its_form_and_nothing_else_until_opened(client, locked):
    page = client.get(locked.url)
    assert page.status_code == 200
    assert b'name="password"' in page.content
    assert b"gallery-bootstrap" not in page.content
    assert client.get(locked.photos_url).status_code == 404
    assert client.post(locked.picks_url, {}, content_type="application/json").status_code == 404


def test_the_right_password_sets_a_cookie_for_this_link_only(client, locked, tenant, shoot):
    response = client.post(locked.url, {"password": "open sesame"})
    assert response.status_code == 302
    cookie = response.cookies[access.ACCESS_COOKIE]
    assert cookie["path"] == locked.url
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert client.get(locked.photos_url).status_code == 200
    row = first_row(client, locked)
    assert client.get(row["thumbnail"]).status_code == 200
    # The cookie of one link opens no other link with a password.
    other = share_make(tenant, shoot, password="open sesame")
    client.cookies[access.ACCESS_COOKIE] = cookie.value
    assert client.get(other.photos_url).status_code == 404


def test_changing_the_password_closes_open_sessions(client, locked):
    client.post(locked.url, {"password": "open sesame"})
    assert client.get(locked.photos_url).status_code == 200
    ShareLink.objects.filter(pk=locked.link.pk).update(password=make_password("new one"))
    assert client.get(locked.photos_url).status_code == 404


def test_a_forged_access_cookie_opens_nothing(client, locked):
    client.cookies[access.ACCESS_COOKIE] = "eyJsIjoxfQ:forged:signature"
    assert client.get(locked.photos_url).status_code == 404


def test_wrong_passwords_are_throttled_then_answered_like_an_unknown_link(client, locked, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "gallery_password": "3/15min",
        },
    }
    for _ in range(3):
        wrong = client.post(locked.url, {"password": "guess"})
        assert wrong.status_code == 403
        assert b"Wrong password" in wrong.content
    unknown = client.post(f"/s/{token_new()}/", {"password": "guess"})
    locked_out = client.post(locked.url, {"password": "guess"})
    assert reply_shape(locked_out) == reply_shape(unknown)
    assert locked_out.status_code == 404
    # Even the right password is refused until the window has passed.
    right = client.post(locked.url, {"password": "open sesame"})
    assert reply_shape(right) == reply_shape(unknown)
    assert access.ACCESS_COOKIE not in right.cookies
    # Another address still gets its own attempts.
    other = client.post(locked.url, {"password": "open sesame"}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


# --- signed image URLs ---------------------------------------------------------------------


def test_a_signed_url_of_a_photo_outside_the_link_is_404(client, shared, project):
    outside = public_photo(project, "OUTSIDE")
    response = client.get(image_url(shared, outside.pk))
    assert response.status_code == 404
    assert reply_shape(response) == reply_shape(client.get(f"/s/{token_new()}/"))


def test_a_signed_url_of_another_tenants_photo_is_404(client, shared, globex_photo):
    assert client.get(image_url(shared, globex_photo.pk)).status_code == 404
    assert client.get(image_url(shared, globex_photo.pk, "preview")).status_code == 404


def test_a_signed_url_stops_working_when_the_link_is_revoked(client, shared):
    row = first_row(client, shared)
    assert client.get(row["thumbnail"]).status_code == 200
    ShareLink.objects.filter(pk=shared.link.pk).update(revoked_at=timezone.now())
    assert client.get(row["thumbnail"]).status_code == 404


def test_a_signed_url_stops_working_when_the_link_expires(client, shared):
    row = first_row(client, shared)
    ShareLink.objects.filter(pk=shared.link.pk).update(expires_at=timezone.now())
    assert client.get(row["preview"]).status_code == 404


def test_a_photo_made_private_disappears_at_once(client, shared, shoot):
    row = first_row(client, shared)
    Photo.objects.filter(pk=row["id"]).update(visibility=Photo.Visibility.PRIVATE)
    assert client.get(row["thumbnail"]).status_code == 404
    assert row["id"] not in [r["id"] for r in client.get(shared.photos_url).json()["results"]]


def test_a_photo_removed_from_the_link_or_trashed_disappears(client, shared, shoot):
    rows = client.get(shared.photos_url).json()["results"]
    shared.link.photos.remove(shoot[0])
    Photo.objects.filter(pk=shoot[1].pk).update(trashed_at=timezone.now())
    assert client.get(rows[0]["thumbnail"]).status_code == 404
    assert client.get(rows[1]["thumbnail"]).status_code == 404
    assert client.get(rows[2]["thumbnail"]).status_code == 200


def test_a_tampered_signature_is_404(client, shared):
    url = first_row(client, shared)["thumbnail"]
    head, signature = url.rsplit(":", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert client.get(f"{head}:{flipped}").status_code == 404
    assert client.get(url.replace("/i/", "/i/x")).status_code == 404
    assert client.get(f"/s/{shared.token}/i/not-signed-at-all").status_code == 404


def test_an_expired_signature_is_404(client, shared, shoot):
    url = image_url(shared, shoot[0].pk, expires=int(time.time()) - 1)
    assert client.get(url).status_code == 404
    assert client.get(image_url(shared, shoot[0].pk)).status_code == 200


def test_a_signature_made_for_another_link_opens_nothing_here(client, tenant, shared, shoot):
    other = share_make(tenant, shoot)
    url = image_url(shared, shoot[0].pk, link_id=other.link.pk)
    assert client.get(url).status_code == 404


def test_a_valid_url_of_one_link_does_not_work_under_another_token(client, tenant, shared, shoot):
    other = share_make(tenant, shoot)
    url = first_row(client, shared)["thumbnail"]
    assert client.get(url.replace(shared.token, other.token)).status_code == 404


def test_a_thumbnail_cannot_be_turned_into_a_download(client, shared):
    row = first_row(client, shared)
    assert client.get(row["thumbnail"], {"download": "1"}).status_code == 404


# --- no session, and a studio session gives nothing more ----------------------------------


def test_no_session_or_login_is_needed(client, shared, shoot):
    assert client.get(shared.url).status_code == 200
    row = first_row(client, shared)
    assert client.get(row["thumbnail"]).status_code == 200
    response = client.post(
        shared.picks_url, {"photo_id": shoot[0].pk, "picked": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert "sessionid" not in client.cookies


def test_a_signed_in_studio_user_gets_no_more_than_a_client(client, tenant, locked, project, shoot):
    staff = make_user(tenant, "stella", staff=True, role="owner")
    staff_permissions_grant(user=staff)
    client.force_login(staff)
    private = public_photo(project, "PRIVATE", visibility=Photo.Visibility.PRIVATE)
    locked.link.photos.add(private)
    # The password is still asked for.
    assert client.get(locked.photos_url).status_code == 404
    assert b"gallery-bootstrap" not in client.get(locked.url).content
    client.post(locked.url, {"password": "open sesame"})
    ids = [r["id"] for r in client.get(locked.photos_url).json()["results"]]
    assert private.pk not in ids
    assert client.get(image_url(locked, private.pk)).status_code == 404
    response = client.post(
        locked.picks_url, {"photo_id": private.pk, "picked": True}, content_type="application/json"
    )
    assert response.status_code == 404
    assert client.get(f"/s/{token_new()}/").status_code == 404
    revoked = share_make(tenant, shoot, revoked_at=timezone.now())
    assert client.get(revoked.url).status_code == 404
    assert not SharePick.objects.exists()


# --- throttle per address ------------------------------------------------------------------


def test_gallery_requests_are_throttled_per_client_address(client, shared, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "gallery": "4/min",
        },
    }
    for _ in range(4):
        assert client.get(shared.photos_url).status_code == 200
    refused = client.get(shared.photos_url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused["X-Robots-Tag"] == "noindex, nofollow"
    # Guessing tokens counts too, and another address is not held back.
    assert client.get(f"/s/{token_new()}/").status_code == 429
    assert client.get(shared.photos_url, REMOTE_ADDR="10.1.2.3").status_code == 200
