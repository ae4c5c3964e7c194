"""The loupe's full-size image (SPEC §17, ``GET /api/photos/{id}/full``): the original JPEG,
the RAW's full-size embedded JPEG as it is, or a cached rendition of other formats."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from photos.fullsize import FullSizeUnavailable, photo_fullsize
from tests.factories import image_bytes, jpeg_bytes, make_photo, write_file
from tests.raw_fixtures import dng_bytes
from tests.urls import api_path


@pytest.fixture(autouse=True)
def fullsize_cache(tmp_path, settings):
    folder = tmp_path / "fullsize-cache"
    settings.PIPELINE_FULLSIZE_CACHE_DIR = folder
    return folder


def folder_of(project, photos_root: Path) -> Path:
    return photos_root / project.tenant.slug / project.folder


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_jpeg_photo_serves_its_original_bytes_with_caching_headers(
    api_client, project, photos_root
):
    photo = make_photo(project, "IMG_1", write=False)
    data = jpeg_bytes(size=(300, 200))
    write_file(folder_of(project, photos_root) / "IMG_1.jpg", data)

    response = api_client.get(api_path("photo-full", pk=photo.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Full-Size-Source"] == "original"
    assert body(response) == data
    assert "max-age" in response["Cache-Control"]
    again = api_client.get(api_path("photo-full", pk=photo.pk), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_raw_with_a_full_size_embedded_jpeg_serves_that_jpeg_undecoded(
    api_client, project, photos_root, fullsize_cache
):
    preview = jpeg_bytes(size=(128, 96), color=(10, 200, 30), quality=77)
    write_file(
        folder_of(project, photos_root) / "DSC_1.dng",
        dng_bytes(raw_size=(128, 96), preview_size=(128, 96), preview_jpeg=preview),
    )
    photo = make_photo(project, "DSC_1", jpg=False, raw=True, write=False)

    response = api_client.get(api_path("photo-full", pk=photo.pk))
    assert response.status_code == 200
    assert response["X-Full-Size-Source"] == "embedded"
    # The camera's JPEG as stored (LibRaw hands it over with an Exif segment in front): every
    # byte after its start marker, so nothing was decoded and encoded again.
    served = body(response)
    assert served.endswith(preview[2:])
    # Cached outside the photographer's folder, nothing written beside the originals.
    assert [p.name.endswith("-embedded.jpg") for p in fullsize_cache.rglob("*.jpg")] == [True]
    assert sorted(p.name for p in folder_of(project, photos_root).iterdir()) == ["DSC_1.dng"]


def test_a_raw_with_a_small_preview_gets_a_rendition_from_its_pixels(
    api_client, project, photos_root
):
    write_file(
        folder_of(project, photos_root) / "DSC_2.dng",
        dng_bytes(raw_size=(128, 96), preview_size=(32, 24)),
    )
    photo = make_photo(project, "DSC_2", jpg=False, raw=True, write=False)

    response = api_client.get(api_path("photo-full", pk=photo.pk))
    assert response.status_code == 200
    assert response["X-Full-Size-Source"] == "rendition"
    image = Image.open(io.BytesIO(body(response)))
    assert image.format == "JPEG"
    # A full-size demosaic: every pixel of the sensor (a half-size one would not show focus).
    assert image.size == (128, 96)


def test_a_png_gets_a_cached_jpeg_rendition_made_again_when_the_file_changes(
    api_client, project, photos_root, fullsize_cache
):
    folder = folder_of(project, photos_root)
    write_file(folder / "SCAN.png", image_bytes("PNG", size=(120, 80)))
    photo = make_photo(project, "SCAN", jpg=False, write=False, other_available=True)

    first = api_client.get(api_path("photo-full", pk=photo.pk))
    assert first.status_code == 200
    assert first["X-Full-Size-Source"] == "rendition"
    assert Image.open(io.BytesIO(body(first))).size == (120, 80)
    entries = list(fullsize_cache.rglob("*.jpg"))
    assert len(entries) == 1
    mtime = entries[0].stat().st_mtime_ns

    # Served again from the cache: the same entry, not rewritten.
    api_client.get(api_path("photo-full", pk=photo.pk))
    assert [p.stat().st_mtime_ns for p in fullsize_cache.rglob("*.jpg")] == [mtime]

    # The original replaced by a bigger scan: a new rendition, the old entry gone.
    write_file(folder / "SCAN.png", image_bytes("PNG", size=(240, 160)))
    second = api_client.get(api_path("photo-full", pk=photo.pk))
    assert Image.open(io.BytesIO(body(second))).size == (240, 160)
    assert len(list(fullsize_cache.rglob("*.jpg"))) == 1


def test_an_unreadable_original_is_a_404_and_the_file_is_left_alone(
    api_client, project, photos_root
):
    folder = folder_of(project, photos_root)
    write_file(folder / "BAD.png", b"not a png at all")
    photo = make_photo(project, "BAD", jpg=False, write=False, other_available=True)

    response = api_client.get(api_path("photo-full", pk=photo.pk))
    assert response.status_code == 404
    assert (folder / "BAD.png").read_bytes() == b"not a png at all"
    with pytest.raises(FullSizeUnavailable, match="BAD.png"):
        photo_fullsize(photo)


def test_another_tenant_gets_a_404(other_client, project, photos_root):
    photo = make_photo(project, "IMG_2")
    assert other_client.get(api_path("photo-full", pk=photo.pk)).status_code == 404
