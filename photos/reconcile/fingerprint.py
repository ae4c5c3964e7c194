"""Skip a project that did not change since its last full check (``maintenance_global``).

A project's **fingerprint** is what reconciliation depends on, read cheaply: the project
folder's ``mtime_ns`` (an entry added, removed or renamed in it moves it), the manifest's
``mtime_ns`` and size (it can be edited in place), the project row's ``updated_at`` (a rename),
and its photo rows' count and latest ``updated_at`` (every write path sets ``updated_at``; a
delete lowers the count). ``.thumb/`` and ``.preview/`` hold generated files only, and user
sub-folders are never reconciled, so their changes do not count.

Stored in ``Project.checked_fingerprint``:

- ``started``: the fingerprint taken when ``manifest_check`` of a global job began on it;
- ``checked``: set by ``manifest_cleaning`` (the last step) when the fingerprint is still the
  one ``started`` recorded, i.e. the whole check ran over a project that did not change, the
  check's own changes included (a row it fixed moves ``updated_at``, so the next run checks
  again, finds nothing, and confirms);
- ``trash``: ``.trash/``'s ``mtime_ns`` before the last purge walk and the earliest time an
  entry left in it becomes due (``due``, ``None`` when empty).

A fingerprint whose folder (or manifest, or trash) changed less than ``FRESH_SECONDS`` before
it was taken is never stored: a change in the same timestamp tick would be invisible.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.models import Count, Max

from photos import storage
from photos.fsrules import TRASH_DIR, UnsafePath, check_name
from photos.models import Photo
from projects.models import Project

FRESH_SECONDS = 2.0


def _stat(path: Any) -> os.stat_result | None:
    try:
        return os.stat(path, follow_symlinks=False)
    except OSError:
        return None


def _folder(project: Project, roots: dict[int, Path] | None) -> Path | None:
    """The project folder's path, only to be ``stat``ed (never followed): the name checks
    suffice, without the path resolution of ``storage.project_dir``."""
    try:
        root = roots.get(project.tenant_id) if roots is not None else None
        if root is None:
            root = storage.tenant_root(project.tenant.slug)
            if roots is not None:
                roots[project.tenant_id] = root
        return root / check_name(project.folder, what="project folder")
    except UnsafePath:
        return None


def _fresh(stat: os.stat_result | None, now: float) -> bool:
    return stat is not None and now - stat.st_mtime_ns / 1e9 < FRESH_SECONDS


def rows_fingerprints(project_ids: Iterable[int]) -> dict[int, list[Any]]:
    """``{project id: [count, latest updated_at]}`` of the photo rows, in one query."""
    rows = (
        Photo.objects.filter(project_id__in=list(project_ids))
        .order_by()
        .values("project_id")
        .annotate(n=Count("id"), last=Max("updated_at"))
    )
    return {r["project_id"]: [r["n"], r["last"].isoformat() if r["last"] else None] for r in rows}


def project_fingerprint(
    project: Project,
    rows: dict[int, list[Any]],
    *,
    now: float | None = None,
    roots: dict[int, Path] | None = None,
) -> dict[str, Any] | None:
    """The project's fingerprint now, or ``None`` when it cannot be trusted (a missing or
    unsafe folder, or one changed within ``FRESH_SECONDS``)."""
    now = time.time() if now is None else now
    folder = _folder(project, roots)
    if folder is None:
        return None
    folder_stat = _stat(folder)
    if folder_stat is None or _fresh(folder_stat, now):
        return None
    manifest = _stat(folder / storage.MANIFEST_NAME)
    if _fresh(manifest, now):
        return None
    return {
        "folder": [project.folder, folder_stat.st_mtime_ns],
        "manifest": [manifest.st_mtime_ns, manifest.st_size] if manifest else None,
        "project": [project.name, project.updated_at.isoformat()],
        "rows": rows.get(project.pk, [0, None]),
    }


class Fingerprints:
    """One job's view of its projects' fingerprints (the rows read in one query per job)."""

    def __init__(self, projects: list[Project], *, full: bool = False) -> None:
        self.full = full
        self._rows = rows_fingerprints(p.pk for p in projects) if not full else {}
        self._roots: dict[int, Path] = {}

    def now(self, project: Project) -> dict[str, Any] | None:
        return None if self.full else project_fingerprint(project, self._rows, roots=self._roots)

    def unchanged(self, project: Project) -> bool:
        """Whether the project was fully checked in exactly its current state."""
        current = self.now(project)
        stored = project.checked_fingerprint or {}
        return current is not None and stored.get("checked") == current

    def started(self, project: Project) -> None:
        """Record the fingerprint a check begins from (``manifest_check``)."""
        _store(project, started=self.now(project))

    def finished(self, project: Project) -> None:
        """Confirm the check (``manifest_cleaning``) when nothing changed since it began.

        The rows are read again: the check's own writes must count.
        """
        stored = project.checked_fingerprint or {}
        current = (
            None if self.full else project_fingerprint(project, rows_fingerprints([project.pk]))
        )
        if current is not None and stored.get("started") == current:
            _store(project, checked=current)


def _store(project: Project, **values: Any) -> None:
    # A queryset update: the fingerprint must not move the project's own updated_at.
    fingerprint = {**(project.checked_fingerprint or {}), **values}
    Project.objects.filter(pk=project.pk).update(checked_fingerprint=fingerprint)
    project.checked_fingerprint = fingerprint


def trash_unchanged(
    project: Project, *, now: float | None = None, roots: dict[int, Path] | None = None
) -> bool:
    """Whether the purge can skip the project: ``.trash/`` unchanged since the last walk and
    nothing in it due yet."""
    now = time.time() if now is None else now
    stored = (project.checked_fingerprint or {}).get("trash")
    if not stored:
        return False
    folder = _folder(project, roots)
    if folder is None:
        return False
    stat = _stat(folder / TRASH_DIR)
    mtime = stat.st_mtime_ns if stat is not None else None
    due = stored.get("due")
    return stored.get("mtime_ns") == mtime and (due is None or due > now)


def trash_walked(project: Project, *, mtime_ns: int | None, due: float | None, now: float) -> None:
    """Record a finished purge walk: the trash's mtime before it, the earliest due entry."""
    if mtime_ns is not None and now - mtime_ns / 1e9 < FRESH_SECONDS:
        return
    _store(project, trash={"mtime_ns": mtime_ns, "due": due})
