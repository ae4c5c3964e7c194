"""What the reconciliation steps share: the folder listing, the guards, the row chunks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

from jobs.tasks import start_task
from photos import fsrules, storage
from photos.fsrules import UnsafePath
from photos.manifest import manifest_read, manifest_uid
from photos.models import Photo
from projects.models import Project
from projects.reporting import Change, Report, where

logger = logging.getLogger(__name__)

JPG_BIT, RAW_BIT, OTHER_BIT = 1, 2, 4
_CLASS_BIT = {
    storage.FileClass.JPG: JPG_BIT,
    storage.FileClass.RAW: RAW_BIT,
    storage.FileClass.OTHER: OTHER_BIT,
}
# The class whose extension a row records first (``storage.BaseFiles.ext``): JPG, other, RAW.
_EXT_RANK = {storage.FileClass.JPG: 0, storage.FileClass.OTHER: 1, storage.FileClass.RAW: 2}


class FolderScan:
    """The originals of a project folder: base name (in NFC; lookups normalise too) → class
    bits and best extension.

    One small int per base name (``bits | ext_index << 3``; CPython shares ints below 257), so
    50,000 base names cost a few megabytes. Hidden entries, directories and symlinks are
    ignored (``storage.folder_entries``).
    """

    __slots__ = ("_entries", "_exts", "_index", "_ranks", "rejected")

    def __init__(self) -> None:
        self._entries: dict[str, int] = {}
        self._exts: list[str] = []
        self._ranks: list[int] = []
        self._index: dict[str, int] = {}
        self.rejected: list[str] = []

    @classmethod
    def of(cls, folder: Path) -> FolderScan:
        """The folder's originals (``storage.folder_entries``); ``rejected`` holds the other
        visible files, sidecars included. A missing folder raises ``FileNotFoundError``."""
        scan = cls()
        for entry in storage.folder_entries(folder):
            if entry.kind == storage.EntryKind.ORIGINAL:
                scan.add(entry.name)
            elif entry.kind in (storage.EntryKind.SIDECAR, storage.EntryKind.UNACCEPTED):
                scan.rejected.append(entry.name)
        return scan

    def add(self, filename: str) -> None:
        """Record one original (an accepted file name)."""
        kind = storage.classify(filename)
        if kind is None:
            return
        base, ext = fsrules.split_name(filename)
        base = fsrules.nfc(base)
        index = self._index.get(ext)
        if index is None:
            index = self._index[ext] = len(self._exts)
            self._exts.append(ext)
            self._ranks.append(_EXT_RANK[kind])
        bit = _CLASS_BIT[kind]
        current = self._entries.get(base)
        if current is None:
            self._entries[base] = bit | (index << 3)
            return
        best = current >> 3
        rank, best_rank = self._ranks[index], self._ranks[best]
        if rank < best_rank or (rank == best_rank and self._exts[index] < self._exts[best]):
            current = (current & 7) | (index << 3)
        self._entries[base] = current | bit

    def __contains__(self, base: object) -> bool:
        return isinstance(base, str) and fsrules.nfc(base) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def bases(self) -> Iterator[str]:
        return iter(self._entries)

    def bits(self, base: str) -> int:
        return self._entries.get(fsrules.nfc(base), 0) & 7

    def ext(self, base: str) -> str:
        """The extension a row records (``storage.BaseFiles.ext``), or "" when no file."""
        value = self._entries.get(fsrules.nfc(base))
        return "" if value is None else self._exts[value >> 3].lower()

    def forget(self, base: str) -> None:
        self._entries.pop(fsrules.nfc(base), None)


def photo_chunks(project: Project, *fields: str, size: int | None = None) -> Iterator[list[Any]]:
    """The project's photos as ``values_list`` rows (pk first), keyset-paginated by id."""
    size = size or settings.PIPELINE_MANIFEST_CHUNK
    last = 0
    while True:
        rows = list(
            Photo.objects.filter(project_id=project.pk, pk__gt=last)
            .order_by("pk")
            .values_list("pk", *fields)[:size]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def project_folder(project: Project) -> Path | None:
    """The project's folder when it exists on disk (never created here), else ``None``."""
    try:
        folder = storage.project_dir(project)
    except UnsafePath:
        logger.warning("Project %s has an unsafe folder %r; skipped", project.pk, project.folder)
        return None
    return folder if folder.is_dir() else None


def manifest_conflict(project: Project, folder: Path) -> str | None:
    """The uid of another project of the tenant that the folder's manifest names, if any."""
    uid = manifest_uid(manifest_read(folder))
    if uid is None or uid == project.uid:
        return None
    other = (
        Project.objects.filter(tenant_id=project.tenant_id, uid=uid).exclude(pk=project.pk).exists()
    )
    return str(uid) if other else None


def usable_folder(project: Project, *, step: str, report: Report) -> Path | None:
    folder = project_folder(project)
    if folder is None:
        report.add(Change(step, "skipped_folder_missing", where(project)))
        return None
    uid = manifest_conflict(project, folder)
    if uid is not None:
        logger.warning(
            "Folder %s carries the manifest of project %s, not of project %s; left alone",
            folder,
            uid,
            project.pk,
        )
        report.add(Change(step, "skipped_manifest_conflict", where(project), detail=f"uid {uid}"))
        return None
    return folder


def start_postprocess(*, project: Project, photo_ids: list[int]) -> str:
    """Start ``upload_postprocess`` for ingested rows (auto-chunked past 2,000 items)."""
    started = start_task(
        "upload_postprocess",
        project.tenant,
        project=project,
        items=photo_ids,
        source="maintenance",
    )
    return started["task_id"]
