"""EXIF reading and WebP derivatives on real image files (photos.imaging).

Derivative tests run on both engines (the ``engine`` fixture): libvips through pyvips, and
Pillow. ``derive`` checks that the engine asked for is the one that made the files, so a
silent fallback to Pillow cannot pass for libvips.
"""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pyvips
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageOps
from PIL.TiffImagePlugin import IFDRational

from photos import imaging
from tests.factories import jpeg_bytes

Tag = ExifTags.Base
RED, GREEN, BLUE, WHITE = (220, 20, 20), (20, 200, 20), (20, 20, 220), (250, 250, 250)
ENGINES = ["pyvips", "pillow"]


@pytest.fixture(params=ENGINES)
def engine(request):
    """The derivative engine a test runs on (``make_derivatives(engine=...)``)."""
    return request.param


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


def derive(source: Path, work: Path, engine: str, *, thumb: int = 800, preview: int = 5000):
    result = imaging.make_derivatives(
        source,
        thumb_path=work / "thumb.webp",
        thumb_size=thumb,
        thumb_quality=50,
        preview_path=work / "preview.webp",
        preview_size=preview,
        preview_quality=60,
        engine=engine,
    )
    assert result.engine == engine
    return result


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


def test_read_exif_keeps_the_wall_clock_and_records_offset_time_original(work):
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
    info = imaging.read_exif(path)
    # 12:00 as recorded (never converted to UTC), the offset beside it.
    assert info.taken_at == datetime(2025, 7, 14, 12, 0, 0, 250000, tzinfo=UTC)
    assert info.taken_at_offset == 120


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
    assert imaging.parse_exif_datetime("2024:02:29 10:00:00\x00") == datetime(
        2024, 2, 29, 10, tzinfo=UTC
    )
    assert imaging.parse_exif_offset("garbage") is None
    assert imaging.parse_exif_offset("+24:00") is None
    assert imaging.parse_exif_offset("-05:30") == -330
    assert imaging.parse_exif_offset("+0545") == 345


def test_capture_time_text_has_an_offset_only_when_one_was_recorded():
    moment = datetime(2025, 7, 14, 9, 30, 0, 250000, tzinfo=UTC)
    assert imaging.capture_time_text(moment, None) == "2025-07-14T09:30:00.250000"
    assert imaging.capture_time_text(moment, 120) == "2025-07-14T09:30:00.250000+02:00"
    assert imaging.capture_time_text(moment, -330) == "2025-07-14T09:30:00.250000-05:30"
    assert imaging.capture_time_text(None, 60) is None


# --- derivatives -----------------------------------------------------------------------------


def test_derivatives_are_webp_oriented_and_fit_their_boxes(work, engine):
    source = write(work / "a.jpg", jpeg_bytes(size=(600, 400), orientation=6))

    result = derive(source, work, engine, thumb=300, preview=500)

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
def test_derivatives_are_turned_upright(work, monkeypatch, engine, orientation, expected, workers):
    """Big enough that the preview is resized in strips when there are several workers."""
    monkeypatch.setattr(imaging, "_workers", lambda: workers)
    source = write(work / "q.jpg", quadrants_jpeg((1800, 1200), orientation=orientation))

    derive(source, work, engine, thumb=200, preview=1500)

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


def test_derivatives_never_enlarge(work, engine):
    source = write(work / "small.jpg", jpeg_bytes(size=(64, 48)))

    result = derive(source, work, engine)

    assert result.thumbnail_size == result.preview_size == (64, 48)
    for name in ("thumb.webp", "preview.webp"):
        with Image.open(work / name) as image:
            assert image.size == (64, 48)


def test_large_source_uses_default_sizes_and_draft_decoding(work, engine):
    source = write(work / "big.jpg", jpeg_bytes(size=(2400, 1600)))

    result = derive(source, work, engine, thumb=800, preview=1000)

    assert result.thumbnail_size == (800, 533)
    assert result.preview_size == (1000, 667)


def test_derivatives_are_written_atomically_and_readable(work, engine):
    source = write(work / "a.jpg", jpeg_bytes(size=(300, 200)))
    (work / "thumb.webp").write_bytes(b"old thumbnail")

    derive(source, work, engine)

    assert sorted(p.name for p in work.iterdir()) == ["a.jpg", "preview.webp", "thumb.webp"]
    mode = stat.S_IMODE((work / "thumb.webp").stat().st_mode)
    assert mode == 0o644


def test_png_with_alpha_keeps_transparency(work, engine):
    image = Image.new("RGBA", (100, 50), (10, 20, 30, 0))
    image.save(work / "a.png")

    derive(work / "a.png", work, engine)

    with Image.open(work / "thumb.webp") as thumb:
        assert thumb.mode == "RGBA"
        assert thumb.getpixel((5, 5))[3] == 0


def test_sixteen_bit_greyscale_is_scaled_not_clipped(work, engine):
    Image.new("I;16", (50, 50), 32768).save(work / "grey.png")

    derive(work / "grey.png", work, engine)

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
def test_unreadable_sources_raise_image_unreadable_and_write_nothing(work, engine, name, data):
    source = write(work / name, data)

    with pytest.raises(imaging.ImageUnreadable, match=name):
        derive(source, work, engine)
    assert sorted(p.name for p in work.iterdir()) == [name]


def test_raw_and_heic_are_not_supported(work, engine):
    raw = write(work / "a.CR2", b"II*\x00\x10\x00\x00\x00CR\x02\x00")
    heic = write(work / "b.heic", b"\x00\x00\x00\x18ftypheic")

    with pytest.raises(imaging.FormatNotSupported, match="RAW"):
        derive(raw, work, engine)
    if not imaging.can_decode("b.heic"):
        with pytest.raises(imaging.FormatNotSupported, match="HEIC"):
            derive(heic, work, engine)
    assert not imaging.can_decode("a.CR2")
    assert imaging.can_decode("a.JPG")


def test_missing_source_raises_file_not_found(work, engine):
    with pytest.raises(FileNotFoundError):
        derive(work / "nope.jpg", work, engine)


def test_fit_within_keeps_aspect_and_never_enlarges():
    assert imaging.fit_within((6000, 4000), 5000) == (5000, 3333)
    assert imaging.fit_within((4000, 6000), 800) == (533, 800)
    assert imaging.fit_within((64, 48), 800) == (64, 48)
    assert imaging.fit_within((10000, 1), 800) == (800, 1)


# --- the two engines -------------------------------------------------------------------------


def upright_corners(size: tuple[int, int], orientation: int) -> list[tuple[int, int, int]]:
    """The corner colours of ``quadrants_jpeg`` once turned upright (Pillow's exif_transpose)."""
    with Image.open(io.BytesIO(quadrants_jpeg(size, orientation=orientation))) as image:
        upright = ImageOps.exif_transpose(image)
        path = io.BytesIO()
        upright.save(path, "PNG")
    return corner_colours(path)  # type: ignore[arg-type]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_engines_agree_on_sizes_and_orientation(tmp_path, orientation):
    source = write(tmp_path / "q.jpg", quadrants_jpeg((1800, 1200), orientation=orientation))
    upright = (1200, 1800) if orientation in imaging.SWAPPED_ORIENTATIONS else (1800, 1200)
    expected = upright_corners((1800, 1200), orientation)
    results = {}
    for engine in ENGINES:
        out = tmp_path / engine
        out.mkdir()
        results[engine] = derive(source, out, engine, thumb=300, preview=1500)
        for name in ("thumb.webp", "preview.webp"):
            colours = corner_colours(out / name)
            assert all(close_to(c, e) for c, e in zip(colours, expected, strict=True)), (
                engine,
                name,
                colours,
                expected,
            )

    vips, pil = results["pyvips"], results["pillow"]
    assert vips.preview_size == pil.preview_size == (upright[0] * 5 // 6, upright[1] * 5 // 6)
    assert vips.thumbnail_size == pil.thumbnail_size
    assert max(vips.thumbnail_size) == 300
    assert vips.exif == pil.exif
    assert (vips.exif.width, vips.exif.height) == upright


@pytest.mark.parametrize("orientation", range(1, 9))
def test_vips_orientation_table_matches_pillow_exif_transpose(orientation):
    image = Image.effect_noise((30, 20), 80).convert("RGB")
    exif = Image.Exif()
    exif[Tag.Orientation] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    with Image.open(buffer) as tagged:
        expected = ImageOps.exif_transpose(tagged)
    vips_image = pyvips.Image.new_from_memory(image.tobytes(), 30, 20, 3, "uchar")

    upright = imaging._vips_upright(vips_image, orientation)

    assert (upright.width, upright.height) == expected.size
    assert upright.write_to_memory() == expected.tobytes()


def vips_encode(source: Path, pillow_format: str = "JPEG") -> imaging._Encoded:
    imaging.vips_available()  # configures libvips as make_derivatives does
    targets = imaging._Targets(
        thumb_path=source.with_suffix(".thumb.webp"),
        thumb_size=100,
        thumb_quality=50,
        preview_path=source.with_suffix(".preview.webp"),
        preview_size=200,
        preview_quality=60,
    )
    return imaging._vips_encode_derivatives(
        source,
        targets,
        pillow_format=pillow_format,
        size=(800, 600) if source.suffix == ".jpg" else (40, 30),
        orientation=1,
    )


def test_libvips_itself_refuses_truncated_data(work):
    """Not just Pillow after a fallback: libvips would otherwise pad the image with grey."""
    source = write(work / "truncated.jpg", noise_jpeg()[:30_000])

    with pytest.raises(pyvips.Error, match="premature end"):
        vips_encode(source)


def test_libvips_reads_only_the_format_pillow_identified(work):
    png = work / "a.png"
    Image.new("RGB", (40, 30), RED).save(png)
    gif = work / "a.gif"
    Image.new("RGB", (40, 30), RED).save(gif)

    assert vips_encode(png, "PNG").preview_size == (40, 30)
    with pytest.raises(imaging._VipsDeclined, match="pngload"):
        vips_encode(png, "JPEG")
    # Loaders of other formats are blocked in the process: GIF is not even recognised.
    with pytest.raises(pyvips.Error, match="not in a known format"):
        vips_encode(gif, "GIF")


def test_a_file_libvips_fails_on_is_made_with_pillow(work, monkeypatch):
    def failing(*args, **kwargs):
        raise pyvips.Error("simulated libvips failure")

    monkeypatch.setattr(imaging, "_vips_encode_derivatives", failing)
    source = write(work / "a.jpg", jpeg_bytes(size=(300, 200)))

    result = imaging.make_derivatives(
        source,
        thumb_path=work / "thumb.webp",
        thumb_size=100,
        thumb_quality=50,
        preview_path=work / "preview.webp",
        preview_size=200,
        preview_quality=60,
        engine="pyvips",
    )

    assert result.engine == "pillow"
    assert (result.thumbnail_size, result.preview_size) == ((100, 67), (200, 133))
    with Image.open(work / "thumb.webp") as thumb:
        assert thumb.size == (100, 67)


def test_engine_setting_resolves_and_falls_back_without_pyvips(monkeypatch):
    assert imaging.resolve_engine("auto") == "pyvips"
    assert imaging.resolve_engine(" PyVips ") == "pyvips"
    assert imaging.resolve_engine("pillow") == "pillow"
    with pytest.raises(ValueError, match="imagemagick"):
        imaging.resolve_engine("imagemagick")

    monkeypatch.setattr(imaging, "vips_available", lambda: False)

    assert imaging.resolve_engine("auto") == "pillow"
    with pytest.raises(RuntimeError, match="pyvips"):
        imaging.resolve_engine("pyvips")


def test_sixteen_bit_rgb_is_scaled_to_eight_bits(work, engine):
    # Pillow cannot write 16-bit RGB; libvips can.
    pixels = pyvips.Image.black(60, 40).cast("ushort").new_from_image([65535, 32768, 0])
    pixels.copy(interpretation="rgb16").pngsave(str(work / "rgb16.png"))
    assert pyvips.Image.new_from_file(str(work / "rgb16.png")).format == "ushort"

    derive(work / "rgb16.png", work, engine)

    with Image.open(work / "preview.webp") as preview:
        assert preview.mode == "RGB"
        assert close_to(preview.getpixel((30, 20)), (255, 128, 0))


def test_cmyk_jpeg_is_converted_to_rgb(work, engine):
    Image.new("CMYK", (120, 80), (0, 255, 255, 0)).save(work / "cmyk.jpg")

    derive(work / "cmyk.jpg", work, engine)

    with Image.open(work / "thumb.webp") as thumb:
        assert thumb.mode == "RGB"
        assert close_to(thumb.getpixel((60, 40)), RED)


def test_rgb_icc_profile_is_kept_and_exif_is_not(work, engine):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = work / "a.jpg"
    write(path, jpeg_bytes(size=(300, 200), orientation=6, make="Canon"))
    with Image.open(path) as image:
        image.save(path, "JPEG", icc_profile=profile, exif=image.getexif().tobytes())

    derive(path, work, engine)

    for name in ("thumb.webp", "preview.webp"):
        with Image.open(work / name) as image:
            assert image.info.get("icc_profile") == profile
            assert "exif" not in image.info
            assert not image.getexif()


def test_a_grey_icc_profile_is_dropped_with_the_grey(work, engine):
    """The pixels are written as RGB; a GRAY profile would not describe them."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[16:20] = b"GRAY"
    Image.new("L", (60, 40), 128).save(work / "grey.jpg", icc_profile=bytes(profile))

    derive(work / "grey.jpg", work, engine)

    with Image.open(work / "thumb.webp") as thumb:
        assert "icc_profile" not in thumb.info
        assert close_to(thumb.convert("RGB").getpixel((30, 20)), (128, 128, 128))
