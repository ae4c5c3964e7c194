"""The files of an export (SPEC §18): where they live, member names, JPEG renditions, the ZIP.

Layout under ``EXPORTS_ROOT`` (never inside ``PHOTOS_ROOT``: a scan would take an export's
JPEGs for photos)::

    <tenant slug>/<export id>/<item id>.jpg   renditions of a JPEG export, one per photo,
                                              each written atomically as it completes
    <tenant slug>/<export id>.zip             the finished ZIP (temporary name, then rename)

Originals are only read: an originals export copies nothing to staging and streams each file
into the ZIP. Members are stored (no recompression: JPEGs and RAWs do not shrink), so the ZIP
is written at the speed of the disk.
"""

from __future__ import annotations

import io
import re
import shutil
import string
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, ImageCms, ImageDraw, ImageFont, ImageOps

from photos import rawfiles, storage
from photos.derivatives import derivative_source
from photos.fsrules import check_name, ensure_inside, temp_create, temp_publish, truncate_utf8
from photos.imaging import can_decode, is_raw
from photos.models import Photo

# Template fields (SPEC §18). ``{seq}`` is zero-padded to the width of the photo count (3 at
# least); a missing date or camera reads as below.
TEMPLATE_FIELDS = ("basename", "date", "seq", "camera")
DEFAULT_TEMPLATE = "{basename}"
NO_DATE = "undated"
DEFAULT_LONG_EDGE = 2048
DEFAULT_QUALITY = 90
MAX_LONG_EDGE = 20000
# A member name's stem, in UTF-8 bytes (ZIP readers and file systems cope with 255).
MAX_STEM_BYTES = 200
COPY_CHUNK = 1024 * 1024
# Characters no file system of the client's may take in a name, and controls.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class RenditionFailed(Exception):
    """One photo could not be rendered (no readable source); the text names the file."""


# --- where --------------------------------------------------------------------------------


def exports_root() -> Path:
    """``EXPORTS_ROOT``, refused when it lies inside ``PHOTOS_ROOT`` (settings check it at
    start-up too; tests change both)."""
    root = Path(settings.EXPORTS_ROOT).resolve()
    photos = Path(settings.PHOTOS_ROOT).resolve()
    if root == photos or root.is_relative_to(photos):
        raise ImproperlyConfigured("EXPORTS_ROOT must not be inside PHOTOS_ROOT")
    return root


def tenant_exports_dir(tenant_slug: str) -> Path:
    root = exports_root()
    return ensure_inside(root / check_name(tenant_slug, what="tenant slug"), root)


def zip_path(tenant_slug: str, export_id: int) -> Path:
    return tenant_exports_dir(tenant_slug) / f"{int(export_id)}.zip"


def staging_dir(tenant_slug: str, export_id: int) -> Path:
    return tenant_exports_dir(tenant_slug) / str(int(export_id))


def rendition_path(tenant_slug: str, export_id: int, item_id: int) -> Path:
    return staging_dir(tenant_slug, export_id) / f"{int(item_id)}.jpg"


def _unlink(paths: Iterable[Path]) -> int:
    freed = 0
    for path in paths:
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass
    return freed


def zip_temps_remove(tenant_slug: str, export_id: int) -> int:
    """Delete the temporary ZIPs a crashed attempt left (``temp_create``'s names)."""
    target = zip_path(tenant_slug, export_id)
    if not target.parent.is_dir():
        return 0
    return _unlink(target.parent.glob(f".{target.name}.*.tmp"))


def export_files_delete(tenant_slug: str, export_id: int) -> int:
    """Delete an export's ZIP, its staging folder and any temporary ZIP a crash left; returns
    the bytes freed. Only paths under ``EXPORTS_ROOT`` are touched."""
    freed = _unlink([zip_path(tenant_slug, export_id)])
    freed += zip_temps_remove(tenant_slug, export_id)
    return freed + staging_remove(staging_dir(tenant_slug, export_id))


def staging_remove(staging: Path) -> int:
    """Delete a staging folder of renditions (ours, under ``EXPORTS_ROOT``); bytes freed."""
    ensure_inside(staging, exports_root())
    if not staging.is_dir():
        return 0
    freed = sum(p.stat().st_size for p in staging.iterdir() if p.is_file())
    shutil.rmtree(staging, ignore_errors=True)
    return freed


# --- names --------------------------------------------------------------------------------


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot name files, or ``None``: only the four fields, no format specs."""
    if not template or not template.strip():
        return "The name template is empty."
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"The name template is not valid ({exc})."
    fields = [name for _, name, spec, conv in parts if name is not None]
    if not fields:
        return "The name template needs at least one field: {basename}, {date}, {seq}, {camera}."
    for _, name, spec, conv in parts:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS:
            return f"Unknown field {{{name}}} in the name template; use {{basename}}, {{date}}, {{seq}} or {{camera}}."
        if spec or conv:
            return f"Field {{{name}}} takes no format in the name template."
    return None


def name_clean(text: str) -> str:
    """``text`` as a safe file name stem: no separators, controls or reserved characters, no
    leading dots or trailing dots and spaces, at most ``MAX_STEM_BYTES`` bytes."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").rstrip(". ")
    return truncate_utf8(text, MAX_STEM_BYTES).rstrip(". ")


def member_stem(template: str, *, photo: Photo, seq: int, width: int) -> str:
    """The stem a photo's files get in the ZIP (before making names unique)."""
    values = {
        "basename": photo.basename,
        "date": photo.taken_at.strftime("%Y-%m-%d") if photo.taken_at else NO_DATE,
        "seq": str(seq).zfill(width),
        "camera": photo.camera or "",
    }
    return name_clean(template.format(**values)) or name_clean(photo.basename) or f"photo_{seq}"


class UniqueNames:
    """Member names unique inside one ZIP, compared case-insensitively (Windows and macOS
    unpack ``a.JPG`` and ``a.jpg`` to one file). A photo's files keep one stem (a RAW+JPEG
    pair stays a pair): ``name.jpg`` and ``name.cr2``, else ``name-2.jpg`` and ``name-2.cr2``."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, stem: str, exts: list[str]) -> list[str]:
        n = 1
        while True:
            base = stem if n == 1 else f"{stem}-{n}"
            names = [f"{base}.{ext}" if ext else base for ext in exts]
            keys = [name.casefold() for name in names]
            if len(set(keys)) == len(keys) and not self._taken & set(keys):
                self._taken.update(keys)
                return names
            n += 1


def seq_width(count: int) -> int:
    return max(3, len(str(count)))


# --- sources ------------------------------------------------------------------------------


def original_files(photo: Photo) -> list[Path]:
    """The photo's original files on disk (JPG, other images, RAW; no sidecars), sorted by
    class then name, so a RAW+JPEG pair gives both files."""
    folder = storage.project_dir(photo.project)
    found = storage.files_for_basename(folder, photo.basename)
    names = [*sorted(found.jpg), *sorted(found.other), *sorted(found.raw)]
    return [storage.file_path(photo.project, name) for name in names]


# --- JPEG renditions ----------------------------------------------------------------------


def _srgb(image: Image.Image) -> Image.Image:
    """``image`` in sRGB (its ICC profile converted when it has one), mode RGB."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile: take the pixels as sRGB, as browsers do.
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _watermark(image: Image.Image, text: str) -> Image.Image:
    """``text`` drawn in the bottom right corner, white at 60 % with a dark outline, sized to
    the image (a thirtieth of its long side)."""
    size = max(12, max(image.size) // 30)
    try:
        font: Any = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font.
        font = ImageFont.load_default()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    stroke = max(1, size // 15)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    margin = size
    x = max(0, image.width - (right - left) - margin)
    y = max(0, image.height - (bottom - top) - margin)
    draw.text(
        (x - left, y - top),
        text,
        font=font,
        fill=(255, 255, 255, 153),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 102),
    )
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def _source_image(photo: Photo, long_edge: int) -> Image.Image:
    """The photo's pixels, upright: from its JPG, else another decodable image, else the RAW
    (its embedded preview or a demosaic)."""
    folder = storage.project_dir(photo.project)
    found = storage.files_for_basename(folder, photo.basename)
    name = derivative_source(found)
    if name is None:
        raise RenditionFailed(f"{photo.basename}: no original file.")
    path = storage.file_path(photo.project, name)
    if is_raw(name):
        try:
            raw = rawfiles.raw_pixels(path, min_side=long_edge)
        except rawfiles.RawNotSupported as exc:
            raise RenditionFailed(str(exc)) from None
        image = raw.image
        image.load()
        method = _TRANSPOSE.get(raw.orientation)
        return image.transpose(method) if method is not None else image
    if not can_decode(name):
        raise RenditionFailed(f"{name}: not an image this server can decode.")
    try:
        image = Image.open(path)
        # Decode JPEGs at a reduced scale when the target is much smaller (DCT scaling).
        image.draft("RGB", (long_edge, long_edge))
        image.load()
        return ImageOps.exif_transpose(image) or image
    except FileNotFoundError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RenditionFailed(f"{name}: cannot read the image ({exc}).") from None


def rendition_write(
    photo: Photo, path: Path, *, long_edge: int, quality: int, watermark: str = ""
) -> int:
    """Write the photo as an sRGB JPEG no larger than ``long_edge`` (never enlarged) to
    ``path``, atomically; returns its size in bytes."""
    image = _source_image(photo, long_edge)
    try:
        image = _srgb(image)
        if max(image.size) > long_edge:
            image.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
        if watermark:
            image = _watermark(image, watermark)
    except ValueError as exc:  # A pixel format Pillow cannot turn into RGB.
        raise RenditionFailed(f"{photo.basename}: cannot convert the image ({exc}).") from None
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_create(path)
    try:
        with open(fd, "wb") as fh:
            image.save(fh, "JPEG", quality=quality, optimize=True, icc_profile=srgb)
        temp_publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.stat().st_size


# --- the ZIP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One file of the ZIP: its name there and the file it is read from."""

    name: str
    source: Path


@dataclass(frozen=True)
class ZipWritten:
    path: Path
    size: int
    members: int


def zip_write(
    target: Path,
    members: Iterable[Member],
    *,
    checkpoint: Callable[[], object] = lambda: None,
) -> ZipWritten:
    """Write ``members`` (stored, not compressed) to ``target`` through a temporary file in
    its folder and one rename: a reader never sees a partial ZIP, and a crash leaves only a
    hidden temporary file (``export_files_delete`` removes it). Each file is copied in 1 MiB
    chunks, never read whole. ``checkpoint`` runs before each member (cancel, heartbeat).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_create(target)
    count = 0
    try:
        with open(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
            for member in members:
                checkpoint()
                info = zipfile.ZipInfo.from_file(member.source, member.name)
                info.compress_type = zipfile.ZIP_STORED
                with (
                    open(member.source, "rb") as src,
                    archive.open(info, "w", force_zip64=info.file_size >= 2**31) as dest,
                ):
                    shutil.copyfileobj(src, dest, COPY_CHUNK)
                count += 1
        temp_publish(tmp, target, mode=0o640)
    finally:
        tmp.unlink(missing_ok=True)
    return ZipWritten(path=target, size=target.stat().st_size, members=count)
