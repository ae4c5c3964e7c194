"""RAW files read with LibRaw (the ``rawpy`` wheels bundle it) (SPEC §4).

Pure functions over paths: no database, no settings. ``photos.imaging`` turns what this
module returns into derivatives and maps its errors to its own.

A RAW's pixels for derivatives come from the largest embedded preview LibRaw finds (the JPEG
a camera or converter stored, handed over undecoded), else from a half-size demosaic of the
sensor data (four times fewer pixels than a full one, and no interpolation: fast enough for a
5000-pixel preview). An embedded preview too small to fill ``min_side`` (the 160-pixel EXIF
thumbnail of some cameras) is not used: the demosaic looks better.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import rawpy
from PIL import Image

# rawpy warns on its first read in any process forked by ``multiprocessing`` (every django-q
# worker): LibRaw's OpenMP thread pool deadlocks in a child forked from a parent that had
# started one. No parent here ever reads a RAW (the cluster's sentinel forks workers before
# any job, and the web and command processes are not forked by multiprocessing), so each
# worker's pool is its own; the warning would only alarm an operator on the first RAW.
# tests/test_rawfiles_fork.py reads a RAW in a forked child and checks no warning surfaces.
warnings.filterwarnings(
    "ignore",
    message="rawpy is being used in a process created by multiprocessing",
    category=RuntimeWarning,
)

EMBEDDED_PREVIEW = "embedded preview"
DEMOSAIC = "half-size demosaic"
# LibRaw's ``flip`` (dcraw's convention) as an EXIF orientation.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


class RawNotSupported(Exception):
    """No pixels from this RAW: LibRaw does not read it (an unknown, renamed or truncated
    file), or it has neither a usable preview nor sensor data LibRaw decodes. The text names
    the file and LibRaw's reason.
    """


@dataclass(frozen=True)
class RawInfo:
    """The photo a RAW holds: its displayed size (after orientation) and EXIF orientation."""

    width: int
    height: int
    orientation: int


@dataclass
class RawPixels:
    """Pixels to make derivatives from.

    ``image`` is to be turned upright with ``orientation`` (1 for a demosaic, which LibRaw has
    already turned); ``source`` says where the pixels came from. An embedded JPEG is opened,
    not decoded (its headers are read), and ``jpeg`` holds its bytes for libvips.
    """

    image: Image.Image
    orientation: int
    source: str  # EMBEDDED_PREVIEW or DEMOSAIC
    info: RawInfo
    jpeg: bytes | None = None


def _libraw_errors() -> tuple[type[BaseException], ...]:
    return (rawpy.LibRawError, rawpy.NotSupportedError, OSError, ValueError)


def _why(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or type(exc).__name__


def _info(raw: object, name: str) -> RawInfo:
    sizes = raw.sizes  # type: ignore[attr-defined]
    orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
    width, height = int(sizes.width), int(sizes.height)
    if width <= 0 or height <= 0:
        raise RawNotSupported(f"{name}: not supported: LibRaw reports no image size.")
    if orientation in (6, 8):
        width, height = height, width
    return RawInfo(width=width, height=height, orientation=orientation)


def raw_info(path: str | Path) -> RawInfo:
    """Size and orientation of a RAW, from its headers (nothing is decoded).

    Raises ``FileNotFoundError`` or ``RawNotSupported``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        with rawpy.imread(str(path)) as raw:
            return _info(raw, path.name)
    except _libraw_errors() as exc:
        raise RawNotSupported(
            f"{path.name}: not supported: LibRaw cannot read this RAW file ({_why(exc)})."
        )


def _embedded(raw: object) -> tuple[Image.Image, bytes | None] | None:
    """LibRaw's largest embedded preview as a Pillow image (a JPEG opened, not yet decoded,
    with its bytes), or ``None`` when there is none it can hand out."""
    try:
        thumb = raw.extract_thumb()  # type: ignore[attr-defined]
    except rawpy.LibRawError:  # no thumbnail, an unsupported thumbnail format, bad data
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            # JPEG only: the embedded data is as untrusted as the file around it.
            data = bytes(thumb.data)
            return Image.open(io.BytesIO(data), formats=["JPEG"]), data
        return Image.fromarray(thumb.data).convert("RGB"), None
    except (OSError, SyntaxError, ValueError, TypeError, Image.DecompressionBombError):
        return None


def raw_pixels(path: str | Path, *, min_side: int, embedded: bool = True) -> RawPixels:
    """Pixels of a RAW for derivatives: the largest embedded preview whose long side reaches
    ``min_side`` (or the RAW's own long side, if smaller), else (or with ``embedded=False``)
    a half-size demosaic.

    Raises ``FileNotFoundError`` or ``RawNotSupported`` (LibRaw does not read the file, or
    neither a preview nor the sensor data decode).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        raw = rawpy.imread(str(path))
    except _libraw_errors() as exc:
        raise RawNotSupported(
            f"{path.name}: not supported: LibRaw cannot read this RAW file ({_why(exc)})."
        )
    with raw:
        info = _info(raw, path.name)
        found = _embedded(raw) if embedded else None
        wanted = min(min_side, max(info.width, info.height))
        if found is not None and max(found[0].size) >= wanted:
            return RawPixels(
                image=found[0],
                orientation=info.orientation,
                source=EMBEDDED_PREVIEW,
                info=info,
                jpeg=found[1],
            )
        try:
            pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
        except _libraw_errors() as exc:
            raise RawNotSupported(
                f"{path.name}: not supported: the RAW has no usable embedded preview and "
                f"LibRaw cannot decode it ({_why(exc)})."
            )
    # LibRaw's output is already upright.
    return RawPixels(
        image=Image.fromarray(pixels).convert("RGB"),
        orientation=1,
        source=DEMOSAIC,
        info=info,
    )
