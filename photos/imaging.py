"""Image processing: EXIF reading (Pillow) and WebP derivatives (libvips, else Pillow) (SPEC §4, §6).

Pure functions over paths: no database, no settings. ``photos.derivatives`` decides what to
generate, which engine to ask for (``PIPELINE_IMAGE_ENGINE``) and records the outcome.

Every source is first opened with Pillow, which reads the headers only: that is the format
guard (only JPEG, PNG, TIFF, WebP and, with a HEIF plugin, HEIC are opened; an EPS or PSD file
named ``.jpg`` is refused before any decoder sees it) and where EXIF comes from.

Engines for the pixels:

* ``pyvips`` (libvips, from the ``pyvips-binary`` wheel): the default when it can be imported.
  One load with shrink-on-load (``thumbnail_source``) makes the preview; the thumbnail is
  reduced from the preview in memory. Loaders other than the five allowed formats are blocked
  in the process, and the loader libvips picks must agree with the format Pillow saw. Decoding
  fails on errors and truncation (``fail_on="error"``). When libvips declines or fails on a
  file, the Pillow engine makes the derivatives instead, and its verdict is final (a corrupt
  file is ``ImageUnreadable`` either way).
* ``pillow``: a source is decoded once. JPEG DCT scaling (``Image.draft``) decodes at 1/2,
  1/4 or 1/8 size when the largest derivative allows it; the thumbnail is reduced from the
  already-resized preview; orientation is applied after resizing (transposing a small image
  is cheaper). Pillow releases the GIL while it resizes and encodes, so the preview is resized
  in horizontal strips on a few threads and encoded on one thread while the thumbnail is made.

Both engines turn the image upright from the orientation Pillow read (so the recorded
orientation and the pixels never disagree), never enlarge, write 8-bit RGB(A) WebP with no
metadata but an RGB ICC profile when the source has one, and replace files atomically.

RAW files are read with LibRaw (``photos.rawfiles``): their largest embedded preview, else a
half-size demosaic, is resized by the Pillow engine. An embedded JPEG that is full size (or
fills the preview box) is the preview as it is (``preview_jpeg_path``): written undecoded with
the RAW's orientation set in its EXIF, and only the thumbnail is decoded from it. HEIC is decoded by pillow-heif (registered
here when installed); without it HEIC, like a RAW LibRaw does not read, is
``FormatNotSupported``.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import ExifTags, Image, UnidentifiedImageError

from . import rawfiles
from .fsrules import split_name, write_atomic
from .hints import Hints, image_hints
from .storage import RAW_EXTENSIONS

if TYPE_CHECKING:
    import pyvips

logger = logging.getLogger(__name__)

Tag = ExifTags.Base

try:
    import pillow_heif
except ImportError:  # HEIC is then "not supported", as the module docstring says.
    pass
else:
    pillow_heif.register_heif_opener()

try:  # JPEG XL (pillow-jxl-plugin); Pillow reads AVIF itself (libavif in its wheels).
    import pillow_jxl  # noqa: F401  (registers the JXL opener)
except ImportError:  # JPEG XL is then "not supported".
    pass

# Formats we let Pillow sniff; anything else (EPS, which would run Ghostscript, PSD, ...) is
# refused even when a file's extension says JPG.
DECODABLE_FORMATS = ("JPEG", "MPO", "PNG", "TIFF", "WEBP", "HEIF", "AVIF", "JXL")
DECODABLE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "tif", "tiff", "webp"})
# Extensions whose decoder is a plugin: decodable only when it is registered. ``hif`` is the
# HEIF of Canon, Fujifilm and Sony cameras.
PLUGIN_EXTENSIONS = {"heic": "HEIF", "heif": "HEIF", "hif": "HEIF", "avif": "AVIF", "jxl": "JXL"}
# Formats libvips is not asked to decode: the libvips of pyvips-binary has no HEVC decoder
# (patents), and its AVIF and JPEG XL support is not what Pillow checked.
PILLOW_ONLY_FORMATS = frozenset({"HEIF", "AVIF", "JXL"})
# WebP cannot hold more than 16383 pixels on a side.
WEBP_MAX_SIDE = 16383
# Encoder effort (libwebp's method): 2 gives sharp's default (4) quality against a Lanczos
# reference at at most 1.1x its bytes for a third of its encode time; 0 saves a third of the
# preview encode but writes 13-36 % more bytes (docs/BENCHMARKS.md §8).
WEBP_METHOD = 2
# The preview's effort: 1 stays within 1.1x sharp's bytes at no lower SSIM on the three
# sources of §8 (1.09x, +0.0015) for about a quarter less encode CPU than 2 (docs/BENCHMARKS.md
# §7, "The last preview back under 0.5x"). The thumbnail keeps 2: at effort 1 or 0 its bytes
# grow by a third.
PREVIEW_WEBP_METHOD = 1
# Derivatives are served like originals, whatever the file they replace had.
DERIVATIVE_MODE = 0o644
# Bicubic (antialiased when shrinking): Lanczos costs about 30% more on a 24-megapixel preview
# for no difference visible at WebP quality 50-60.
RESAMPLE = Image.Resampling.BICUBIC
# Shrink by an integer factor first (a fast box reduce), then resample the rest; a gap of 3.0
# keeps the result indistinguishable from a plain resample.
REDUCING_GAP = 3.0
# Threads per derivative run: strips of the preview resize, then preview and thumbnail at once
# (Pillow); libvips' thread pool when VIPS_CONCURRENCY is not set.
MAX_WORKERS = 4
STRIPS_PER_WORKER = 2

# Derivative engines (``PIPELINE_IMAGE_ENGINE``): "auto" is pyvips when it can be imported,
# else Pillow; "pyvips" insists on pyvips (an error when it cannot be imported); "pillow".
ENGINES = ("auto", "pyvips", "pillow")
# The libvips loaders (of a ``Source``) allowed for each format Pillow identified. An UltraHDR
# JPEG (a JPEG with a gain map) is read by uhdrload, as its SDR image.
VIPS_LOADERS: dict[str, frozenset[str]] = {
    "JPEG": frozenset({"jpegload_source", "uhdrload_source"}),
    "MPO": frozenset({"jpegload_source", "uhdrload_source"}),
    "PNG": frozenset({"pngload_source"}),
    "TIFF": frozenset({"tiffload_source"}),
    "WEBP": frozenset({"webpload_source"}),
    "HEIF": frozenset({"heifload_source"}),
}
# Every other libvips loader is blocked in the process (operation_block_set), so that not even
# a header is parsed by one (SVG, GIF, CSV, matrix, raw, .v files, ...). Class names: unblocking
# by nickname ("jpegload_base") left the file and source loaders blocked (libvips 8.18).
_VIPS_UNBLOCKED = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadUhdr",
    "VipsForeignLoadPng",
    "VipsForeignLoadTiff",
    "VipsForeignLoadWebp",
    "VipsForeignLoadHeif",
)
# (rotation clockwise, then mirror left-right) that makes an image upright, by EXIF orientation.
_VIPS_UPRIGHT: dict[int, tuple[str | None, bool]] = {
    2: (None, True),
    3: ("d180", False),
    4: ("d180", True),
    5: ("d90", True),
    6: ("d90", False),
    7: ("d270", True),
    8: ("d270", False),
}

# The transposition that makes an image upright, by EXIF orientation (as ImageOps.exif_transpose).
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPPED_ORIENTATIONS = frozenset({5, 6, 7, 8})

_EXIF_DATE = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


class ImagingError(Exception):
    """Base of the errors this module raises on purpose; the text is shown to users."""


class ImageUnreadable(ImagingError):
    """The file is not an image Pillow can decode (corrupt, truncated, or not an image)."""


class FormatNotSupported(ImagingError):
    """A file type we do not decode (RAW, HEIC without a HEIF plugin)."""


@dataclass(frozen=True)
class ExifInfo:
    """What a photo row records from its source file.

    ``width``/``height`` are the displayed size, after orientation; ``taken_at`` is the
    camera's wall clock labelled UTC, ``taken_at_offset`` its offset in minutes when recorded.
    """

    taken_at: datetime | None = None
    taken_at_offset: int | None = None
    orientation: int = 1
    width: int | None = None
    height: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


# Which derivatives one call makes (``make_derivatives(only=...)``): both by default.
THUMBNAIL = "thumbnail"
PREVIEW = "preview"
PARTS = (THUMBNAIL, PREVIEW)


@dataclass(frozen=True)
class DerivativesResult:
    exif: ExifInfo
    # ``None`` for a derivative this call did not make (``only``).
    thumbnail_size: tuple[int, int] | None
    preview_size: tuple[int, int] | None
    # The engine that made the files: "pyvips" or "pillow".
    engine: str = "pillow"
    # Culling hints computed on the thumbnail in memory (``photos.hints``); ``None`` when
    # this call made no thumbnail.
    hints: Hints | None = None
    # The preview file written: ``preview_path``, or ``preview_jpeg_path`` for a RAW's JPEG
    # kept as it is; ``None`` when this call made no preview.
    preview_file: Path | None = None


# --- EXIF ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _number(value: Any, *, digits: int = 6) -> float | None:
    """A finite float from an EXIF rational or number (JSON and PostgreSQL reject NaN)."""
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return round(number, digits)


def _integer(value: Any) -> int | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def parse_exif_datetime(value: Any, *, subsec: Any = None) -> datetime | None:
    """An EXIF ``YYYY:MM:DD HH:MM:SS`` (plus its sub-seconds) as the camera's wall clock.

    The result is labelled UTC but is not converted from anything: it is the time as the
    camera recorded it (SPEC §17, docs/SCHEMA.md "Capture time"), and its offset, when the
    file has one, is ``parse_exif_offset``'s.
    """
    text = _text(value)
    match = _EXIF_DATE.match(text) if text else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    digits = re.sub(r"\D", "", _text(subsec) or "")[:6]
    if digits:
        moment = moment.replace(microsecond=int(digits.ljust(6, "0")))
    return moment


def parse_exif_offset(value: Any) -> int | None:
    """An EXIF ``OffsetTime*`` (``+02:00``) in minutes east of UTC; ``None`` when absent."""
    offset_match = _EXIF_OFFSET.match(_text(value) or "")
    if not offset_match:
        return None
    sign, hours, minutes = offset_match.groups()
    total = int(hours) * 60 + int(minutes)
    if total >= 24 * 60 or int(minutes) >= 60:
        return None
    return -total if sign == "-" else total


def capture_time_text(moment: datetime | None, offset: int | None) -> str | None:
    """``taken_at`` as the API and events serialize it: the recorded wall clock in ISO 8601,
    with its offset when the file gave one (``2024-05-06T09:30:00+02:00``), without any when
    it did not (``2024-05-06T09:30:00``: render it as it is, never in the viewer's zone)."""
    if moment is None:
        return None
    text = moment.replace(tzinfo=None).isoformat()
    if offset is None:
        return text
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def orientation_of(exif: Image.Exif) -> int:
    value = _integer(exif.get(Tag.Orientation))
    return value if value in _TRANSPOSE or value == 1 else 1


def exif_info(image: Image.Image) -> ExifInfo:
    """EXIF of an opened (not necessarily loaded) image; its size is the stored pixel size."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # A broken EXIF block must not make a decodable image unusable.
        exif, sub = Image.Exif(), {}

    def tag(number: int) -> Any:
        return sub.get(number, exif.get(number))

    taken_at, taken_at_offset = None, None
    for date_tag, offset_tag, subsec_tag in (
        (Tag.DateTimeOriginal, Tag.OffsetTimeOriginal, Tag.SubsecTimeOriginal),
        (Tag.DateTimeDigitized, Tag.OffsetTimeDigitized, Tag.SubsecTimeDigitized),
        (Tag.DateTime, Tag.OffsetTime, Tag.SubsecTime),
    ):
        taken_at = parse_exif_datetime(tag(date_tag), subsec=tag(subsec_tag))
        if taken_at is not None:
            taken_at_offset = parse_exif_offset(tag(offset_tag))
            break

    orientation = orientation_of(exif)
    width, height = image.size
    if orientation in SWAPPED_ORIENTATIONS:
        width, height = height, width
    metadata = {
        "make": _text(exif.get(Tag.Make)),
        "model": _text(exif.get(Tag.Model)),
        "lens": _text(sub.get(Tag.LensModel)),
        "exposure_time": _number(sub.get(Tag.ExposureTime), digits=8),
        "f_number": _number(sub.get(Tag.FNumber), digits=2),
        "iso": _integer(sub.get(Tag.ISOSpeedRatings)),
        "focal_length": _number(sub.get(Tag.FocalLength), digits=2),
    }
    return ExifInfo(
        taken_at=taken_at,
        taken_at_offset=taken_at_offset,
        orientation=orientation,
        width=width,
        height=height,
        metadata=metadata,
    )


def _formats() -> list[str]:
    """The decodable formats that are registered (HEIF only with a plugin such as pillow-heif)."""
    Image.init()
    return [name for name in DECODABLE_FORMATS if name in Image.OPEN]


def can_decode(filename: str) -> bool:
    """Whether derivatives can be made from a file of this name (by extension)."""
    ext = split_name(filename)[1].lower()
    if ext in PLUGIN_EXTENSIONS:
        return PLUGIN_EXTENSIONS[ext] in _formats()
    return ext in DECODABLE_EXTENSIONS


def is_raw(filename: str) -> bool:
    return split_name(filename)[1].lower() in RAW_EXTENSIONS


def _open(path: Path) -> Image.Image:
    if is_raw(path.name):
        raise FormatNotSupported(f"{path.name}: RAW files are read with LibRaw, not Pillow.")
    try:
        return Image.open(path, formats=_formats())
    except FileNotFoundError:
        raise
    except UnidentifiedImageError:
        ext = split_name(path.name)[1].lower()
        if ext in PLUGIN_EXTENSIONS and PLUGIN_EXTENSIONS[ext] not in _formats():
            raise FormatNotSupported(
                f"{path.name}: {PLUGIN_EXTENSIONS[ext]} needs a decoder plugin (not installed)."
            )
        raise ImageUnreadable(f"{path.name}: not a readable image.")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(f"{path.name}: cannot open the image ({exc}).")


def read_exif(path: str | os.PathLike[str]) -> ExifInfo:
    """Date taken, orientation, displayed size and camera metadata of an image file.

    Reads headers only; of a RAW, the size and orientation LibRaw reads (the rest of its
    metadata comes from ``photos.metadata``). Raises ``FileNotFoundError``,
    ``FormatNotSupported`` or ``ImageUnreadable``.
    """
    path = Path(path)
    if is_raw(path.name):
        try:
            raw = rawfiles.raw_info(path)
        except rawfiles.RawNotSupported as exc:
            raise FormatNotSupported(str(exc))
        return ExifInfo(orientation=raw.orientation, width=raw.width, height=raw.height)
    with _open(path) as image:
        return exif_info(image)


# --- derivatives -----------------------------------------------------------------------------


def fit_within(size: tuple[int, int], box: int) -> tuple[int, int]:
    """``size`` scaled to fit a ``box``×``box`` square keeping its aspect, never enlarged."""
    width, height = size
    box = max(1, min(box, WEBP_MAX_SIDE))
    if width <= box and height <= box:
        return width, height
    scale = box / max(width, height)
    return max(1, min(box, round(width * scale))), max(1, min(box, round(height * scale)))


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    return image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)


def _paste_origin(
    box: tuple[int, int, int, int], size: tuple[int, int], orientation: int
) -> tuple[int, int]:
    """Top-left corner in the upright image of the rectangle ``box`` of an image of ``size``."""
    x0, y0, x1, y1 = box
    w, h = size
    return {
        2: (w - x1, y0),
        3: (w - x1, h - y1),
        4: (x0, h - y1),
        5: (y0, x0),
        6: (h - y1, x0),
        7: (h - y1, w - x1),
        8: (y0, w - x1),
    }.get(orientation, (x0, y0))


def _resize_upright(
    image: Image.Image,
    size: tuple[int, int],
    orientation: int,
    *,
    pool: ThreadPoolExecutor,
    workers: int,
) -> Image.Image:
    """``image`` resized to ``size`` and turned upright, in horizontal strips on ``pool``.

    Pillow resizes on one core but releases the GIL, so strips resized with ``box`` (which
    samples across the strip edges, so there are no seams) use every worker of the pool.
    """
    strips = STRIPS_PER_WORKER * workers if workers > 1 and size[0] * size[1] >= 1_000_000 else 1
    if strips == 1 or image.size == size:
        return _upright(_resize(image, size), orientation)
    width, height = size
    scale_y = image.size[1] / height
    bounds = [round(height * i / strips) for i in range(strips + 1)]

    def strip(i: int) -> tuple[tuple[int, int], Image.Image]:
        y0, y1 = bounds[i], bounds[i + 1]
        box = (0, y0 * scale_y, image.size[0], y1 * scale_y)
        part = image.resize((width, y1 - y0), RESAMPLE, box=box, reducing_gap=REDUCING_GAP)
        return _paste_origin((0, y0, width, y1), size, orientation), _upright(part, orientation)

    upright_size = (height, width) if orientation in SWAPPED_ORIENTATIONS else size
    out = Image.new(image.mode, upright_size)
    for origin, part in pool.map(strip, range(strips)):
        out.paste(part, origin)
    return out


def _workers() -> int:
    """Threads for one run: the cores this process may use (a pinned process gets one)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def _webp_ready(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale: scale to 8 bits rather than clipping everything above 255 to white.
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    if image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("RGB")


def _rgb_profile(profile: object) -> bytes | None:
    """``profile`` when it is an ICC profile for RGB data; a grey or CMYK one would not fit the
    RGB pixels written (an ICC header names its colour space at bytes 16-20)."""
    if isinstance(profile, bytes) and len(profile) >= 128 and profile[16:20] == b"RGB ":
        return profile
    return None


def _write_webp(
    image: Image.Image,
    path: Path,
    *,
    quality: int,
    icc_profile: bytes | None,
    method: int = WEBP_METHOD,
) -> None:
    write_atomic(
        path,
        lambda fh: image.save(
            fh, "WEBP", quality=quality, method=method, icc_profile=icc_profile or ""
        ),
        mode=DERIVATIVE_MODE,
    )


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


# --- engines ---------------------------------------------------------------------------------


@functools.cache
def vips_available() -> bool:
    """Whether pyvips and its libvips load; configures libvips for this module once.

    The operation cache is off (a path rewritten with a new photo must never give the old
    pixels), untrusted operations and every loader but the allowed ones are blocked, and the
    thread pool is the cores this process may use (at most ``MAX_WORKERS``) unless
    ``VIPS_CONCURRENCY`` says otherwise.
    """
    try:
        import pyvips
    except (ImportError, OSError) as exc:  # OSError: the libvips shared library did not load
        logger.info("pyvips is not available (%s); derivatives are made with Pillow.", exc)
        return False
    # libvips reports each step of each image at INFO (about 20 lines a photo) through the
    # "pyvips" logger; keep its warnings unless logging was configured for it.
    vips_logger = logging.getLogger("pyvips")
    if vips_logger.level == logging.NOTSET:
        vips_logger.setLevel(logging.WARNING)
    pyvips.cache_set_max(0)
    pyvips.block_untrusted_set(True)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for name in _VIPS_UNBLOCKED:
        pyvips.operation_block_set(name, False)
    if not os.environ.get("VIPS_CONCURRENCY", "").strip():
        pyvips.concurrency_set(_workers())
    return True


def resolve_engine(engine: str = "auto") -> str:
    """The engine an ``engine`` setting means here: "pyvips" or "pillow".

    Raises ``ValueError`` for an unknown name and ``RuntimeError`` for "pyvips" when pyvips
    cannot be imported.
    """
    name = engine.strip().lower()
    if name not in ENGINES:
        raise ValueError(f"Unknown image engine {engine!r}; expected one of {', '.join(ENGINES)}.")
    if name == "pillow":
        return "pillow"
    if vips_available():
        return "pyvips"
    if name == "pyvips":
        raise RuntimeError("The image engine is 'pyvips' but pyvips/libvips cannot be imported.")
    return "pillow"


class _VipsDeclined(Exception):
    """libvips would read the file with another loader than the format Pillow identified."""


def _vips_upright(image: pyvips.Image, orientation: int) -> pyvips.Image:
    angle, mirror = _VIPS_UPRIGHT.get(orientation, (None, False))
    if angle is not None:
        image = image.rot(angle)
    return image.fliphor() if mirror else image


def _vips_webp_ready(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (with its alpha): 16-bit scaled, greyscale as RGB, other spaces converted."""
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    return image if image.format == "uchar" else image.cast("uchar")


def _vips_encode(image: pyvips.Image, *, quality: int, effort: int = WEBP_METHOD) -> bytes:
    import pyvips

    profile = image.get("icc-profile-data") if image.get_typeof("icc-profile-data") else None
    keep = pyvips.ForeignKeep.ICC if _rgb_profile(profile) else pyvips.ForeignKeep.NONE
    return image.webpsave_buffer(Q=quality, effort=effort, keep=keep)


def _vips_hints(image: pyvips.Image) -> Hints:
    """``photos.hints`` of a libvips image in memory (8-bit sRGB, with or without alpha)."""
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
    pil = Image.frombytes(mode, (image.width, image.height), image.write_to_memory())
    return image_hints(pil)


@dataclass(frozen=True)
class _Encoded:
    thumb: bytes | None
    thumb_size: tuple[int, int] | None
    preview: bytes | None
    preview_size: tuple[int, int] | None
    hints: Hints | None = None

    def write(self, *, thumb_path: Path | None, preview_path: Path | None) -> None:
        if self.preview is not None and preview_path is not None:
            data = self.preview
            write_atomic(preview_path, lambda fh: fh.write(data), mode=DERIVATIVE_MODE)
        if self.thumb is not None and thumb_path is not None:
            thumb = self.thumb
            write_atomic(thumb_path, lambda fh: fh.write(thumb), mode=DERIVATIVE_MODE)


@dataclass(frozen=True)
class _Targets:
    """What to make: both derivatives (or the one ``only`` names), their files and sizes."""

    thumb_path: Path
    thumb_size: int
    thumb_quality: int
    preview_path: Path
    preview_size: int
    preview_quality: int
    only: str | None = None
    # Where a RAW's embedded JPEG goes as the preview, as it is; ``None``: always a WebP.
    preview_jpeg_path: Path | None = None


def _vips_encode_derivatives(
    source: Path,
    targets: _Targets,
    *,
    data: bytes | None = None,
    pillow_format: str,
    size: tuple[int, int],
    orientation: int,
) -> _Encoded:
    """Both derivatives (or the one ``only`` names) as WebP bytes, made by libvips; nothing
    is written.

    ``pillow_format`` and ``size`` are what Pillow saw; libvips must see the same. The sizes
    are ``fit_within`` of ``size``, as with Pillow (the thumbnail is reduced from the preview,
    so its own rounding could otherwise differ by a pixel). Raises ``pyvips.Error`` (a decode
    or encode failure) or ``_VipsDeclined``. ``data``: the image in memory (a RAW's embedded
    JPEG) instead of the file ``source``.
    """
    import pyvips

    def opened() -> pyvips.Source:
        if data is not None:
            return pyvips.Source.new_from_memory(data)
        # A Source, not a file name: libvips would read "name[options]" as load options.
        return pyvips.Source.new_from_file(str(source))

    header = pyvips.Image.new_from_source(opened(), "", access="sequential")
    loader = header.get("vips-loader") if header.get_typeof("vips-loader") else None
    if loader not in VIPS_LOADERS.get(pillow_format, frozenset()):
        raise _VipsDeclined(f"libvips reads it with {loader}, Pillow as {pillow_format}")
    if (header.width, header.height) != size:
        raise _VipsDeclined(f"libvips sees {header.width}×{header.height}, Pillow {size}")

    def load(target: tuple[int, int]) -> pyvips.Image:
        image = pyvips.Image.thumbnail_source(
            opened(),
            target[0],
            height=target[1],
            size="force",  # exactly fit_within's size: never larger than the source
            no_rotate=True,  # upright from the orientation Pillow read, below
            # Corrupt and truncated data is an error, not grey pixels. As a load option: the
            # fail_on argument of thumbnail_source does not reach the loader (libvips 8.18).
            option_string="fail_on=error",
        )
        # Decode, resize and convert now, into memory: the thumbnail is reduced from this.
        return _vips_webp_ready(image).copy_memory()

    only = targets.only
    preview_target = fit_within(size, targets.preview_size)
    thumb_target = fit_within(size, targets.thumb_size)
    # A thumbnail alone is loaded straight at its size: shrink-on-load decodes a JPEG at 1/2,
    # 1/4 or 1/8 scale, several times cheaper than the preview's full decode.
    preview = load(preview_target) if only != THUMBNAIL else None
    thumb: pyvips.Image | None = None
    if only == PREVIEW:
        pass
    elif preview is None:
        thumb = load(thumb_target)
    elif thumb_target == preview_target:
        thumb = preview
    elif thumb_target[0] <= preview_target[0] and thumb_target[1] <= preview_target[1]:
        # From the preview in memory: about a quarter of a second load from the file.
        thumb = preview.thumbnail_image(
            thumb_target[0], height=thumb_target[1], size="force", no_rotate=True
        )
    else:  # a thumbnail box larger than the preview's
        thumb = load(thumb_target)
    if preview is not None:
        preview = _vips_upright(preview, orientation)
    if thumb is not None:
        thumb = _vips_upright(thumb, orientation)
    return _Encoded(
        thumb=_vips_encode(thumb, quality=targets.thumb_quality) if thumb is not None else None,
        thumb_size=(thumb.width, thumb.height) if thumb is not None else None,
        preview=(
            _vips_encode(preview, quality=targets.preview_quality, effort=PREVIEW_WEBP_METHOD)
            if preview is not None
            else None
        ),
        preview_size=(preview.width, preview.height) if preview is not None else None,
        hints=_vips_hints(thumb) if thumb is not None else None,
    )


def _vips_written(source: Path, targets: _Targets, **seen: Any) -> _Encoded | None:
    """The derivatives made by libvips and written, or ``None`` when libvips declines or fails
    on the image (logged: the caller makes them with Pillow). ``seen``: what Pillow saw, for
    ``_vips_encode_derivatives``."""
    import pyvips

    try:
        encoded = _vips_encode_derivatives(source, targets, **seen)
    except (pyvips.Error, _VipsDeclined) as exc:
        message = " ".join(str(exc).split())
        logger.info("%s: libvips cannot make it (%s); trying Pillow.", source.name, message)
        return None
    encoded.write(thumb_path=targets.thumb_path, preview_path=targets.preview_path)
    return encoded


def _pillow_derivatives(
    image: Image.Image, info: ExifInfo, *, name: str, targets: _Targets
) -> DerivativesResult:
    """The Pillow engine, on an opened (not yet loaded) image; both derivatives, or the one
    ``only`` names."""
    only = targets.only
    thumb_path, thumb_quality = targets.thumb_path, targets.thumb_quality
    preview_path, preview_quality = targets.preview_path, targets.preview_quality
    preview_target = fit_within(image.size, targets.preview_size)
    thumb_target = fit_within(image.size, targets.thumb_size)
    swapped = info.orientation in SWAPPED_ORIENTATIONS
    from_preview = preview_target[0] >= thumb_target[0] and preview_target[1] >= thumb_target[1]
    if only == THUMBNAIL:
        decode_for = thumb_target
    elif only == PREVIEW or from_preview:
        decode_for = preview_target
    else:
        decode_for = thumb_target
    try:
        # JPEG only: decode at 1/2, 1/4 or 1/8 scale while that still covers the larger one.
        image.draft("RGB", decode_for)
        image.load()
        decoded = _webp_ready(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(f"{name}: cannot decode the image ({exc}).")
    icc_profile = _rgb_profile(image.info.get("icc_profile"))
    if only == THUMBNAIL:
        thumb = _upright(_resize(decoded, thumb_target), info.orientation)
        _write_webp(thumb, thumb_path, quality=thumb_quality, icc_profile=icc_profile)
        return DerivativesResult(
            exif=info,
            thumbnail_size=thumb.size,
            preview_size=None,
            engine="pillow",
            hints=image_hints(thumb),
        )

    workers = _workers()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imaging") as pool:
        preview = _resize_upright(
            decoded, preview_target, info.orientation, pool=pool, workers=workers
        )
        preview_done = pool.submit(
            _write_webp,
            preview,
            preview_path,
            quality=preview_quality,
            icc_profile=icc_profile,
            method=PREVIEW_WEBP_METHOD,
        )
        if only == PREVIEW:
            preview_done.result()
            return DerivativesResult(
                exif=info, thumbnail_size=None, preview_size=preview.size, engine="pillow"
            )
        # Reduce the thumbnail from the already resized preview (the usual case).
        if from_preview:
            upright_target = thumb_target[::-1] if swapped else thumb_target
            thumb = _resize(preview, upright_target)
        else:
            thumb = _upright(_resize(decoded, thumb_target), info.orientation)
        _write_webp(thumb, thumb_path, quality=thumb_quality, icc_profile=icc_profile)
        hints = image_hints(thumb)
        preview_done.result()
    return DerivativesResult(
        exif=info,
        thumbnail_size=thumb.size,
        preview_size=preview.size,
        engine="pillow",
        hints=hints,
    )


def make_derivatives(
    source: str | os.PathLike[str],
    *,
    thumb_path: str | os.PathLike[str],
    thumb_size: int,
    thumb_quality: int,
    preview_path: str | os.PathLike[str],
    preview_size: int,
    preview_quality: int,
    engine: str = "auto",
    only: str | None = None,
    preview_jpeg_path: str | os.PathLike[str] | None = None,
) -> DerivativesResult:
    """Decode ``source`` and write its thumbnail and preview as WebP.

    ``only`` (``THUMBNAIL`` or ``PREVIEW``) makes that derivative alone and leaves the other
    file untouched: a thumbnail alone is decoded at the smallest scale that covers it
    (shrink-on-load), so thumbnails of a whole upload can exist before any preview.

    Each derivative fits its ``size``×``size`` square, keeps the aspect ratio, is never
    enlarged and is turned upright from the EXIF orientation. Files are replaced atomically.
    The folders of both paths must exist. ``engine`` is one of ``ENGINES`` (see
    ``resolve_engine``); a file libvips declines or fails on is made with Pillow.

    A RAW source (by extension) is read with ``photos.rawfiles``: its largest embedded
    preview that fills the thumbnail (a JPEG: libvips shrink-on-load when the engine allows,
    as for a JPEG file), else a half-size demosaic (Pillow); the recorded size and orientation
    are the RAW's. With ``preview_jpeg_path``, an embedded JPEG that is full size or fills the
    preview box is written there as the preview, as it is (``rawfiles.jpeg_oriented``: not
    decoded, not re-encoded), and the thumbnail is decoded from it at the smallest scale
    (shrink-on-load, or Pillow's ``draft``); ``preview_file`` in the result says which file
    the preview is.

    Raises ``FileNotFoundError`` (no source), ``FormatNotSupported`` (a RAW LibRaw does not
    read, HEIC without a plugin) or ``ImageUnreadable`` (corrupt or truncated source). Errors
    while writing (a full disk) are raised as the ``OSError`` they are.
    """
    if only is not None and only not in PARTS:
        raise ValueError(f"Unknown derivative {only!r}; expected one of {', '.join(PARTS)}.")
    source = Path(source)
    targets = _Targets(
        thumb_path=Path(thumb_path),
        thumb_size=thumb_size,
        thumb_quality=thumb_quality,
        preview_path=Path(preview_path),
        preview_size=preview_size,
        preview_quality=preview_quality,
        only=only,
        preview_jpeg_path=Path(preview_jpeg_path) if preview_jpeg_path is not None else None,
    )
    if is_raw(source.name):
        return _raw_derivatives(source, engine=engine, targets=targets)
    use_vips = resolve_engine(engine) == "pyvips"
    # Keep the work inside the block: closing a Pillow image drops its decoded pixels.
    with _open(source) as image:
        info = exif_info(image)
        # The libvips of pyvips-binary has no HEVC decoder (patents): HEIC goes to Pillow
        # (pillow-heif) at once instead of failing in libvips first.
        if use_vips and image.format not in PILLOW_ONLY_FORMATS:
            encoded = _vips_written(
                source,
                targets,
                pillow_format=image.format or "",
                size=image.size,
                orientation=info.orientation,
            )
            if encoded is not None:
                return DerivativesResult(
                    exif=info,
                    thumbnail_size=encoded.thumb_size,
                    preview_size=encoded.preview_size,
                    engine="pyvips",
                    hints=encoded.hints,
                    preview_file=targets.preview_path if encoded.preview_size else None,
                )
        made = _pillow_derivatives(image, info, name=source.name, targets=targets)
        return replace(made, preview_file=targets.preview_path if made.preview_size else None)


def webp_fitted(source: Path, box: int, *, quality: int, engine: str = "auto") -> bytes:
    """A derivative ``source`` (the preview: WebP, or a RAW's JPEG as it is) fitted within
    ``box``, upright, as WebP bytes: the loupe's screen-sized image (``photos.screen``).

    libvips decodes at a reduced scale where the format allows (shrink-on-load); Pillow
    reduces a JPEG while decoding (``draft``). Raises ``ImageUnreadable``.
    """
    if resolve_engine(engine) == "pyvips":
        import pyvips

        try:
            image = pyvips.Image.thumbnail_source(
                pyvips.Source.new_from_file(str(source)),
                box,
                height=box,
                size="down",
                option_string="fail_on=error",
            )
            return _vips_encode(_vips_webp_ready(image), quality=quality)
        except pyvips.Error as exc:
            raise ImageUnreadable(f"{source.name}: cannot decode the image ({exc}).") from exc
    try:
        with Image.open(source) as opened:
            opened.draft("RGB", (box, box))
            orientation = orientation_of(opened.getexif())
            image = _webp_ready(opened)
            image.thumbnail((box, box), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(f"{source.name}: cannot decode the image ({exc}).") from exc
    buffer = io.BytesIO()
    _upright(image, orientation).save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.getvalue()


def _raw_pixels(source: Path, *, min_side: int, embedded: bool = True) -> rawfiles.RawPixels:
    try:
        return rawfiles.raw_pixels(source, min_side=min_side, embedded=embedded)
    except rawfiles.RawNotSupported as exc:
        raise FormatNotSupported(str(exc))


def _raw_encode(
    source: Path, raw: rawfiles.RawPixels, *, use_vips: bool, targets: _Targets
) -> tuple[tuple[int, int] | None, tuple[int, int] | None, str, Hints | None]:
    """Write both derivatives of RAW pixels: an embedded JPEG through libvips when allowed
    (shrink-on-load, as for a JPEG file), else Pillow. Thumbnail size, preview size, engine,
    hints."""
    if use_vips and raw.jpeg is not None:
        encoded = _vips_written(
            source,
            targets,
            data=raw.jpeg,
            pillow_format="JPEG",
            size=raw.image.size,
            orientation=raw.orientation,
        )
        if encoded is not None:
            return encoded.thumb_size, encoded.preview_size, "pyvips", encoded.hints
    with raw.image as image:
        result = _pillow_derivatives(
            image, ExifInfo(orientation=raw.orientation), name=source.name, targets=targets
        )
    return result.thumbnail_size, result.preview_size, "pillow", result.hints


def _raw_derivatives(source: Path, *, engine: str, targets: _Targets) -> DerivativesResult:
    """Derivatives of a RAW from the pixels ``rawfiles.raw_pixels`` picks.

    An embedded preview that turns out corrupt when decoded is no usable preview: the RAW is
    demosaiced instead (a corrupt RAW then fails as ``FormatNotSupported``).
    """
    use_vips = resolve_engine(engine) == "pyvips"
    raw = _raw_pixels(source, min_side=targets.thumb_size)
    as_is = _raw_preview_as_is(source, raw, use_vips=use_vips, targets=targets)
    if as_is is not None:
        return as_is
    try:
        thumb, preview, used, hints = _raw_encode(source, raw, use_vips=use_vips, targets=targets)
    except ImageUnreadable as exc:
        if raw.source != rawfiles.EMBEDDED_PREVIEW:
            raise
        logger.info("%s: the embedded preview does not decode (%s); demosaicing.", source.name, exc)
        raw = _raw_pixels(source, min_side=targets.thumb_size, embedded=False)
        thumb, preview, used, hints = _raw_encode(source, raw, use_vips=False, targets=targets)
    info = ExifInfo(
        orientation=raw.info.orientation,
        width=raw.info.width,
        height=raw.info.height,
        metadata={"derivative_source": raw.source},
    )
    return DerivativesResult(
        exif=info,
        thumbnail_size=thumb,
        preview_size=preview,
        engine=used,
        hints=hints,
        preview_file=targets.preview_path if preview is not None else None,
    )


def _raw_preview_as_is(
    source: Path, raw: rawfiles.RawPixels, *, use_vips: bool, targets: _Targets
) -> DerivativesResult | None:
    """The derivatives of a RAW whose embedded JPEG is its preview as it is (SPEC §4), or
    ``None`` when it is not such a RAW (no ``preview_jpeg_path``, no JPEG, one smaller than
    both the RAW and the preview box, one cut short) or its JPEG does not decode for the
    thumbnail (the caller then takes the usual path, which demosaics).

    The thumbnail is made first, from the JPEG at the smallest decode scale that covers it,
    so that a JPEG that does not decode never becomes a preview.
    """
    jpeg_path = targets.preview_jpeg_path
    if jpeg_path is None or targets.only == THUMBNAIL or raw.jpeg is None:
        return None
    if raw.source != rawfiles.EMBEDDED_PREVIEW:
        return None
    wanted = min(targets.preview_size, max(raw.info.width, raw.info.height))
    if max(raw.image.size) < wanted or not rawfiles.jpeg_complete(raw.jpeg):
        return None
    stored = raw.image.size
    thumb = hints = None
    used = "as is"
    if targets.only != PREVIEW:
        try:
            thumb, _, used, hints = _raw_encode(
                source, raw, use_vips=use_vips, targets=replace(targets, only=THUMBNAIL)
            )
        except ImageUnreadable as exc:
            logger.info("%s: the embedded JPEG does not decode (%s).", source.name, exc)
            return None
    data = rawfiles.jpeg_oriented(raw.jpeg, raw.orientation)
    write_atomic(jpeg_path, lambda fh: fh.write(data), mode=DERIVATIVE_MODE)
    swapped = raw.orientation in SWAPPED_ORIENTATIONS
    info = ExifInfo(
        orientation=raw.info.orientation,
        width=raw.info.width,
        height=raw.info.height,
        metadata={"derivative_source": raw.source},
    )
    return DerivativesResult(
        exif=info,
        thumbnail_size=thumb,
        preview_size=stored[::-1] if swapped else stored,
        engine=used,
        hints=hints,
        preview_file=jpeg_path,
    )
