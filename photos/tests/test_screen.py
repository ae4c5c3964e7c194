"""The loupe's screen-sized image (SPEC §17, ``GET /api/photos/{id}/screen``): the preview
fitted within ``PIPELINE_SCREEN_SIZE``, made on demand, upright, cached outside the photo
folders; a small preview as it is."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from photos.storage import preview_jpeg_path, preview_path, project_dir
from tests.factories import image_bytes, jpeg_bytes, make_photo, write_file
from tests.urls import api_path


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def screen_url(photo) -> str:
    return api_path("photo-screen", pk=photo.pk)


@pytest.fixture(autouse=True)
def screen_box(settings):
    settings.PIPELINE_SCREEN_SIZE = 64
    return 64


@pytest.mark.parametrize("engine", ["pyvips", "pillow"])
def test_a_large_preview_is_fitted_to_the_screen_box_and_cached(
    api_client, project, settings, engine
):
    settings.PIPELINE_IMAGE_ENGINE = engine
    photo = make_photo(project, "IMG_1", write=False)
    write_file(preview_path(project, "IMG_1"), image_bytes("WEBP", size=(300, 200)))

    response = api_client.get(screen_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Screen-Source"] == "rendition"
    assert Image.open(io.BytesIO(body(response))).size == (64, 43)
    entries = list(settings.PIPELINE_SCREEN_CACHE_DIR.rglob("*.webp"))
    assert len(entries) == 1
    mtime = entries[0].stat().st_mtime_ns
    # Served again from the cache, not made again; nothing beside the originals.
    again = api_client.get(screen_url(photo), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    api_client.get(screen_url(photo))
    assert [p.stat().st_mtime_ns for p in entries] == [mtime]
    assert sorted(p.name for p in project_dir(project).iterdir()) == [".preview"]

    # The preview made again (another size): a new rendition, the old entry gone.
    write_file(preview_path(project, "IMG_1"), image_bytes("WEBP", size=(200, 300)))
    third = api_client.get(screen_url(photo))
    assert Image.open(io.BytesIO(body(third))).size == (43, 64)
    assert len(list(settings.PIPELINE_SCREEN_CACHE_DIR.rglob("*.webp"))) == 1


@pytest.mark.parametrize("engine", ["pyvips", "pillow"])
def test_a_raw_jpeg_preview_kept_as_it_is_is_fitted_upright(api_client, project, settings, engine):
    settings.PIPELINE_IMAGE_ENGINE = engine
    photo = make_photo(project, "DSC_1", jpg=False, raw=True, write=False)
    # The camera's JPEG, stored sideways with its orientation tag (6: turn 90° clockwise).
    write_file(preview_jpeg_path(project, "DSC_1"), jpeg_bytes(size=(300, 200), orientation=6))

    response = api_client.get(screen_url(photo))
    assert response.status_code == 200
    shown = Image.open(io.BytesIO(body(response)))
    assert shown.format == "WEBP"
    assert shown.size == (43, 64)


def test_a_preview_within_the_box_is_served_as_it_is(api_client, project, screen_box):
    photo = make_photo(project, "IMG_2", write=False)
    data = image_bytes("WEBP", size=(60, 40))
    write_file(preview_path(project, "IMG_2"), data)

    response = api_client.get(screen_url(photo))
    assert response.status_code == 200
    assert response["X-Screen-Source"] == "preview"
    assert body(response) == data


def test_no_preview_or_an_unreadable_one_is_a_404(api_client, project, settings):
    photo = make_photo(project, "IMG_3", write=False)
    assert api_client.get(screen_url(photo)).status_code == 404
    write_file(preview_path(project, "IMG_3"), b"RIFF not a webp")
    assert api_client.get(screen_url(photo)).status_code == 404
    assert not list(settings.PIPELINE_SCREEN_CACHE_DIR.rglob("*.webp"))


def test_another_tenants_photo_is_a_404(other_client, project):
    photo = make_photo(project, "IMG_4", write=False)
    write_file(preview_path(project, "IMG_4"), image_bytes("WEBP", size=(300, 200)))
    assert other_client.get(screen_url(photo)).status_code == 404
