"""Where files live (SPEC §4). Every path is built here from database values and checked.

    PHOTOS_ROOT/<tenant slug>/<project folder>/
        .project.yaml   .thumb/<base>.webp   .preview/<base>.webp   .trash/<file>   <base>.<ext>

A name with a path separator, ``..``, a NUL byte, or a path that resolves (through symlinks)
outside the tenant root raises ``UnsafePath``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from jobs.exceptions import PipelineError

if TYPE_CHECKING:
    from projects.models import Project, Tenant

MANIFEST_NAME = ".project.yaml"
THUMB_DIR = ".thumb"
PREVIEW_DIR = ".preview"
TRASH_DIR = ".trash"
DERIVATIVE_EXT = "webp"

JPG_EXTENSIONS = frozenset({"jpg", "jpeg"})
RAW_EXTENSIONS = frozenset({"raw", "cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2"})
OTHER_EXTENSIONS = frozenset({"png", "tif", "tiff", "heic", "webp"})
ACCEPTED_EXTENSIONS = JPG_EXTENSIONS | RAW_EXTENSIONS | OTHER_EXTENSIONS


class UnsafePath(PipelineError):
    """A name or path that would leave its folder."""


class FileClass(StrEnum):
    JPG = "jpg"
    RAW = "raw"
    OTHER = "other"


def split_name(filename: str) -> tuple[str, str]:
    """``"IMG_1.JPG"`` → ``("IMG_1", "JPG")``; the extension keeps its case."""
    base, dot, ext = filename.rpartition(".")
    if not dot or not base:
        return filename, ""
    return base, ext


def classify(filename: str) -> FileClass | None:
    """The class of a file by extension (case-insensitive), or ``None`` if not accepted."""
    _, ext = split_name(filename)
    ext = ext.lower()
    if ext in JPG_EXTENSIONS:
        return FileClass.JPG
    if ext in RAW_EXTENSIONS:
        return FileClass.RAW
    if ext in OTHER_EXTENSIONS:
        return FileClass.OTHER
    return None


def is_hidden(filename: str) -> bool:
    return filename.startswith(".")


def check_name(name: str, *, what: str = "file name") -> str:
    """Refuse a single path component that could escape its folder."""
    if not name or name in {".", ".."}:
        raise UnsafePath(f"Invalid {what} {name!r}.")
    if "\x00" in name:
        raise UnsafePath(f"Invalid {what}: it contains a NUL byte.")
    if "/" in name or "\\" in name:
        raise UnsafePath(f"Invalid {what} {name!r}: path separators are not allowed.")
    if ".." in Path(name).parts or name.startswith(".."):
        raise UnsafePath(f"Invalid {what} {name!r}: '..' is not allowed.")
    return name


def photos_root() -> Path:
    return Path(settings.PHOTOS_ROOT)


def tenant_root(tenant: Tenant | str) -> Path:
    slug = tenant if isinstance(tenant, str) else tenant.slug
    return photos_root() / check_name(slug, what="tenant slug")


def ensure_inside(path: Path, root: Path) -> Path:
    """``path`` with symlinks resolved, refused unless it stays inside ``root``."""
    resolved_root = root.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise UnsafePath(f"Path {path} leaves {root}.")
    return path


def project_dir(project: Project, *, folder: str | None = None) -> Path:
    """The project's folder (or another ``folder`` name for it), checked to stay in the tenant root."""
    root = tenant_root(project.tenant.slug)
    path = root / check_name(folder or project.folder, what="project folder")
    return ensure_inside(path, root)


def file_path(project: Project, filename: str) -> Path:
    folder = project_dir(project)
    return ensure_inside(folder / check_name(filename), folder)


def thumbnail_path(project: Project, basename: str) -> Path:
    folder = project_dir(project)
    return ensure_inside(
        folder / THUMB_DIR / f"{check_name(basename, what='base name')}.{DERIVATIVE_EXT}", folder
    )


def preview_path(project: Project, basename: str) -> Path:
    folder = project_dir(project)
    return ensure_inside(
        folder / PREVIEW_DIR / f"{check_name(basename, what='base name')}.{DERIVATIVE_EXT}", folder
    )


def trash_dir(project: Project) -> Path:
    folder = project_dir(project)
    return ensure_inside(folder / TRASH_DIR, folder)


def manifest_path(project: Project) -> Path:
    return project_dir(project) / MANIFEST_NAME


@dataclass
class BaseFiles:
    """The original files of one base name in a folder, by class (every case variant)."""

    basename: str
    jpg: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.jpg, *self.raw, *self.other]

    @property
    def ext(self) -> str:
        """The extension a photo row records: the JPG's, else another image's, else the RAW's."""
        for names in (self.jpg, self.other, self.raw):
            if names:
                return split_name(sorted(names)[0])[1].lower()
        return ""


def scan_originals(folder: Path) -> tuple[dict[str, BaseFiles], list[str]]:
    """Originals in a project folder grouped by base name, and the unaccepted file names.

    Hidden entries (``.DS_Store``, the manifest, derivative and trash folders) and directories
    are ignored. Streams the directory with ``os.scandir``.
    """
    groups: dict[str, BaseFiles] = {}
    rejected: list[str] = []
    try:
        entries: Iterator[os.DirEntry[str]] = os.scandir(folder)
    except FileNotFoundError:
        return {}, []
    with entries as it:  # type: ignore[attr-defined]
        for entry in it:
            if is_hidden(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            kind = classify(entry.name)
            if kind is None:
                rejected.append(entry.name)
                continue
            base, _ = split_name(entry.name)
            group = groups.setdefault(base, BaseFiles(base))
            getattr(group, kind.value).append(entry.name)
    return groups, rejected


def files_for_basename(folder: Path, basename: str) -> BaseFiles:
    """Every original of one base name (``IMG_1.jpg``, ``IMG_1.JPG``, ``IMG_1.cr2`` …)."""
    found = BaseFiles(basename)
    prefix = basename + "."
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if not entry.name.startswith(prefix) or not entry.is_file(follow_symlinks=False):
                    continue
                base, _ = split_name(entry.name)
                kind = classify(entry.name)
                if base == basename and kind is not None:
                    getattr(found, kind.value).append(entry.name)
    except FileNotFoundError:
        pass
    return found


def group_by_class(names: list[str]) -> dict[FileClass, list[str]]:
    grouped: dict[FileClass, list[str]] = defaultdict(list)
    for name in names:
        kind = classify(name)
        if kind is not None:
            grouped[kind].append(name)
    return grouped
