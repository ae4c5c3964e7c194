"""The on-demand rendition caches of the loupe (``photos.fullsize``, ``photos.screen``).

Renditions live outside the photographer's folders (nothing is ever written beside the
originals), one file per tenant, photo and source file version: the name, size and
modification time of the file they are made from are in the entry's name, so a changed or
replaced source is rendered again and an old entry is never served. Writing an entry removes
the photo's older ones. Entries are written atomically (``fsrules.write_atomic``); two requests
racing for the same rendition both write it, and the second rename wins with the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from . import fsrules
from .models import Photo


def cache_entry(folder: Path, photo: Photo, source: Path, kind: str, suffix: str) -> Path:
    """``<folder>/<tenant>/<photo id>-<source version>-<kind><suffix>``, its folder made."""
    stat = source.stat()
    version = hashlib.sha256(
        f"{source.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    ).hexdigest()[:20]
    tenant = fsrules.check_name(photo.project.tenant.slug, what="tenant slug")
    tenant_folder = folder / tenant
    tenant_folder.mkdir(parents=True, exist_ok=True)
    return fsrules.ensure_inside(tenant_folder / f"{photo.pk}-{version}-{kind}{suffix}", folder)


def cache_write(path: Path, fill: Callable[[IO[bytes]], object]) -> Path:
    """Write the entry ``path`` with ``fill``, dropping the photo's older entries there."""
    prefix = path.name.split("-", 1)[0] + "-"
    for old in path.parent.glob(f"{prefix}*{path.suffix}"):
        if old != path:
            fsrules.unlink_quietly(old)
    fsrules.write_atomic(path, fill)
    return path
