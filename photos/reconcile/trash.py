"""``trash_maintenance``: purge ``.trash/`` entries trashed more than the TTL ago."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

from photos.fsrules import TRASH_DIR, trashed_at
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from . import fingerprint
from .scan import project_folder


def trash_purge(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    now: float | None = None,
    ttl_seconds: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> Report:
    """Delete ``.trash/`` entries trashed more than the TTL ago (files, links, emptied folders).

    Never creates the project folder or its trash folder.
    """
    report = report or Report(dry_run=dry_run)
    now = time.time() if now is None else now
    ttl = settings.PIPELINE_TRASH_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    folder = project_folder(project)
    if folder is None:
        return report
    trash = folder / TRASH_DIR
    try:
        walked_mtime: int | None = trash.lstat().st_mtime_ns  # before the walk: see fingerprint
    except FileNotFoundError:
        walked_mtime = None
    if walked_mtime is None:
        if not dry_run:
            fingerprint.trash_walked(project, mtime_ns=None, due=None, now=now)
        return report
    if not trash.is_dir() or trash.is_symlink():
        return report
    label = where(project)
    due: float | None = None
    for dirpath, dirnames, filenames in os.walk(trash, topdown=False):
        checkpoint()
        base = Path(dirpath)
        for name in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            path = base / name
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            age = now - trashed_at(stat)
            if age <= ttl:
                entry_due = trashed_at(stat) + ttl
                due = entry_due if due is None else min(due, entry_due)
                continue
            report.add(
                Change(
                    "trash_maintenance",
                    "purge",
                    label,
                    str(path.relative_to(folder)),
                    f"trashed {int(age)} s ago",
                )
            )
            if not dry_run:
                path.unlink(missing_ok=True)
        if base != trash and not dry_run:
            try:
                base.rmdir()  # Only once emptied: a folder with fresh trash in it stays.
            except OSError:
                pass
    if not dry_run:
        fingerprint.trash_walked(project, mtime_ns=walked_mtime, due=due, now=now)
    return report
