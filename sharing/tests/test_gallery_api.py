"""The gallery's JSON API, picks, downloads, the ZIP of picks, watermarks and events
(issue 23 item 3, docs/API.md "The client's gallery")."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from PIL import Image

from jobs.models import Event
from photos.models import Photo
from photos.storage import file_path, preview_path, thumbnail_path
from sharing.models import ShareLink, SharePick
from sharing.tests.conftest import public_photo, share_make
from tests.factories import make_photo

pytestmark = pytest.mark.django_db


def photos_of(client, shared, **query):  # type: ignore[no-untyped-def]
    response = client.get(shared.photos_url, query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def pick(client, shared, **body):  # type: ignore[no-untyped-def]
    return client.post(shared.picks_url, body, content_type="application/json")


# --- photos --------------------------------------------------------------------------------


def test_photos_lists_only_the_links_public_live_photos_in_capture_order(client, tenant, project):
    late = public_photo(project, "B_LATE", taken_at=datetime(2025, 7, 2, 10, tzinfo=UTC))
    early = public_photo(project, "C_EARLY", taken_at=datetime(2025, 7, 1, 9, tzinfo=UTC))
    private = public_photo(project, "D_PRIVATE", visibility=Photo.Visibility.PRIVATE)
    trashed = public_photo(project, "E_TRASHED")
    Photo.objects.filter(pk=trashed.pk).update(trashed_at=timezone.now())
    not_shared = public_photo(project, "F_ELSEWHERE")
    shared = share_make(tenant, [late, early, private, trashed])

    results = photos_of(client, shared)

    assert [r["id"] for r in results] == [early.pk, late.pk]
    assert not_shared.pk not in [r["id"] for r in results]
    first = results[0]
    assert set(first) == {
        "id",
        "basename",
        "taken_at",
        "width",
        "height",
        "thumbnail",
        "preview",
        "picked",
        "comment",
    }
    assert first["basename"] == "C_EARLY"
    assert first["taken_at"].startswith("2025-07-01T09:00:00")
    assert (first["width"], first["height"]) == (1600, 1200)
    assert first["thumbnail"].startswith(f"/s/{shared.token}/i/")
    assert first["picked"] is False
    assert first["comment"] == ""


def test_original_is_listed_only_when_the_link_delivers_originals(client, tenant, shoot):
    previews = share_make(tenant, shoot, downloads=ShareLink.Downloads.PREVIEW)
    originals = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    assert all("original" not in r for r in photos_of(client, previews))
    rows = photos_of(client, originals)
    assert all(r["original"].startswith(f"/s/{originals.token}/i/") for r in rows)


def test_photos_carry_the_picks_of_the_named_client_only(client, shared, shoot):
    SharePick.objects.create(link=shared.link, photo=shoot[0], client_name="Anna", comment="yes")
    SharePick.objects.create(link=shared.link, photo=shoot[1], client_name="Ben")
    anna = {r["id"]: r for r in photos_of(client, shared, name="Anna")}
    assert anna[shoot[0].pk]["picked"] is True
    assert anna[shoot[0].pk]["comment"] == "yes"
    assert anna[shoot[1].pk]["picked"] is False


def test_photos_runs_a_fixed_number_of_queries(
    client, tenant, project, django_assert_max_num_queries
):
    few = share_make(tenant, [public_photo(project, f"A{n}") for n in range(2)])
    many = share_make(tenant, [public_photo(project, f"B{n}") for n in range(25)])
    # The per-address throttle counts in the database cache (several queries of its own).
    photos_of(client, few)
    with django_assert_max_num_queries(16) as few_queries:
        photos_of(client, few)
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        assert len(photos_of(client, many)) == 25


def test_image_urls_serve_the_derivatives(client, shared, shoot):
    row = photos_of(client, shared)[0]
    thumb = client.get(row["thumbnail"])
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/webp"
    body = b"".join(thumb.streaming_content)
    assert body == thumbnail_path(shoot[0].project, shoot[0].basename).read_bytes()
    assert "attachment" not in thumb.get("Content-Disposition", "")
    preview = client.get(row["preview"])
    assert Image.open(io.BytesIO(b"".join(preview.streaming_content))).size == (1600, 1200)
    again = client.get(row["thumbnail"], HTTP_IF_NONE_MATCH=thumb["ETag"])
    assert again.status_code == 304


# --- picks ---------------------------------------------------------------------------------


def test_a_pick_is_saved_updated_and_returned(client, shared, shoot):
    response = pick(client, shared, photo_id=shoot[0].pk, picked=True, name=" Anna ")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "photo_id": shoot[0].pk,
        "picked": True,
        "comment": "",
        "name": "Anna",
    }
    response = pick(client, shared, photo_id=shoot[0].pk, picked=True, comment="Crop?", name="Anna")
    assert response.json()["comment"] == "Crop?"
    # Without ``comment`` the comment stays.
    response = pick(client, shared, photo_id=shoot[0].pk, picked=False, name="Anna")
    assert response.json() == {
        "photo_id": shoot[0].pk,
        "picked": False,
        "comment": "Crop?",
        "name": "Anna",
    }
    row = SharePick.objects.get()
    assert (row.link_id, row.photo_id, row.client_name, row.picked) == (
        shared.link.pk,
        shoot[0].pk,
        "Anna",
        False,
    )


def test_a_pick_writes_a_share_pick_event_to_the_tenants_outbox(client, shared, shoot, tenant):
    pick(client, shared, photo_id=shoot[1].pk, picked=True, comment="Love it", name="Anna")
    event = Event.objects.get(type="share_pick")
    assert event.tenant_id == tenant.pk
    assert event.photo_id == shoot[1].pk
    assert event.project_id == shoot[1].project_id
    assert event.actor_id is None
    assert {
        k: event.payload[k] for k in ("share_id", "photo_id", "picked", "comment", "client_name")
    } == {
        "share_id": shared.link.pk,
        "photo_id": shoot[1].pk,
        "picked": True,
        "comment": "Love it",
        "client_name": "Anna",
    }


def test_a_pick_of_a_photo_not_shown_by_the_link_is_404(client, shared, project, globex_photo):
    outside = public_photo(project, "OUTSIDE")
    private = public_photo(project, "PRIV", visibility=Photo.Visibility.PRIVATE)
    shared.link.photos.add(private)
    for photo_id in (outside.pk, private.pk, globex_photo.pk, 999999):
        response = pick(client, shared, photo_id=photo_id, picked=True)
        assert response.status_code == 404, photo_id
        assert response.json() == {"detail": "Photo not found."}
    assert not SharePick.objects.exists()
    assert not Event.objects.filter(type="share_pick").exists()


def test_picks_are_refused_when_the_link_takes_none(client, tenant, shoot):
    shared = share_make(tenant, shoot, allow_picks=False)
    response = pick(client, shared, photo_id=shoot[0].pk, picked=True)
    assert response.status_code == 403
    assert not SharePick.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"picked": True},
        {"photo_id": "1", "picked": True},
        {"photo_id": 1, "picked": "yes"},
        {"photo_id": 1, "picked": True, "comment": 5},
        {"photo_id": 1, "picked": True, "comment": "x" * 2001},
        {"photo_id": 1, "picked": True, "name": "n" * 121},
    ],
)
def test_a_bad_pick_body_is_400_and_writes_nothing(client, shared, shoot, body):
    if body.get("photo_id") == 1:
        body = {**body, "photo_id": shoot[0].pk}
    response = pick(client, shared, **body)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not SharePick.objects.exists()


def test_a_pick_body_that_is_not_json_is_400(client, shared):
    response = client.post(shared.picks_url, "not json", content_type="application/json")
    assert response.status_code == 400


# --- downloads -----------------------------------------------------------------------------


def test_a_preview_download_is_an_attachment_counted_with_an_event(client, shared, shoot):
    row = photos_of(client, shared)[0]
    response = client.get(row["preview"], {"download": "1", "name": "Anna"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert f"{shoot[0].basename}.webp" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body == preview_path(shoot[0].project, shoot[0].basename).read_bytes()
    shared.link.refresh_from_db()
    assert shared.link.download_count == 1
    event = Event.objects.get(type="share_downloaded")
    assert event.payload["kind"] == "preview"
    assert event.payload["photo_ids"] == [shoot[0].pk]
    assert event.payload["client_name"] == "Anna"


def test_downloads_none_refuses_preview_downloads_and_the_zip(client, tenant, shoot):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.NONE)
    row = photos_of(client, shared)[0]
    assert client.get(row["preview"]).status_code == 200  # viewing stays possible
    assert client.get(row["preview"], {"download": "1"}).status_code == 403
    SharePick.objects.create(link=shared.link, photo=shoot[0])
    assert client.get(shared.zip_url).status_code == 403
    shared.link.refresh_from_db()
    assert shared.link.download_count == 0


def test_an_original_is_served_as_it_is_on_disk(client, tenant, shoot):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL, watermark="PROOF")
    row = photos_of(client, shared)[0]
    response = client.get(row["original"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    assert body == file_path(shoot[0].project, f"{shoot[0].basename}.jpg").read_bytes()


def test_an_original_url_stops_working_when_the_link_no_longer_delivers_originals(
    client, tenant, shoot
):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    row = photos_of(client, shared)[0]
    ShareLink.objects.filter(pk=shared.link.pk).update(downloads=ShareLink.Downloads.PREVIEW)
    assert client.get(row["original"]).status_code == 404


def _zip_names(response) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    data = b"".join(response.streaming_content)
    assert len(data) == int(response["Content-Length"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_zip_holds_the_named_clients_picked_previews(client, shared, shoot):
    for photo in shoot[:2]:
        pick(client, shared, photo_id=photo.pk, picked=True, name="Anna")
    pick(client, shared, photo_id=shoot[1].pk, picked=False, name="Anna")
    pick(client, shared, photo_id=shoot[2].pk, picked=True, name="Ben")

    response = client.get(shared.zip_url, {"name": "Anna"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment")
    files = _zip_names(response)
    assert files == {
        f"{shoot[0].basename}.webp": preview_path(shoot[0].project, shoot[0].basename).read_bytes()
    }
    shared.link.refresh_from_db()
    assert shared.link.download_count == 1
    event = Event.objects.get(type="share_downloaded")
    assert event.payload["kind"] == "zip"
    assert event.payload["photo_ids"] == [shoot[0].pk]


def test_zip_of_originals_names_files_uniquely_across_projects(client, tenant, project):
    from tests.factories import make_project

    other = make_project(tenant, "Second day")
    a = public_photo(project, "IMG_0001")
    b = public_photo(other, "IMG_0001")
    shared = share_make(tenant, [a, b], downloads=ShareLink.Downloads.ORIGINAL)
    for photo in (a, b):
        pick(client, shared, photo_id=photo.pk, picked=True, name="Anna")
    files = _zip_names(client.get(shared.zip_url, {"name": "Anna"}))
    assert sorted(files) == ["IMG_0001-2.jpg", "IMG_0001.jpg"]
    assert sorted(files.values()) == sorted(
        file_path(p.project, "IMG_0001.jpg").read_bytes() for p in (a, b)
    )


def test_zip_leaves_out_photos_made_private_and_is_404_without_picks(client, shared, shoot):
    assert client.get(shared.zip_url, {"name": "Anna"}).status_code == 404
    pick(client, shared, photo_id=shoot[0].pk, picked=True, name="Anna")
    Photo.objects.filter(pk=shoot[0].pk).update(visibility=Photo.Visibility.PRIVATE)
    assert client.get(shared.zip_url, {"name": "Anna"}).status_code == 404


# --- watermark -----------------------------------------------------------------------------


def test_watermarked_images_differ_from_the_derivative_and_are_cached_under_var(
    client, tenant, shoot, renditions_root, photos_root
):
    shared = share_make(tenant, shoot, watermark="ACME PROOF")
    row = photos_of(client, shared)[0]
    source = preview_path(shoot[0].project, shoot[0].basename)
    body = b"".join(client.get(row["preview"]).streaming_content)
    assert body != source.read_bytes()
    marked = Image.open(io.BytesIO(body)).convert("RGB")
    plain = Image.open(source).convert("RGB")
    assert marked.size == plain.size
    # The text is drawn in the lower part: pixels differ there, not at the top.
    assert marked.getpixel((800, 10)) == plain.getpixel((800, 10))
    diff = sum(
        1
        for x in range(0, 1600, 4)
        for y in range(700, 1200, 4)
        if marked.getpixel((x, y)) != plain.getpixel((x, y))
    )
    assert diff > 100
    cached = list(renditions_root.rglob("*.webp"))
    assert len(cached) == 1
    assert not list(photos_root.rglob("*.webp.tmp"))
    assert photos_root not in cached[0].parents
    # Served again from the cache; a new derivative (another mtime) makes a new rendition.
    client.get(row["preview"])
    assert len(list(renditions_root.rglob("*.webp"))) == 1
    import os

    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    client.get(row["preview"])
    assert len(list(renditions_root.rglob("*.webp"))) == 2


def test_without_watermark_no_rendition_is_made(client, shared, renditions_root):
    row = photos_of(client, shared)[0]
    client.get(row["preview"])
    assert not renditions_root.exists() or not list(renditions_root.rglob("*"))


# --- events and counters -------------------------------------------------------------------


def test_opening_the_page_counts_a_view_and_writes_share_viewed(client, shared, tenant):
    response = client.get(shared.url)
    assert response.status_code == 200
    assert b"Wedding selects" in response.content
    shared.link.refresh_from_db()
    assert shared.link.view_count == 1
    event = Event.objects.get(type="share_viewed")
    assert event.tenant_id == tenant.pk
    assert event.payload["share_id"] == shared.link.pk
    client.get(shared.url)
    shared.link.refresh_from_db()
    assert shared.link.view_count == 2


def test_a_photo_without_derivatives_yet_is_listed_but_its_image_is_404(client, tenant, project):
    photo = make_photo(project, "NEW", visibility=Photo.Visibility.PUBLIC)
    shared = share_make(tenant, [photo])
    row = photos_of(client, shared)[0]
    response = client.get(row["thumbnail"])
    assert response.status_code == 404
