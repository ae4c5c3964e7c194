"""What the fault tests check on disk: no original photo file is ever lost."""

from __future__ import annotations

import hashlib
import io
import random
import zlib
from collections import Counter
from pathlib import Path

from PIL import Image

from photos.fsrules import split_name
from photos.models import Photo
from photos.storage import JPG_EXTENSIONS, RAW_EXTENSIONS, project_dir
from projects.models import Project

ORIGINAL_EXTENSIONS = JPG_EXTENSIONS | RAW_EXTENSIONS


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def distinct_jpeg(seed: int, *, size: tuple[int, int] = (96, 64)) -> bytes:
    """A real JPEG whose bytes differ from every other seed's (noise), so hashes identify it."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 40).convert("RGB")
    image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (0, 0, 8, 8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def add_photos(
    project: Project,
    count: int,
    *,
    prefix: str = "IMG_",
    raw: bool = True,
    size: tuple[int, int] = (96, 64),
    **fields,
) -> list[Photo]:  # type: ignore[no-untyped-def]
    """``count`` photos with a distinct real JPEG (and a distinct RAW stand-in) each."""
    where = project_dir(project)
    where.mkdir(parents=True, exist_ok=True)
    photos = []
    for i in range(count):
        base = f"{prefix}{i:04d}"
        (where / f"{base}.jpg").write_bytes(
            distinct_jpeg(zlib.crc32(f"{project.pk}/{base}".encode()), size=size)
        )
        if raw:
            (where / f"{base}.cr2").write_bytes(f"RAW {project.pk} {base}".encode() * 50)
        photos.append(
            Photo.objects.create(
                project=project,
                basename=base,
                ext="jpg",
                jpg_available=True,
                raw_available=raw,
                keep_jpg=fields.get("keep_jpg", True),
                keep_raw=fields.get("keep_raw", raw),
            )
        )
    return photos


def originals(*projects: Project) -> dict[str, str]:
    """``{hash: "<project folder>/<name>"}`` of every original in the projects' folders."""
    found = {}
    for project in projects:
        for path in project_dir(project).iterdir():
            if path.is_file() and split_name(path.name)[1].lower() in ORIGINAL_EXTENSIONS:
                found[sha(path)] = f"{project.folder}/{path.name}"
    return found


def where_now(*projects: Project) -> Counter[str]:
    """Hashes of every file in the projects' folders and their ``.trash/`` (a multiset)."""
    hashes: Counter[str] = Counter()
    for project in projects:
        for place in (project_dir(project), project_dir(project) / ".trash"):
            if place.is_dir():
                hashes.update(sha(p) for p in place.iterdir() if p.is_file())
    return hashes


def assert_no_original_lost(before: dict[str, str], *projects: Project) -> None:
    """Every original seen before is still in a project folder or its ``.trash/``."""
    now = where_now(*projects)
    lost = sorted(name for digest, name in before.items() if now[digest] == 0)
    assert not lost, f"original files lost: {lost}"
