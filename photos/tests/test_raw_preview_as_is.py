"""A RAW's full-size embedded JPEG as its preview, as it is (SPEC §4, issue 24 item 5).

Real DNG containers (``tests.raw_fixtures``) with real JPEG previews made by Pillow; LibRaw
reads them as a camera's.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from jobs.exceptions import ItemSkipped
from jobs.runtime import drain
from photos import imaging, rawfiles
from photos.models import DerivativeStatus, Photo
from photos.services import photos_move
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import jpeg_bytes, make_project, write_file
from tests.raw_fixtures import dng_bytes
from tests.urls import api_path

GENERATED = DerivativeStatus.GENERATED


def camera_jpeg(size: tuple[int, int], *, orientation: int | None = None) -> bytes:
    """A camera-like JPEG with detail (so a re-encode would change its bytes) and, optionally,
    its own EXIF orientation (which the RAW's must override)."""
    image = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    image.paste((200, 30, 30), (0, 0, size[0] // 4, size[1] // 4))  # a red top-left corner
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def scan_data(jpeg: bytes) -> bytes:
    """The compressed image data of a JPEG (from its first SOS marker on)."""
    return jpeg[jpeg.index(b"\xff\xda") :]


def full_size_dng(size=(400, 300), orientation: int = 1, jpeg: bytes | None = None) -> bytes:  # type: ignore[no-untyped-def]
    data = jpeg if jpeg is not None else camera_jpeg(size, orientation=1)
    return dng_bytes(raw_size=size, preview_size=size, preview_jpeg=data, orientation=orientation)


def raw_photo(project, basename: str, data: bytes) -> Photo:  # type: ignore[no-untyped-def]
    write_file(project_dir(project) / f"{basename}.dng", data)
    return Photo.objects.create(
        project=project, basename=basename, ext="dng", raw_available=True, keep_raw=True
    )


@pytest.fixture
def sizes(settings):  # type: ignore[no-untyped-def]
    settings.PIPELINE_THUMB_SIZE = 100
    settings.PIPELINE_PREVIEW_SIZE = 1000


# --- rawfiles ---------------------------------------------------------------------------------


def test_jpeg_oriented_sets_the_orientation_and_keeps_the_compressed_data(tmp_path):
    original = camera_jpeg((120, 80), orientation=3)

    oriented = rawfiles.jpeg_oriented(original, 6)

    assert scan_data(oriented) == scan_data(original)
    with Image.open(io.BytesIO(oriented)) as image:
        assert image.getexif()[0x0112] == 6
        pixels = image.convert("RGB").tobytes()
        upright = ImageOps.exif_transpose(image)
        assert upright.size == (80, 120)
        # The red corner (top-left as stored) is top-right once turned 90° clockwise.
        assert upright.convert("RGB").getpixel((75, 3))[0] > 150
    with Image.open(io.BytesIO(original)) as image:
        assert image.convert("RGB").tobytes() == pixels  # same pixels: nothing re-encoded


def test_jpeg_oriented_adds_exif_to_a_jpeg_without_any():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(buffer, "JPEG")  # JFIF APP0, no Exif
    oriented = rawfiles.jpeg_oriented(buffer.getvalue(), 8)
    assert oriented[2:4] == b"\xff\xe0"  # JFIF stays first
    with Image.open(io.BytesIO(oriented)) as image:
        assert image.getexif()[0x0112] == 8
        assert ImageOps.exif_transpose(image).size == (10, 20)


def test_jpeg_oriented_leaves_what_it_cannot_walk_alone():
    assert rawfiles.jpeg_oriented(b"not a jpeg", 6) == b"not a jpeg"


def test_embedded_jpeg_is_handed_out_only_when_full_size_and_complete(tmp_path):
    full = write_file(tmp_path / "FULL.dng", full_size_dng(orientation=6))
    small = write_file(
        tmp_path / "SMALL.dng", dng_bytes(raw_size=(400, 300), preview_size=(160, 120))
    )
    cut = camera_jpeg((400, 300))
    cut = cut[: len(cut) * 2 // 3]
    truncated = write_file(tmp_path / "CUT.dng", full_size_dng(jpeg=cut))

    found = rawfiles.embedded_jpeg(full, min_side=5000)
    assert found is not None
    assert (found.size, found.upright_size, found.info.orientation) == ((400, 300), (300, 400), 6)
    # Smaller than the RAW, but it fills a preview box of 160: good enough for that box.
    assert rawfiles.embedded_jpeg(small, min_side=5000) is None
    assert rawfiles.embedded_jpeg(small, min_side=160) is not None
    assert rawfiles.embedded_jpeg(truncated, min_side=5000) is None


# --- derivatives ------------------------------------------------------------------------------


def test_full_size_embedded_jpeg_is_the_preview_as_it_is(project, sizes, api_client):
    embedded = camera_jpeg((400, 300), orientation=1)
    photo = raw_photo(project, "FULL", full_size_dng(orientation=6, jpeg=embedded))

    message = photo_derivatives_generate(photo=photo)

    preview = project_dir(project) / ".preview" / "FULL.jpg"
    assert message == "FULL.dng: thumbnail 75×100, preview 300×400."
    assert not (project_dir(project) / ".preview" / "FULL.webp").exists()
    data = preview.read_bytes()
    assert scan_data(data) == scan_data(embedded)  # not decoded, not re-encoded
    with Image.open(preview) as image:
        assert image.size == (400, 300)
        assert ImageOps.exif_transpose(image).size == (300, 400)  # orientation kept (6)
    with Image.open(project_dir(project) / ".thumb" / "FULL.webp") as thumb:
        assert thumb.size == (75, 100)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert (row.width, row.height, row.orientation) == (300, 400, 6)
    assert row.sharpness is not None  # hints still come with the thumbnail

    response = api_client.get(api_path("photo-preview", pk=photo.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == data


def test_embedded_jpeg_at_least_the_preview_box_is_kept_as_it_is(project, settings):
    settings.PIPELINE_THUMB_SIZE = 64
    settings.PIPELINE_PREVIEW_SIZE = 200  # the 400-px JPEG fills the box: never shrunk
    photo = raw_photo(project, "BIG", full_size_dng())

    photo_derivatives_generate(photo=photo)

    with Image.open(project_dir(project) / ".preview" / "BIG.jpg") as image:
        assert image.size == (400, 300)


def test_thumbnails_first_then_the_preview_pass_writes_the_jpeg(project, sizes):
    photo = raw_photo(project, "TWO", full_size_dng(orientation=8))

    photo_derivatives_generate(photo=photo, only=imaging.THUMBNAIL)
    assert (project_dir(project) / ".thumb" / "TWO.webp").is_file()
    assert not (project_dir(project) / ".preview" / "TWO.jpg").exists()

    message = photo_derivatives_generate(photo=photo, only=imaging.PREVIEW)

    assert message == "TWO.dng: preview 300×400."
    with Image.open(project_dir(project) / ".preview" / "TWO.jpg") as image:
        assert image.getexif()[0x0112] == 8
    assert Photo.objects.get(pk=photo.pk).preview_status == GENERATED
    # Up to date now: a second preview pass does nothing.
    with pytest.raises(ItemSkipped, match="up to date"):
        photo_derivatives_generate(photo=photo, only=imaging.PREVIEW)


def test_truncated_full_size_jpeg_is_never_served_as_it_is(project, sizes):
    cut = camera_jpeg((400, 300))
    photo = raw_photo(project, "CUT", full_size_dng(jpeg=cut[: len(cut) // 2]))

    photo_derivatives_generate(photo=photo)

    assert not (project_dir(project) / ".preview" / "CUT.jpg").exists()
    with Image.open(project_dir(project) / ".preview" / "CUT.webp") as image:
        assert image.size == (200, 150)  # the half-size demosaic
    assert Photo.objects.get(pk=photo.pk).metadata["derivative_source"] == "half-size demosaic"


def test_a_jpg_arriving_later_replaces_the_jpeg_preview_with_a_webp(project, sizes):
    photo = raw_photo(project, "PAIR", full_size_dng())
    photo_derivatives_generate(photo=photo)
    assert (project_dir(project) / ".preview" / "PAIR.jpg").is_file()

    write_file(project_dir(project) / "PAIR.jpg", jpeg_bytes(size=(90, 60), color=(0, 0, 250)))
    Photo.objects.filter(pk=photo.pk).update(jpg_available=True, keep_jpg=True, ext="jpg")
    photo_derivatives_generate(photo=Photo.objects.get(pk=photo.pk), force=True)

    assert not (project_dir(project) / ".preview" / "PAIR.jpg").exists()
    with Image.open(project_dir(project) / ".preview" / "PAIR.webp") as image:
        assert image.size == (90, 60)


def test_the_jpeg_preview_moves_with_its_photo(user, project, sizes):
    photo = raw_photo(project, "MOVE", full_size_dng())
    photo_derivatives_generate(photo=photo)
    dest = make_project(project.tenant, "Destination")

    photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=dest.pk)
    drain()

    assert (project_dir(dest) / ".preview" / "MOVE.jpg").is_file()
    assert not (project_dir(project) / ".preview" / "MOVE.jpg").exists()
    assert Photo.objects.get(pk=photo.pk).preview_status == GENERATED
