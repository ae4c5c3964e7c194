"""The file behind each kind of gallery image, and the watermark drawn on it.

Thumbnails and previews are the photo's derivatives (WebP, ``photos.storage``); the original is
the photo's JPG, else its other image, else its RAW, as the photo API serves it. Originals are
delivered as they are: a watermark is drawn on the thumbnails and previews a link serves (a
studio that does not want to hand over clean files sets the link's downloads to ``preview``).

A watermarked rendition is made once and kept under ``SHARE_RENDITIONS_ROOT`` (never inside
``PHOTOS_ROOT``), named by a hash of the photo, the kind, the watermark text and the
derivative's mtime: a new derivative or another text makes a new file, and the cache can be
deleted at any time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from core.errors import ApplicationError
from photos.fsrules import write_atomic
from photos.models import Photo
from photos.storage import file_path, files_for_basename, preview_file, project_dir, thumbnail_path

DERIVATIVE_CONTENT_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
ORIGINAL_ORDER = ("jpg", "other", "raw")


def derivative_file(photo: Photo, kind: str) -> Path | None:
    """The photo's thumbnail or preview on disk; ``None`` when it has none (yet)."""
    # The preview is a WebP or, for a RAW, its embedded JPEG as it is.
    builder = thumbnail_path if kind == "thumbnail" else preview_file
    try:
        path = builder(photo.project, photo.basename)
    except ApplicationError:  # UnsafePath: a row that would point outside its folder.
        return None
    return path if path.is_file() else None


def derivative_content_type(path: Path) -> str:
    return DERIVATIVE_CONTENT_TYPES.get(path.suffix.lower(), "image/webp")


def original_file(photo: Photo) -> Path | None:
    """The photo's original: its JPG, else another image, else its RAW."""
    try:
        found = files_for_basename(project_dir(photo.project), photo.basename)
        names = [name for kind in ORIGINAL_ORDER for name in sorted(getattr(found, kind))]
        if not names:
            return None
        path = file_path(photo.project, names[0])
    except (ApplicationError, OSError):
        return None
    return path if path.is_file() else None


def rendition_path(photo: Photo, *, kind: str, watermark: str, source: Path) -> Path:
    mtime_ns = source.stat().st_mtime_ns
    key = hashlib.sha256(f"{photo.pk}\0{kind}\0{watermark}\0{mtime_ns}".encode()).hexdigest()
    root = Path(settings.SHARE_RENDITIONS_ROOT)
    return root / str(photo.project.tenant_id) / key[:2] / f"{key}.webp"


def watermark_draw(image: Image.Image, text: str) -> Image.Image:
    """``image`` with ``text`` drawn across its lower part, light on a dark outline so it shows
    on bright and dark photos alike."""
    base = image.convert("RGBA")
    width, height = base.size
    size = max(10, min(width, height) // 12)
    font = ImageFont.load_default(size=size)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox(
        (0, 0), text, font=font, stroke_width=max(1, size // 12)
    )
    x = max(0, (width - (right - left)) // 2)
    y = max(0, height - (bottom - top) - height // 10)
    draw.text(
        (x, y),
        text,
        font=font,
        fill=(255, 255, 255, 170),
        stroke_width=max(1, size // 12),
        stroke_fill=(0, 0, 0, 140),
    )
    return Image.alpha_composite(base, layer).convert("RGB")


def watermarked_file(photo: Photo, *, kind: str, watermark: str, source: Path) -> Path:
    """The watermarked rendition of ``source`` (a derivative), made on first use."""
    path = rendition_path(photo, kind=kind, watermark=watermark, source=source)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        marked = watermark_draw(image, watermark)

    def write(fh: IO[bytes]) -> None:
        marked.save(fh, "WEBP", quality=82)

    write_atomic(path, write)
    return path


def served_file(photo: Photo, *, kind: str, watermark: str) -> Path | None:
    """The file a link serves for ``kind`` of ``photo``, watermarked when the link says so."""
    if kind == "original":
        return original_file(photo)
    source = derivative_file(photo, kind)
    if source is None or not watermark:
        return source
    return watermarked_file(photo, kind=kind, watermark=watermark, source=source)
