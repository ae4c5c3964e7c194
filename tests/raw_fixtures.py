"""Real RAW containers for tests: DNG files written here, byte by byte.

A DNG is a TIFF: IFD0 holds the camera tags and (optionally) a JPEG preview, a SubIFD holds
the Bayer (CFA) data, an EXIF IFD holds date, exposure and lens. LibRaw and exiv2 read these
files as they read a camera's DNG; they are never a renamed JPEG.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from datetime import datetime

from PIL import Image

# TIFF field types.
BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_TYPE_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8}


@dataclass
class _Entry:
    tag: int
    type: int
    values: object  # bytes (ASCII/UNDEFINED/BYTE) or a list of ints / (num, den) pairs


@dataclass
class _Ifd:
    entries: list[_Entry] = field(default_factory=list)
    data: bytes = b""  # strip data (one strip)

    def add(self, tag: int, type_: int, values: object) -> None:
        self.entries.append(_Entry(tag, type_, values))


def _payload(entry: _Entry) -> tuple[int, bytes]:
    if entry.type in (ASCII, UNDEFINED, BYTE):
        raw = entry.values if isinstance(entry.values, bytes) else bytes(entry.values)  # type: ignore[arg-type]
        if entry.type == ASCII and not raw.endswith(b"\0"):
            raw += b"\0"
        return len(raw), raw
    values = list(entry.values)  # type: ignore[call-overload]
    if entry.type == SHORT:
        return len(values), struct.pack(f"<{len(values)}H", *values)
    if entry.type == LONG:
        return len(values), struct.pack(f"<{len(values)}I", *values)
    fmt = "<ii" if entry.type == SRATIONAL else "<II"
    return len(values), b"".join(struct.pack(fmt, n, d) for n, d in values)


def _rational(value: float, den: int = 10000) -> tuple[int, int]:
    return round(value * den), den


def _write_tiff(ifds: list[_Ifd], links: dict[tuple[int, int], int]) -> bytes:
    """Lay out IFDs; ``links[(ifd, tag)] = target ifd`` fills a LONG entry with an IFD offset.

    The first IFD is IFD0; strip data follows each IFD. StripOffsets (273) is filled in here.
    """
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    offsets: list[int] = []
    # Two passes: sizes first (every IFD's size does not depend on offsets).
    sizes = []
    for ifd in ifds:
        n = len(ifd.entries)
        extra = sum(
            len(_payload(e)[1]) + (len(_payload(e)[1]) & 1)
            for e in ifd.entries
            if len(_payload(e)[1]) > 4
        )
        sizes.append(2 + 12 * n + 4 + extra + len(ifd.data) + (len(ifd.data) & 1))
    position = 8
    for size in sizes:
        offsets.append(position)
        position += size
    for index, ifd in enumerate(ifds):
        base = offsets[index]
        entries = sorted(ifd.entries, key=lambda e: e.tag)
        n = len(entries)
        extra_at = base + 2 + 12 * n + 4
        extra = bytearray()
        blobs = []
        # Strip data goes after the out-of-line values.
        out_of_line = sum(
            len(_payload(e)[1]) + (len(_payload(e)[1]) & 1)
            for e in entries
            if len(_payload(e)[1]) > 4
        )
        data_at = extra_at + out_of_line
        for entry in entries:
            if entry.tag == 273:
                entry.values = [data_at]
            elif (index, entry.tag) in links:
                entry.values = [offsets[links[(index, entry.tag)]]]
            count, raw = _payload(entry)
            if len(raw) <= 4:
                value = raw.ljust(4, b"\0")
            else:
                value = struct.pack("<I", extra_at + len(extra))
                extra += raw + (b"\0" if len(raw) & 1 else b"")
            blobs.append(struct.pack("<HHI", entry.tag, entry.type, count) + value)
        block = struct.pack("<H", n) + b"".join(blobs) + struct.pack("<I", 0)
        block += bytes(extra) + ifd.data + (b"\0" if len(ifd.data) & 1 else b"")
        assert len(block) == sizes[index], (len(block), sizes[index])
        out += block
    return bytes(out)


def _jpeg(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    # A gradient so that a decoder that drops data shows it.
    for x in range(0, size[0], max(1, size[0] // 8)):
        image.paste((x * 255 // max(1, size[0]), 80, 160), (x, 0, x + 1, size[1]))
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def dng_bytes(
    *,
    raw_size: tuple[int, int] = (128, 96),
    preview_size: tuple[int, int] | None = (96, 72),
    preview_color: tuple[int, int, int] = (30, 160, 60),
    make: str = "Testcam",
    model: str = "TC-1",
    orientation: int = 1,
    taken_at: datetime | None = None,
    offset: str | None = None,
    subsec: str | None = None,
    lens: str | None = None,
    focal_length: float | None = None,
    f_number: float | None = None,
    exposure_time: tuple[int, int] | None = None,
    iso: int | None = None,
    xmp: bytes | None = None,
    bayer: bytes | None = None,
    preview_jpeg: bytes | None = None,
) -> bytes:
    """A DNG with a 16-bit RGGB Bayer image of ``raw_size`` and, unless ``preview_size`` is
    ``None``, a baseline JPEG preview of that size in IFD0 (as cameras and converters write).

    ``bayer``: the sensor data (little-endian 16-bit, 12-bit values) instead of a gradient;
    ``preview_jpeg``: the preview's JPEG bytes instead of a plain one (``preview_size`` must
    still give its size). Benchmarks pass both to build camera-sized files quickly.
    """
    width, height = raw_size
    ifd0 = _Ifd()
    raw_ifd = _Ifd()
    exif = _Ifd()
    ifds = [ifd0, raw_ifd, exif]

    ifd0.add(271, ASCII, make.encode())
    ifd0.add(272, ASCII, model.encode())
    ifd0.add(274, SHORT, [orientation])
    ifd0.add(305, ASCII, b"raw_fixtures")
    ifd0.add(50706, BYTE, [1, 4, 0, 0])  # DNGVersion
    ifd0.add(50707, BYTE, [1, 1, 0, 0])  # DNGBackwardVersion
    ifd0.add(50708, ASCII, f"{make} {model}".encode())  # UniqueCameraModel
    ifd0.add(50721, SRATIONAL, [_rational(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1)])
    ifd0.add(50778, SHORT, [21])  # CalibrationIlluminant1: D65
    ifd0.add(50728, RATIONAL, [_rational(v) for v in (0.5, 1, 0.6)])  # AsShotNeutral
    ifd0.add(330, LONG, [0])  # SubIFDs → the raw image
    ifd0.add(34665, LONG, [0])  # ExifIFD
    if xmp is not None:
        ifd0.add(700, BYTE, xmp)
    if preview_size is not None:
        preview = preview_jpeg or _jpeg(preview_size, preview_color)
        ifd0.add(254, LONG, [1])  # NewSubFileType: reduced-resolution image
        ifd0.add(256, LONG, [preview_size[0]])
        ifd0.add(257, LONG, [preview_size[1]])
        ifd0.add(258, SHORT, [8, 8, 8])
        ifd0.add(259, SHORT, [7])  # JPEG
        ifd0.add(262, SHORT, [6])  # YCbCr
        ifd0.add(273, LONG, [0])
        ifd0.add(277, SHORT, [3])
        ifd0.add(278, LONG, [preview_size[1]])
        ifd0.add(279, LONG, [len(preview)])
        ifd0.data = preview
    else:
        ifd0.add(254, LONG, [1])
        thumb = Image.new("RGB", (16, 12), preview_color).tobytes()
        ifd0.add(256, LONG, [16])
        ifd0.add(257, LONG, [12])
        ifd0.add(258, SHORT, [8, 8, 8])
        ifd0.add(259, SHORT, [1])
        ifd0.add(262, SHORT, [2])  # RGB
        ifd0.add(273, LONG, [0])
        ifd0.add(277, SHORT, [3])
        ifd0.add(278, LONG, [12])
        ifd0.add(279, LONG, [len(thumb)])
        ifd0.data = thumb

    # A smooth Bayer mosaic (RGGB) with 12-bit values.
    pixels = bytearray()
    if bayer is not None:
        pixels += bayer
    else:
        for y in range(height):
            for x in range(width):
                value = 200 + (x * 3000 // width) if (x + y) % 2 else 400 + (y * 2000 // height)
                pixels += struct.pack("<H", value)
    raw_ifd.add(254, LONG, [0])  # the main image
    raw_ifd.add(256, LONG, [width])
    raw_ifd.add(257, LONG, [height])
    raw_ifd.add(258, SHORT, [16])
    raw_ifd.add(259, SHORT, [1])
    raw_ifd.add(262, SHORT, [32803])  # CFA
    raw_ifd.add(273, LONG, [0])
    raw_ifd.add(277, SHORT, [1])
    raw_ifd.add(278, LONG, [height])
    raw_ifd.add(279, LONG, [len(pixels)])
    raw_ifd.add(284, SHORT, [1])
    raw_ifd.add(33421, SHORT, [2, 2])  # CFARepeatPatternDim
    raw_ifd.add(33422, BYTE, [0, 1, 1, 2])  # CFAPattern: RGGB
    raw_ifd.add(50717, LONG, [4095])  # WhiteLevel
    raw_ifd.data = bytes(pixels)

    exif.add(36864, UNDEFINED, b"0231")  # ExifVersion
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S").encode()
        exif.add(36867, ASCII, stamp)  # DateTimeOriginal
        exif.add(36868, ASCII, stamp)  # DateTimeDigitized
        if offset is not None:
            exif.add(36881, ASCII, offset.encode())  # OffsetTimeOriginal
        if subsec is not None:
            exif.add(37521, ASCII, subsec.encode())  # SubSecTimeOriginal
    if exposure_time is not None:
        exif.add(33434, RATIONAL, [exposure_time])
    if f_number is not None:
        exif.add(33437, RATIONAL, [_rational(f_number, 10)])
    if iso is not None:
        exif.add(34855, SHORT, [iso])
    if focal_length is not None:
        exif.add(37386, RATIONAL, [_rational(focal_length, 10)])
    if lens is not None:
        exif.add(42036, ASCII, lens.encode())  # LensModel

    return _write_tiff(ifds, links={(0, 330): 1, (0, 34665): 2})
