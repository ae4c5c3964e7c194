"""Capture metadata of any original (SPEC §3, §6): JPEG, HEIC, TIFF, PNG, WebP and the RAW
formats of SPEC §4, read with exiv2 (``pyexiv2``), which parses RAW containers (CR2, CR3, NEF,
ARW, DNG, RAF, ORF, RW2) as well as ISO BMFF (HEIC, CR3) and embedded XMP.

Pure functions over paths: no database, no settings. Only headers are read. Orientation and
pixel size are not taken from here for derivatives: the decoder that turns the pixels upright
(``photos.imaging``) records them, so that the row and the pixels never disagree (pillow-heif,
for one, applies a HEIC's rotation itself).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyexiv2

from .imaging import parse_exif_datetime, parse_exif_offset
from .xmp import RatingLabel, rating_label_parse

logger = logging.getLogger(__name__)

pyexiv2.set_log_level(4)

# Capture time: DateTimeOriginal → CreateDate (Digitized) → ModifyDate, each with its offset
# and sub-seconds.
_DATES = (
    (
        "Exif.Photo.DateTimeOriginal",
        "Exif.Photo.OffsetTimeOriginal",
        "Exif.Photo.SubSecTimeOriginal",
    ),
    (
        "Exif.Photo.DateTimeDigitized",
        "Exif.Photo.OffsetTimeDigitized",
        "Exif.Photo.SubSecTimeDigitized",
    ),
    ("Exif.Image.DateTime", "Exif.Photo.OffsetTime", "Exif.Photo.SubSecTime"),
)
_LENS_KEYS = (
    "Exif.Photo.LensModel",
    "Xmp.aux.Lens",
    "Xmp.exifEX.LensModel",
    "Exif.Canon.LensModel",
    "Exif.OlympusEq.LensModel",
    "Exif.Panasonic.LensType",
    "Exif.Fujifilm.LensModel",
)
_ISO_KEYS = (
    "Exif.Photo.ISOSpeedRatings",
    "Exif.Photo.RecommendedExposureIndex",
    "Exif.Photo.StandardOutputSensitivity",
    "Exif.Image.ISOSpeedRatings",
)
# Text fields are capped at the model's column length.
TEXT_MAX = 255


@dataclass(frozen=True)
class PhotoMetadata:
    """What one file says about the photo; ``None`` (or ``""``) where it says nothing."""

    taken_at: datetime | None = None
    # Minutes east of UTC, from the offset tag of the date ``taken_at`` came from.
    taken_at_offset: int | None = None
    camera: str = ""
    lens: str = ""
    focal_length: float | None = None
    aperture: float | None = None
    shutter: float | None = None
    iso: int | None = None
    orientation: int | None = None
    width: int | None = None
    height: int | None = None
    rating: int | None = None
    label: str | None = None
    # Embedded XMP: Lightroom's reject (``True``, else ``None``) and ``dc:subject`` keywords.
    rejected: bool | None = None
    keywords: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def merged(self, other: PhotoMetadata) -> PhotoMetadata:
        """This metadata with its gaps filled from ``other`` (a second file of the photo)."""
        values: dict[str, Any] = {}
        for item in fields(self):
            mine = getattr(self, item.name)
            if item.name == "extra":
                values["extra"] = {**other.extra, **mine}
            elif item.name == "taken_at_offset":  # goes with the date it was read with
                values[item.name] = mine if self.taken_at is not None else other.taken_at_offset
            else:
                values[item.name] = mine if mine not in (None, "") else getattr(other, item.name)
        return PhotoMetadata(**values)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):  # XMP lang-alt: {'lang="x-default"': "..."}
        value = next(iter(value.values()), "")
    if not isinstance(value, str):
        return ""
    text = value.replace("\x00", "").strip()
    return " ".join(text.split())[:TEXT_MAX]


def _number(value: Any) -> float | None:
    """A positive finite number from an exiv2 value: ``"28/10"``, ``"400"``, ``"400 0"``."""
    text = _text(value)
    if not text:
        return None
    try:
        number = float(Fraction(text.split()[0]))
    except (ValueError, ZeroDivisionError):
        return None
    return number if 0 < number < 1e9 else None


def camera_name(make: str, model: str) -> str:
    """``"Canon" + "Canon EOS R5"`` → ``"Canon EOS R5"``; ``"NIKON CORPORATION" + "NIKON Z 6"``
    → ``"NIKON Z 6"``; ``"Sony" + "ILCE-7M4"`` → ``"Sony ILCE-7M4"``."""
    if not model:
        return make
    first = make.split()[0].lower() if make else ""
    if not first or model.lower().startswith(first):
        return model
    return f"{make} {model}"[:TEXT_MAX]


def _first(values: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        text = _text(values.get(key))
        if text:
            return text
    return ""


def _read(image: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    def safe(reader: Any) -> dict[str, Any]:
        for encoding in ("utf-8", "latin-1"):
            try:
                return reader(encoding=encoding) or {}
            except UnicodeDecodeError:
                continue
            except RuntimeError:
                return {}
        return {}

    return safe(image.read_exif), safe(image.read_xmp)


def metadata_from_tags(exif: dict[str, Any], xmp: dict[str, Any]) -> PhotoMetadata:
    """``PhotoMetadata`` from exiv2's EXIF and XMP keys (``Exif.Photo.FNumber`` …)."""
    taken_at, taken_at_offset = None, None
    for date_key, offset_key, subsec_key in _DATES:
        taken_at = parse_exif_datetime(exif.get(date_key), subsec=exif.get(subsec_key))
        if taken_at is not None:
            taken_at_offset = parse_exif_offset(exif.get(offset_key))
            break
    if taken_at is None:
        # XMP dates are ISO 8601 with their offset ("2024-05-06T07:08:09.12+02:00").
        for key in ("Xmp.exif.DateTimeOriginal", "Xmp.photoshop.DateCreated", "Xmp.xmp.CreateDate"):
            text = _text(xmp.get(key))
            try:
                moment = datetime.fromisoformat(text) if text else None
            except ValueError:
                moment = None
            if moment is not None:
                taken_at = parse_exif_datetime(
                    moment.strftime("%Y:%m:%d %H:%M:%S"),
                    subsec=f"{moment.microsecond:06d}" if moment.microsecond else None,
                )
                taken_at_offset = parse_exif_offset(moment.strftime("%z") or None)
                break
    make = _text(exif.get("Exif.Image.Make")) or _text(xmp.get("Xmp.tiff.Make"))
    model = _text(exif.get("Exif.Image.Model")) or _text(xmp.get("Xmp.tiff.Model"))
    iso = _number(_first(exif, _ISO_KEYS))
    orientation = _number(exif.get("Exif.Image.Orientation"))
    rated: RatingLabel = rating_label_parse(xmp)
    return PhotoMetadata(
        taken_at=taken_at,
        taken_at_offset=taken_at_offset if taken_at is not None else None,
        camera=camera_name(make, model),
        lens=_first(exif, _LENS_KEYS) or _first(xmp, _LENS_KEYS),
        focal_length=_round(_number(exif.get("Exif.Photo.FocalLength")), 2),
        aperture=_round(_number(exif.get("Exif.Photo.FNumber")), 2),
        shutter=_round(_number(exif.get("Exif.Photo.ExposureTime")), 8),
        iso=int(iso) if iso else None,
        orientation=int(orientation) if orientation and 1 <= orientation <= 8 else None,
        rating=rated.rating,
        label=rated.label,
        rejected=True if rated.rejected else None,
        keywords=rated.keywords or None,
        extra={
            key: value
            for key, value in (
                ("make", make),
                ("model", model),
                ("offset", _text(exif.get("Exif.Photo.OffsetTimeOriginal"))),
                ("lens_make", _text(exif.get("Exif.Photo.LensMake"))),
                ("serial", _text(exif.get("Exif.Photo.BodySerialNumber"))),
            )
            if value
        },
    )


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def read_metadata(path: str | Path) -> PhotoMetadata:
    """Capture metadata of one file of any accepted class; empty when exiv2 cannot read it.

    Raises only ``FileNotFoundError``: metadata is best effort, and a file exiv2 does not
    parse still gets its derivatives.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        # exiv2 maps the file and parses headers; no pixel data is decoded.
        image = pyexiv2.Image(str(path))
    except (RuntimeError, UnicodeDecodeError, OSError) as exc:
        logger.info("%s: no metadata read (%s).", path.name, exc)
        return PhotoMetadata()
    try:
        exif, xmp = _read(image)
        meta = metadata_from_tags(exif, xmp)
        width, height = image.get_pixel_width(), image.get_pixel_height()
    finally:
        image.close()
    if width and height:
        return PhotoMetadata(**{**meta.__dict__, "width": width, "height": height})
    return meta


def read_metadata_bytes(data: bytes) -> PhotoMetadata:
    """``read_metadata`` of a file held in memory (an upload not staged on disk); best effort."""
    try:
        image = pyexiv2.ImageData(data)
    except (RuntimeError, UnicodeDecodeError, OSError, ValueError):
        return PhotoMetadata()
    try:
        exif, xmp = _read(image)
        return metadata_from_tags(exif, xmp)
    finally:
        image.close()
