"""The screen-sized image of a photo for the loupe's fitted view (SPEC §17).

The preview fits 5000×5000 (SPEC §4), for zooming and for large screens; decoding and painting
16.7 megapixels to show them in a 1440×900 window costs the loupe hundreds of milliseconds a
photo. The loupe's fitted view shows this instead: the preview fitted within
``PIPELINE_SCREEN_SIZE`` (default 2048 px on the long side), made on demand from the preview
(reduced while decoding: libvips' shrink-on-load, Pillow's JPEG draft), upright, as WebP, and
cached under ``PIPELINE_SCREEN_CACHE_DIR`` (``photos.renditions``: outside the photographer's
folders, one entry per photo and preview version, so a preview made again is rendered again).
A preview already that small is served as it is. The 100 % view uses ``photos.fullsize``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image

from . import imaging, renditions, storage
from .models import Photo

SCREEN_KIND = "screen"


class ScreenUnavailable(Exception):
    """No screen-sized image: the photo has no preview, or it does not decode."""


@dataclass(frozen=True)
class Screen:
    path: Path
    content_type: str
    source: str  # "preview" (small enough as it is) or "rendition"


def cache_dir() -> Path:
    return Path(settings.PIPELINE_SCREEN_CACHE_DIR)


def _content_type(path: Path) -> str:
    return "image/jpeg" if path.suffix.lower() == ".jpg" else "image/webp"


def photo_screen(photo: Photo) -> Screen:
    """The screen-sized image of ``photo`` (see the module's docstring), made and cached when
    needed. Raises ``ScreenUnavailable``, ``FileNotFoundError`` (the preview went away
    meanwhile) or ``UnsafePath``."""
    preview = storage.preview_file(photo.project, photo.basename)
    if not preview.is_file():
        raise ScreenUnavailable(f"{photo.basename}: no preview yet.")
    box = settings.PIPELINE_SCREEN_SIZE
    try:
        with Image.open(preview) as opened:  # the header only
            small = max(opened.size) <= box
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ScreenUnavailable(f"{preview.name}: cannot read the preview ({exc}).") from exc
    if small:
        return Screen(path=preview, content_type=_content_type(preview), source="preview")
    cached = renditions.cache_entry(cache_dir(), photo, preview, SCREEN_KIND, ".webp")
    if not cached.is_file():
        try:
            data = imaging.webp_fitted(
                preview,
                box,
                quality=settings.PIPELINE_PREVIEW_QUALITY,
                engine=settings.PIPELINE_IMAGE_ENGINE,
            )
        except imaging.ImageUnreadable as exc:
            raise ScreenUnavailable(str(exc)) from exc
        renditions.cache_write(cached, lambda fh: fh.write(data))
    return Screen(path=cached, content_type="image/webp", source="rendition")
