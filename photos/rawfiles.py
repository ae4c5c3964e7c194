"""RAW files read with LibRaw (the ``rawpy`` wheels bundle it) (SPEC §4).

Pure functions over paths: no database, no settings. ``photos.imaging`` turns what this
module returns into derivatives and maps its errors to its own.

A RAW's pixels for derivatives come from the largest embedded preview LibRaw finds (the JPEG
a camera or converter stored, handed over undecoded), else from a half-size demosaic of the
sensor data (four times fewer pixels than a full one, and no interpolation: fast enough for a
5000-pixel preview). An embedded preview too small to fill ``min_side`` (the 160-pixel EXIF
thumbnail of some cameras) is not used: the demosaic looks better.

A RAW whose embedded JPEG is full size (or fills the preview box) keeps that JPEG as its
preview as it is (``embedded_jpeg``, ``jpeg_oriented``): never decoded or re-encoded, only its
EXIF orientation set to the RAW's. The loupe's 100 % view serves the same bytes.
"""

from __future__ import annotations

import io
import struct
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


@dataclass(frozen=True)
class EmbeddedJpeg:
    """A RAW's embedded JPEG as the camera wrote it (not decoded).

    ``size`` is its stored pixel size (before orientation); ``info`` is the RAW's, whose
    ``orientation`` the JPEG is to be shown with (``jpeg_oriented``).
    """

    data: bytes
    size: tuple[int, int]
    info: RawInfo

    @property
    def upright_size(self) -> tuple[int, int]:
        """The size it is shown at, turned upright with the RAW's orientation."""
        width, height = self.size
        return (height, width) if self.info.orientation in (5, 6, 7, 8) else (width, height)


def jpeg_complete(data: bytes) -> bool:
    """Whether a JPEG ends with its end-of-image marker (padding after it allowed): a cheap
    check that an embedded preview served undecoded is not cut short."""
    return data.startswith(b"\xff\xd8") and data.rstrip(b"\x00").endswith(b"\xff\xd9")


def embedded_jpeg(path: str | Path, *, min_side: int) -> EmbeddedJpeg | None:
    """The RAW's largest embedded JPEG when it is complete and as large as the RAW itself or
    at least ``min_side`` on its long side (the preview box); ``None`` otherwise (no JPEG, a
    smaller one, a bitmap preview). Only headers are read: the JPEG is not decoded.

    Raises ``FileNotFoundError`` or ``RawNotSupported`` (LibRaw does not read the file).
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
        found = _embedded(raw)
    if found is None or found[1] is None:
        return None
    image, data = found[0], found[1]
    with image:
        size = image.size
    if max(size) < min(min_side, max(info.width, info.height)) or not jpeg_complete(data):
        return None
    return EmbeddedJpeg(data=data, size=size, info=info)


def _segments(data: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each marker segment between SOI and SOS; ``None`` when the header is
    not one we can walk (then the JPEG is not changed)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    spans: list[tuple[int, int]] = []
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # SOS: entropy-coded data follows
            return spans
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            return None
        spans.append((position, position + 2 + length))
        position += 2 + length
    return None


def jpeg_oriented(data: bytes, orientation: int) -> bytes:
    """The JPEG with its EXIF orientation set to ``orientation``, losslessly: its own Exif
    segments (which may say another orientation, or none) are replaced by one that holds only
    the Orientation tag, every other segment and the compressed data are kept byte for byte.
    Browsers, Pillow's ``exif_transpose`` and libvips turn it upright from that tag.

    Returns ``data`` unchanged when its header cannot be walked.
    """
    spans = _segments(data)
    if spans is None:
        return data
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = b"Exif\x00\x00" + exif.tobytes()
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    kept = [
        (start, end)
        for start, end in spans
        if not (data[start + 1] == 0xE1 and data[start + 4 : start + 10] == b"Exif\x00\x00")
    ]
    # After a JFIF APP0 when there is one (it must come first), else right after SOI.
    head = 2
    if kept and kept[0][0] == 2 and data[3] == 0xE0:
        head = kept[0][1]
    body = b"".join(data[s:e] for s, e in kept if s >= head)
    rest = data[spans[-1][1] :] if spans else data[2:]
    return data[:head] + app1 + body + rest


def raw_pixels(path: str | Path, *, min_side: int, embedded: bool = True) -> RawPixels:
    """Pixels of a RAW for derivatives: the largest embedded preview whose long side reaches
    ``min_side`` (or the RAW's own long side, if smaller), else (or with ``embedded=False``)
    a demosaic: half size when that reaches ``min_side`` (four times less work), else full
    size (the loupe's 100 % view, a large export).

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
        half_size = wanted <= max(info.width, info.height) // 2
        try:
            pixels = raw.postprocess(half_size=half_size, use_camera_wb=True, output_bps=8)
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
