"""The full-size image of a photo for the loupe's 100 % view (SPEC §17).

Which file: the original JPEG as it is; else the RAW's embedded JPEG when it is full size
(handed over undecoded, turned upright only when the RAW says it is rotated); else a JPEG
rendition made on demand from the other image (HEIC, PNG, TIFF, WebP) or from the RAW's
pixels (``photos.rawfiles.raw_pixels``: its largest embedded preview when that is full size,
else a full-size demosaic: every sensor pixel, for a focus check), upright.

Renditions are cached under ``PIPELINE_FULLSIZE_CACHE_DIR`` (``photos.renditions``: outside the
photographer's folders, one entry per photo and source file version).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps

from . import imaging, rawfiles, renditions, storage
from .models import Photo

FULLSIZE_QUALITY = 92
# An embedded JPEG this close to the sensor's size counts as full size (cameras store theirs
# a few pixels short of the sensor's active area).
EMBEDDED_FULL_FRACTION = 0.9
# EXIF orientations LibRaw reports (``rawfiles``) → the turn that makes the image upright.
_UPRIGHT = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_270,
    8: Image.Transpose.ROTATE_90,
}


class FullSizeUnavailable(Exception):
    """No full-size image for this photo: no original file, or none that decodes. The text
    says why."""


@dataclass(frozen=True)
class FullSize:
    """Where the full-size image is and what it is made from."""

    path: Path
    content_type: str
    source: str  # "original", "embedded", "rendition"


def cache_dir() -> Path:
    return Path(settings.PIPELINE_FULLSIZE_CACHE_DIR)


def _cache_path(photo: Photo, source: Path, kind: str) -> Path:
    return renditions.cache_entry(cache_dir(), photo, source, kind, ".jpg")


def _save_jpeg(image: Image.Image) -> Callable[[IO[bytes]], object]:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")

    def fill(fh: IO[bytes]) -> None:
        image.save(fh, "JPEG", quality=FULLSIZE_QUALITY, optimize=False)

    return fill


def _from_image(photo: Photo, source: Path) -> FullSize:
    cached = _cache_path(photo, source, "rendition")
    if not cached.is_file():
        try:
            with Image.open(source) as opened:
                image = ImageOps.exif_transpose(opened)
                image.load()
        except FileNotFoundError:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise FullSizeUnavailable(f"{source.name}: cannot decode the image ({exc}).")
        renditions.cache_write(cached, _save_jpeg(image))
    return FullSize(path=cached, content_type="image/jpeg", source="rendition")


def _from_raw(photo: Photo, source: Path) -> FullSize:
    embedded = _cache_path(photo, source, "embedded")
    rendition = _cache_path(photo, source, "rendition")
    for cached, kind in ((embedded, "embedded"), (rendition, "rendition")):
        if cached.is_file():
            return FullSize(path=cached, content_type="image/jpeg", source=kind)
    try:
        info = rawfiles.raw_info(source)
        wanted = int(max(info.width, info.height) * EMBEDDED_FULL_FRACTION)
        pixels = rawfiles.raw_pixels(source, min_side=wanted)
    except rawfiles.RawNotSupported as exc:
        raise FullSizeUnavailable(str(exc))
    if pixels.source == rawfiles.EMBEDDED_PREVIEW and pixels.jpeg and pixels.orientation == 1:
        # The camera's JPEG as it is: no decode, no re-encode.
        data = pixels.jpeg

        def fill(fh: IO[bytes]) -> None:
            fh.write(data)

        renditions.cache_write(embedded, fill)
        return FullSize(path=embedded, content_type="image/jpeg", source="embedded")
    try:
        image = pixels.image
        image.load()
        if pixels.orientation != 1:
            image = image.transpose(_UPRIGHT[pixels.orientation])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FullSizeUnavailable(f"{source.name}: cannot decode the RAW's pixels ({exc}).")
    target = embedded if pixels.source == rawfiles.EMBEDDED_PREVIEW else rendition
    renditions.cache_write(target, _save_jpeg(image))
    kind = "embedded" if target is embedded else "rendition"
    return FullSize(path=target, content_type="image/jpeg", source=kind)


def photo_fullsize(photo: Photo) -> FullSize:
    """The full-size image of ``photo`` (see the module's docstring), made and cached when
    needed. Raises ``FullSizeUnavailable`` (no original, or none decodes), ``FileNotFoundError``
    (the file went away meanwhile) or ``UnsafePath``."""
    folder = storage.project_dir(photo.project)
    found = storage.files_for_basename(folder, photo.basename)
    for name in sorted(found.jpg):
        return FullSize(
            path=storage.file_path(photo.project, name),
            content_type="image/jpeg",
            source="original",
        )
    for name in sorted(found.other):
        if imaging.can_decode(name):
            return _from_image(photo, storage.file_path(photo.project, name))
    for name in sorted(found.raw):
        return _from_raw(photo, storage.file_path(photo.project, name))
    raise FullSizeUnavailable(f"{photo.basename}: no original file that decodes.")
