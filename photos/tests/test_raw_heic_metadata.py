"""RAW-first sources, HEIC, capture metadata and XMP ratings, through the derivatives service,
the upload API and the job handlers.

RAW fixtures are real DNG containers (``tests.raw_fixtures``) that LibRaw and exiv2 read.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jobs.exceptions import ItemSkipped
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import metadata, rawfiles, xmp
from photos.models import DerivativeStatus, Label, Photo
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import jpeg_bytes, write_file
from tests.raw_fixtures import dng_bytes
from tests.urls import api_path

GENERATED = DerivativeStatus.GENERATED
SHOT = datetime(2024, 5, 6, 7, 8, 9)  # noqa: DTZ001  (EXIF local time)


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def pixel(path: Path) -> tuple[int, ...]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def shoot_dng(**kwargs) -> bytes:  # type: ignore[no-untyped-def]
    defaults = {
        "raw_size": (400, 300),
        "preview_size": (320, 240),
        "taken_at": SHOT,
        "offset": "+02:00",
        "subsec": "25",
        "make": "Testcam",
        "model": "TC-1",
        "lens": "Testar 50mm F1.8",
        "focal_length": 50,
        "f_number": 1.8,
        "exposure_time": (1, 250),
        "iso": 800,
    }
    return dng_bytes(**{**defaults, **kwargs})


def heic_bytes(*, size=(60, 40), orientation: int | None = None) -> bytes:  # type: ignore[no-untyped-def]
    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2023:01:02 03:04:05"
    sub[0x9011] = "-05:00"
    sub[0x8827] = 64
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 40, 220)).save(buffer, format="HEIF", exif=exif.tobytes())
    return buffer.getvalue()


def raw_photo(project, basename: str, data: bytes, ext: str = "dng", **fields) -> Photo:  # type: ignore[no-untyped-def]
    write_file(project_dir(project) / f"{basename}.{ext}", data)
    return Photo.objects.create(
        project=project, basename=basename, ext=ext, raw_available=True, keep_raw=True, **fields
    )


# --- readers ----------------------------------------------------------------------------------


def test_metadata_of_a_dng_has_time_with_offset_and_subseconds_camera_lens_and_exposure(tmp_path):
    path = write_file(tmp_path / "A.dng", shoot_dng())

    meta = metadata.read_metadata(path)

    assert (meta.taken_at, meta.taken_at_offset) == (
        datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC),
        120,
    )
    assert (meta.camera, meta.lens) == ("Testcam TC-1", "Testar 50mm F1.8")
    assert (meta.focal_length, meta.aperture, meta.shutter, meta.iso) == (50.0, 1.8, 0.004, 800)


def test_metadata_of_a_heic_file(tmp_path):
    path = write_file(tmp_path / "H.heic", heic_bytes())

    meta = metadata.read_metadata(path)

    assert (meta.taken_at, meta.taken_at_offset) == (
        datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC),
        -300,
    )
    assert (meta.camera, meta.iso) == ("Apple iPhone 15", 64)


def test_camera_name_does_not_repeat_the_make():
    assert metadata.camera_name("Canon", "Canon EOS R5") == "Canon EOS R5"
    assert metadata.camera_name("NIKON CORPORATION", "NIKON Z 6") == "NIKON Z 6"
    assert metadata.camera_name("Sony", "ILCE-7M4") == "Sony ILCE-7M4"


def test_raw_pixels_use_the_embedded_preview_or_fall_back_to_a_half_size_demosaic(tmp_path):
    with_preview = write_file(tmp_path / "P.dng", shoot_dng(orientation=6))
    without = write_file(tmp_path / "N.dng", shoot_dng(preview_size=None))

    found = rawfiles.raw_pixels(with_preview, min_side=100)
    assert (found.source, found.image.size, found.orientation) == (
        "embedded preview",
        (320, 240),
        6,
    )
    assert (found.info.width, found.info.height) == (300, 400)

    # Only a 16×12 bitmap thumbnail: too small for a 100-pixel thumbnail, so demosaic.
    demosaic = rawfiles.raw_pixels(without, min_side=100)
    assert (demosaic.source, demosaic.image.size, demosaic.orientation) == (
        "half-size demosaic",
        (200, 150),
        1,
    )


def test_a_renamed_non_raw_file_is_not_supported_with_the_reason(tmp_path):
    fake = write_file(tmp_path / "F.nef", jpeg_bytes())

    with pytest.raises(rawfiles.RawNotSupported, match=r"F\.nef: not supported: LibRaw"):
        rawfiles.raw_pixels(fake, min_side=100)


# --- derivatives service ----------------------------------------------------------------------


def test_raw_only_photo_gets_thumbnail_preview_and_metadata_from_its_preview(project, small_sizes):
    photo = raw_photo(project, "RAW_1", shoot_dng(orientation=6))

    message = photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert message == "RAW_1.dng: thumbnail 75×100, preview 240×320."
    # Turned upright from the RAW's orientation; the embedded 320×240 is never enlarged.
    assert size_of(project_dir(project) / ".preview" / "RAW_1.webp") == (240, 320)
    assert size_of(project_dir(project) / ".thumb" / "RAW_1.webp") == (75, 100)
    assert (row.width, row.height, row.orientation) == (300, 400, 6)
    assert (row.taken_at, row.taken_at_offset) == (
        datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC),
        120,
    )
    assert (row.camera, row.lens, row.iso) == ("Testcam TC-1", "Testar 50mm F1.8", 800)
    assert (row.focal_length, row.aperture, row.shutter) == (50.0, 1.8, 0.004)
    assert row.metadata["derivative_source"] == "embedded preview"


def test_small_embedded_preview_makes_a_preview_of_its_own_size(project, settings):
    settings.PIPELINE_THUMB_SIZE = 64
    settings.PIPELINE_PREVIEW_SIZE = 5000
    photo = raw_photo(project, "SMALL", shoot_dng(raw_size=(400, 300), preview_size=(160, 120)))

    photo_derivatives_generate(photo=photo)

    assert size_of(project_dir(project) / ".preview" / "SMALL.webp") == (160, 120)
    assert size_of(project_dir(project) / ".thumb" / "SMALL.webp") == (64, 48)


def test_raw_without_a_usable_preview_is_demosaiced(project, small_sizes):
    photo = raw_photo(project, "NOPREV", shoot_dng(preview_size=None))

    photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert row.preview_status == GENERATED
    assert size_of(project_dir(project) / ".preview" / "NOPREV.webp") == (200, 150)
    assert row.metadata["derivative_source"] == "half-size demosaic"


def test_unreadable_raw_is_not_supported_and_the_reason_is_kept(project):
    photo = raw_photo(project, "JUNK", b"II*\x00 not really a raw", ext="cr2")

    with pytest.raises(ItemSkipped, match="not supported"):
        photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert row.thumbnail_status == DerivativeStatus.NOT_SUPPORTED
    assert "JUNK.cr2: not supported: LibRaw" in row.metadata["not_supported_reason"]


def test_jpg_stays_the_source_when_a_raw_exists(project, small_sizes):
    write_file(project_dir(project) / "PAIR.jpg", jpeg_bytes(size=(90, 60), color=(250, 0, 0)))
    photo = raw_photo(project, "PAIR", shoot_dng(preview_color=(0, 0, 250)))
    Photo.objects.filter(pk=photo.pk).update(jpg_available=True, ext="jpg")

    message = photo_derivatives_generate(photo=photo)

    assert message.startswith("PAIR.jpg:")
    red, _, blue = pixel(project_dir(project) / ".preview" / "PAIR.webp")
    assert (red > 200, blue < 50) == (True, True)
    row = Photo.objects.get(pk=photo.pk)
    # The JPG has no lens or exposure: the RAW next to it fills the gaps.
    assert (row.width, row.height) == (90, 60)
    assert (row.lens, row.iso) == ("Testar 50mm F1.8", 800)


def test_heic_photo_gets_derivatives_and_exif(project):
    write_file(project_dir(project) / "PHONE.heic", heic_bytes(size=(60, 40), orientation=6))
    photo = Photo.objects.create(
        project=project, basename="PHONE", ext="heic", other_available=True
    )

    photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    # pillow-heif applies the rotation itself: the row and the pixels agree.
    assert size_of(project_dir(project) / ".preview" / "PHONE.webp") == (row.width, row.height)
    assert (row.width, row.height) == (40, 60)
    assert (row.taken_at, row.taken_at_offset) == (datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC), -300)
    assert (row.camera, row.iso) == ("Apple iPhone 15", 64)


# --- XMP ratings ------------------------------------------------------------------------------

SIDECAR = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:pm="http://example.com/pm/1.0/"
 xmp:Rating="%d" xmp:Label="%s" photoshop:City="Reykjavik" pm:Keep="me">
<dc:subject xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Bag><rdf:li>glacier</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def sidecar(rating: int, label: str) -> bytes:
    return SIDECAR % (rating, label.encode())


def test_sidecar_rated_shoot_arrives_rated(tenant, project, small_sizes):
    write_file(project_dir(project) / "S_1.dng", shoot_dng())
    write_file(project_dir(project) / "S_1.xmp", sidecar(4, "Red"))
    write_file(project_dir(project) / "S_2.jpg", jpeg_bytes())
    write_file(project_dir(project) / "S_2.jpg.xmp", sidecar(2, "Purple"))
    write_file(project_dir(project) / "S_3.jpg", jpeg_bytes())
    photos = [
        Photo.objects.create(project=project, basename="S_1", ext="dng", raw_available=True),
        Photo.objects.create(project=project, basename="S_2", ext="jpg", jpg_available=True),
        Photo.objects.create(project=project, basename="S_3", ext="jpg", jpg_available=True),
    ]

    start_task("generate_derivatives", tenant, items=[p.pk for p in photos])
    drain()

    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert (rows["S_1"].rating, rows["S_1"].label) == (4, Label.RED)
    assert (rows["S_2"].rating, rows["S_2"].label) == (2, Label.PURPLE)
    assert (rows["S_3"].rating, rows["S_3"].label) == (0, Label.NONE)


def test_embedded_xmp_rating_is_read(project, small_sizes):
    photo = raw_photo(project, "EMB", shoot_dng(xmp=sidecar(5, "Green")))

    photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.rating, row.label) == (5, Label.GREEN)


def test_regenerating_keeps_a_rating_set_since_unless_the_sidecar_changed(project, small_sizes):
    photo = raw_photo(project, "KEEP", shoot_dng())
    write_file(project_dir(project) / "KEEP.xmp", sidecar(3, "Blue"))
    photo_derivatives_generate(photo=photo)
    Photo.objects.filter(pk=photo.pk).update(rating=1, label=Label.NONE)

    photo_derivatives_generate(photo=photo, force=True)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.rating, row.label) == (1, Label.NONE)

    write_file(project_dir(project) / "KEEP.xmp", sidecar(5, "Blue"))
    photo_derivatives_generate(photo=photo, force=True)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.rating, row.label) == (5, Label.NONE)


def test_sidecar_write_changes_only_rating_and_label_and_keeps_other_xmp(tmp_path):
    path = write_file(tmp_path / "xmp" / "W.xmp", sidecar(1, "Red"))

    xmp.sidecar_write(path, rating=4, label="green")

    values = xmp_properties(path)
    assert values["Xmp.xmp.Rating"] == "4"
    assert values["Xmp.xmp.Label"] == "Green"
    assert values["Xmp.photoshop.City"] == "Reykjavik"
    assert values["Xmp.pm.Keep"] == "me"
    assert values["Xmp.dc.subject"] == ["glacier"]
    assert [p.name for p in path.parent.iterdir()] == ["W.xmp"]  # no temporary file left

    xmp.sidecar_write(path, label="none")
    assert xmp.read_sidecar(path) == xmp.RatingLabel(rating=4, label=None, keywords=("glacier",))


def xmp_properties(path: Path) -> dict:
    """Every XMP property of a sidecar, as exiv2 reads it."""
    import pyexiv2

    image = pyexiv2.Image(str(path))
    try:
        return image.read_xmp()
    finally:
        image.close()


# --- end to end through the upload API --------------------------------------------------------


def test_raw_only_and_heic_uploads_get_derivatives_and_metadata(api_client, project, small_sizes):
    files = [
        SimpleUploadedFile("DSC_1.DNG", shoot_dng(), content_type="image/x-adobe-dng"),
        SimpleUploadedFile("PHONE_1.heic", heic_bytes(), content_type="image/heic"),
    ]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 201, response.content

    drain()

    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    raw, heic = rows["DSC_1"], rows["PHONE_1"]
    for row in (raw, heic):
        assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
        assert (project_dir(project) / ".thumb" / f"{row.basename}.webp").is_file()
        assert (project_dir(project) / ".preview" / f"{row.basename}.webp").is_file()
    assert raw.taken_at == datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC)
    assert (raw.camera, raw.lens, raw.iso) == ("Testcam TC-1", "Testar 50mm F1.8", 800)
    assert heic.camera == "Apple iPhone 15"

    detail = api_client.get(api_path("photo-detail", pk=raw.pk)).json()
    assert (detail["camera"], detail["iso"], detail["rating"], detail["label"]) == (
        "Testcam TC-1",
        800,
        0,
        "none",
    )
    thumbnail = api_client.get(api_path("photo-thumbnail", pk=raw.pk))
    assert thumbnail.status_code == 200


def test_raw_derivatives_of_a_rebuilt_database_are_adopted_with_metadata(project, small_sizes):
    photo = raw_photo(project, "ADOPT", shoot_dng(orientation=6))
    photo_derivatives_generate(photo=photo)
    thumb = project_dir(project) / ".thumb" / "ADOPT.webp"
    made = thumb.stat().st_mtime_ns
    Photo.objects.filter(pk=photo.pk).update(
        thumbnail_status=None, preview_status=None, camera="", iso=None, width=None
    )

    message = photo_derivatives_generate(photo=photo)

    assert message == "ADOPT.dng: derivatives already up to date; metadata read."
    assert thumb.stat().st_mtime_ns == made
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.camera, row.iso) == (GENERATED, "Testcam TC-1", 800)
    assert (row.width, row.height, row.orientation) == (300, 400, 6)


@pytest.mark.parametrize("engine", ["pyvips", "pillow"])
def test_embedded_jpeg_preview_is_made_by_the_configured_engine(tmp_path, engine):
    from photos import imaging

    source = write_file(tmp_path / "raw" / "E.dng", shoot_dng(orientation=8))

    result = imaging.make_derivatives(
        source,
        thumb_path=tmp_path / "raw" / "t.webp",
        thumb_size=100,
        thumb_quality=50,
        preview_path=tmp_path / "raw" / "p.webp",
        preview_size=1000,
        preview_quality=60,
        engine=engine,
    )

    assert result.engine == engine
    assert (result.thumbnail_size, result.preview_size) == ((75, 100), (240, 320))
    assert size_of(tmp_path / "raw" / "p.webp") == (240, 320)


def test_truncated_embedded_preview_falls_back_to_the_demosaic(project, small_sizes):
    whole = io.BytesIO()
    Image.new("RGB", (320, 240), (9, 9, 9)).save(whole, "JPEG", quality=90)
    truncated = whole.getvalue()[: len(whole.getvalue()) // 3]
    photo = raw_photo(project, "BROKEN", shoot_dng(preview_size=(320, 240), preview_jpeg=truncated))

    photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert row.preview_status == GENERATED
    assert row.metadata["derivative_source"] == "half-size demosaic"
    assert size_of(project_dir(project) / ".preview" / "BROKEN.webp") == (200, 150)


def test_preview_that_fails_to_decode_is_replaced_by_the_demosaic(tmp_path, monkeypatch):
    """LibRaw hands out a JPEG whose headers read but whose pixels do not decode."""
    from photos import imaging

    source = write_file(tmp_path / "raw" / "D.dng", shoot_dng())
    pillow = imaging._pillow_derivatives
    decoded: list[tuple[int, int]] = []

    def failing_on_the_preview(image, info, **kwargs):  # type: ignore[no-untyped-def]
        decoded.append(image.size)
        if image.format == "JPEG":
            raise imaging.ImageUnreadable("D.dng: cannot decode the image (broken data stream).")
        return pillow(image, info, **kwargs)

    monkeypatch.setattr(imaging, "_pillow_derivatives", failing_on_the_preview)
    result = imaging.make_derivatives(
        source,
        thumb_path=tmp_path / "raw" / "t.webp",
        thumb_size=100,
        thumb_quality=50,
        preview_path=tmp_path / "raw" / "p.webp",
        preview_size=1000,
        preview_quality=60,
        engine="pillow",
    )

    assert decoded == [(320, 240), (200, 150)]
    assert result.exif.metadata["derivative_source"] == "half-size demosaic"
    assert size_of(tmp_path / "raw" / "p.webp") == (200, 150)
