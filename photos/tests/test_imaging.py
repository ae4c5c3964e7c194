"""EXIF reading and WebP derivatives on real image files (photos.imaging)."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageOps
from PIL.TiffImagePlugin import IFDRational

from photos import imaging
from tests.factories import jpeg_bytes

Tag = ExifTags.Base
RED, GREEN, BLUE, WHITE = (220, 20, 20), (20, 200, 20), (20, 20, 220), (250, 250, 250)


@pytest.fixture
def work(tmp_path):
    """A folder of its own (``tmp_path`` also holds the test's PHOTOS_ROOT)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


def noise_jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 90).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def quadrants_jpeg(size: tuple[int, int], *, orientation: int | None = None) -> bytes:
    """A JPEG whose stored pixels are red top-left, green top-right, blue bottom-left, white."""
    w, h = size
    image = Image.new("RGB", size, WHITE)
    image.paste(RED, (0, 0, w // 2, h // 2))
    image.paste(GREEN, (w // 2, 0, w, h // 2))
    image.paste(BLUE, (0, h // 2, w // 2, h))
    exif = Image.Exif()
    if orientation is not None:
        exif[Tag.Orientation] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def corner_colours(path: Path) -> list[tuple[int, int, int]]:
    """Colours near the four corners (top-left, top-right, bottom-left, bottom-right)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        w, h = image.size
        points = [
            (w // 8, h // 8),
            (w * 7 // 8, h // 8),
            (w // 8, h * 7 // 8),
            (w * 7 // 8, h * 7 // 8),
        ]
        return [image.getpixel(p) for p in points]


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 40 for a, e in zip(actual, expected, strict=True))


def derive(source: Path, work: Path, *, thumb: int = 800, preview: int = 5000):
    return imaging.make_derivatives(
        source,
        thumb_path=work / "thumb.webp",
        thumb_size=thumb,
        thumb_quality=50,
        preview_path=work / "preview.webp",
        preview_size=preview,
        preview_quality=60,
    )


# --- EXIF ------------------------------------------------------------------------------------


def test_read_exif_orientation_6_swaps_dimensions_and_reads_date_and_camera(work):
    taken = datetime(2025, 7, 14, 9, 30, 15)  # noqa: DTZ001 - EXIF times are naive
    path = write(
        work / "a.jpg",
        jpeg_bytes(size=(600, 400), orientation=6, taken_at=taken, make="Fujifilm", model="X-T5"),
    )

    info = imaging.read_exif(path)

    assert info.orientation == 6
    assert (info.width, info.height) == (400, 600)
    assert info.taken_at == datetime(2025, 7, 14, 9, 30, 15, tzinfo=UTC)
    assert info.metadata["make"] == "Fujifilm"
    assert info.metadata["model"] == "X-T5"


def test_read_exif_without_exif_is_upright_with_no_date(work):
    image = Image.new("RGB", (120, 80), RED)
    image.save(work / "plain.png")

    info = imaging.read_exif(work / "plain.png")

    assert (info.orientation, info.width, info.height, info.taken_at) == (1, 120, 80, None)
    assert info.metadata["make"] is None


def exif_jpeg(**tags: object) -> bytes:
    """A small JPEG with the given IFD0 (``ifd0``) and Exif IFD (``sub``) tags."""
    exif = Image.Exif()
    for number, value in dict(tags.get("ifd0", {})).items():
        exif[number] = value
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for number, value in dict(tags.get("sub", {})).items():
        sub[number] = value
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), BLUE).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_read_exif_applies_offset_time_original_and_converts_to_utc(work):
    path = write(
        work / "a.jpg",
        exif_jpeg(
            sub={
                Tag.DateTimeOriginal: "2025:07:14 12:00:00",
                Tag.OffsetTimeOriginal: "+02:00",
                Tag.SubsecTimeOriginal: "25",
            }
        ),
    )
    assert imaging.read_exif(path).taken_at == datetime(2025, 7, 14, 10, 0, 0, 250000, tzinfo=UTC)


def test_read_exif_falls_back_to_create_date_then_modify_date(work):
    digitized = write(
        work / "d.jpg",
        exif_jpeg(
            ifd0={Tag.DateTime: "2020:01:01 00:00:00"},
            sub={
                Tag.DateTimeOriginal: "0000:00:00 00:00:00",
                Tag.DateTimeDigitized: "2021:02:03 04:05:06",
            },
        ),
    )
    modified = write(work / "m.jpg", exif_jpeg(ifd0={Tag.DateTime: "2020:01:01 08:00:00"}))

    assert imaging.read_exif(digitized).taken_at == datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert imaging.read_exif(modified).taken_at == datetime(2020, 1, 1, 8, 0, 0, tzinfo=UTC)


def test_read_exif_metadata_is_plain_json(work):
    path = write(
        work / "a.jpg",
        exif_jpeg(
            ifd0={Tag.Make: "Canon", Tag.Model: "EOS R5"},
            sub={
                Tag.LensModel: "RF24-70mm F2.8 L IS USM",
                Tag.ExposureTime: IFDRational(1, 250),
                Tag.FNumber: IFDRational(28, 10),
                Tag.ISOSpeedRatings: 400,
                Tag.FocalLength: IFDRational(50, 1),
            },
        ),
    )

    metadata = imaging.read_exif(path).metadata

    assert metadata == {
        "make": "Canon",
        "model": "EOS R5",
        "lens": "RF24-70mm F2.8 L IS USM",
        "exposure_time": 0.004,
        "f_number": 2.8,
        "iso": 400,
        "focal_length": 50.0,
    }
    json.dumps(metadata, allow_nan=False)


def test_read_exif_drops_zero_denominator_rationals(work):
    path = write(work / "a.jpg", exif_jpeg(sub={Tag.FNumber: IFDRational(0, 1)}))
    # A rational of 0/0 or 0 is "unknown", never NaN (PostgreSQL JSON rejects NaN).
    assert imaging.read_exif(path).metadata["f_number"] is None


def test_parse_exif_datetime_rejects_placeholders_and_bad_offsets():
    assert imaging.parse_exif_datetime("    :  :     :  :  ") is None
    assert imaging.parse_exif_datetime(b"2024:02:30 10:00:00") is None
    assert imaging.parse_exif_datetime("2024:02:29 10:00:00\x00", offset="garbage") == datetime(
        2024, 2, 29, 10, tzinfo=UTC
    )
    assert imaging.parse_exif_datetime("2024:02:29 10:00:00", offset="-05:30") == datetime(
        2024, 2, 29, 15, 30, tzinfo=UTC
    )


# --- derivatives -----------------------------------------------------------------------------


def test_derivatives_are_webp_oriented_and_fit_their_boxes(work):
    source = write(work / "a.jpg", jpeg_bytes(size=(600, 400), orientation=6))

    result = derive(source, work, thumb=300, preview=500)

    with Image.open(work / "thumb.webp") as thumb, Image.open(work / "preview.webp") as pv:
        assert (thumb.format, pv.format) == ("WEBP", "WEBP")
        assert thumb.size == (200, 300)
        assert pv.size == (333, 500)
    assert result.thumbnail_size == (200, 300)
    assert result.preview_size == (333, 500)
    assert (result.exif.width, result.exif.height) == (400, 600)


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (1, [RED, GREEN, BLUE, WHITE]),
        (3, [WHITE, BLUE, GREEN, RED]),
        (6, [BLUE, RED, WHITE, GREEN]),
        (8, [GREEN, WHITE, RED, BLUE]),
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_derivatives_are_turned_upright(work, monkeypatch, orientation, expected, workers):
    """Big enough that the preview is resized in strips when there are several workers."""
    monkeypatch.setattr(imaging, "_workers", lambda: workers)
    source = write(work / "q.jpg", quadrants_jpeg((1800, 1200), orientation=orientation))

    derive(source, work, thumb=200, preview=1500)

    for name in ("thumb.webp", "preview.webp"):
        colours = corner_colours(work / name)
        assert all(close_to(c, e) for c, e in zip(colours, expected, strict=True)), (name, colours)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_table_matches_pillow_exif_transpose(orientation):
    image = Image.effect_noise((30, 20), 80).convert("RGB")
    exif = Image.Exif()
    exif[Tag.Orientation] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    with Image.open(buffer) as tagged:
        expected = ImageOps.exif_transpose(tagged)
    assert imaging._upright(image, orientation).tobytes() == expected.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_strip_resize_matches_a_plain_resize(orientation):
    """Strips sample across their edges: no seams, the same pixels give or take rounding.

    (Pillow may run the two resampling passes in the other order for a short strip, so pixels
    differ by intermediate rounding; on photo-like content that stays within a few levels.)
    """
    texture = Image.effect_noise((200, 150), 80).convert("RGB")
    source = texture.resize((1600, 1200), Image.Resampling.BICUBIC)
    with imaging.ThreadPoolExecutor(2) as pool:
        strips = imaging._resize_upright(source, (1200, 900), orientation, pool=pool, workers=2)
    plain = source.resize((1200, 900), imaging.RESAMPLE, reducing_gap=imaging.REDUCING_GAP)
    reference = imaging._upright(plain, orientation)
    assert strips.size == reference.size
    assert max(high for _, high in ImageChops.difference(strips, reference).getextrema()) <= 3


def test_derivatives_never_enlarge(work):
    source = write(work / "small.jpg", jpeg_bytes(size=(64, 48)))

    result = derive(source, work)

    assert result.thumbnail_size == result.preview_size == (64, 48)
    for name in ("thumb.webp", "preview.webp"):
        with Image.open(work / name) as image:
            assert image.size == (64, 48)


def test_large_source_uses_default_sizes_and_draft_decoding(work):
    source = write(work / "big.jpg", jpeg_bytes(size=(2400, 1600)))

    result = derive(source, work, thumb=800, preview=1000)

    assert result.thumbnail_size == (800, 533)
    assert result.preview_size == (1000, 667)


def test_derivatives_are_written_atomically_and_readable(work):
    source = write(work / "a.jpg", jpeg_bytes(size=(300, 200)))
    (work / "thumb.webp").write_bytes(b"old thumbnail")

    derive(source, work)

    assert sorted(p.name for p in work.iterdir()) == ["a.jpg", "preview.webp", "thumb.webp"]
    mode = stat.S_IMODE((work / "thumb.webp").stat().st_mode)
    assert mode == 0o644


def test_png_with_alpha_keeps_transparency(work):
    image = Image.new("RGBA", (100, 50), (10, 20, 30, 0))
    image.save(work / "a.png")

    derive(work / "a.png", work)

    with Image.open(work / "thumb.webp") as thumb:
        assert thumb.mode == "RGBA"
        assert thumb.getpixel((5, 5))[3] == 0


def test_sixteen_bit_greyscale_is_scaled_not_clipped(work):
    Image.new("I;16", (50, 50), 32768).save(work / "grey.png")

    derive(work / "grey.png", work)

    with Image.open(work / "thumb.webp") as thumb:
        assert 100 <= thumb.convert("L").getpixel((25, 25)) <= 156


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("garbage.jpg", b"this is not an image at all"),
        ("truncated.jpg", noise_jpeg()[:30_000]),
        # An EPS file named .jpg must never reach Ghostscript.
        ("eps.jpg", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"),
    ],
)
def test_unreadable_sources_raise_image_unreadable_and_write_nothing(work, name, data):
    source = write(work / name, data)

    with pytest.raises(imaging.ImageUnreadable, match=name):
        derive(source, work)
    assert sorted(p.name for p in work.iterdir()) == [name]


def test_raw_and_heic_are_not_supported(work):
    raw = write(work / "a.CR2", b"II*\x00\x10\x00\x00\x00CR\x02\x00")
    heic = write(work / "b.heic", b"\x00\x00\x00\x18ftypheic")

    with pytest.raises(imaging.FormatNotSupported, match="RAW"):
        derive(raw, work)
    if not imaging.can_decode("b.heic"):
        with pytest.raises(imaging.FormatNotSupported, match="HEIC"):
            derive(heic, work)
    assert not imaging.can_decode("a.CR2")
    assert imaging.can_decode("a.JPG")


def test_missing_source_raises_file_not_found(work):
    with pytest.raises(FileNotFoundError):
        derive(work / "nope.jpg", work)


def test_fit_within_keeps_aspect_and_never_enlarges():
    assert imaging.fit_within((6000, 4000), 5000) == (5000, 3333)
    assert imaging.fit_within((4000, 6000), 800) == (533, 800)
    assert imaging.fit_within((64, 48), 800) == (64, 48)
    assert imaging.fit_within((10000, 1), 800) == (800, 1)
