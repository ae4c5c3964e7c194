"""``duplicate_resolution``, and the ingest of new base names it shares with ``folder_check``.

A new base name on disk that belongs to a photo of another project of the tenant is renamed to
``<base>_duplicate<N>`` (the smallest N free in the folder and in the tenant's rows) with all
its files, never over an existing file (``fsrules.move_no_replace``), then ingested.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from photos import storage
from photos.fsrules import check_name, move_no_replace, nfc, numbered_names
from photos.ingest import photos_rows_for_disk
from photos.models import Photo
from projects.models import Project
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

from .scan import FolderScan, photo_chunks, start_postprocess, usable_folder

logger = logging.getLogger(__name__)

DUPLICATE_SUFFIX = "_duplicate"


def new_bases(project: Project, scan: FolderScan) -> set[str]:
    """Base names on disk (in NFC) that have no row in the project (compared in NFC)."""
    new = set(scan.bases())
    for rows in photo_chunks(project, "basename"):
        new.difference_update(nfc(base) for _, base in rows)
    return new


def _foreign_bases(project: Project, names: set[str]) -> set[str]:
    """Those of ``names`` that belong to a photo of another project of the same tenant."""
    foreign: set[str] = set()
    ordered = sorted(names)
    size = settings.PIPELINE_MANIFEST_CHUNK
    for start in range(0, len(ordered), size):
        foreign.update(
            Photo.objects.filter(
                project__tenant_id=project.tenant_id, basename__in=ordered[start : start + size]
            )
            .exclude(project_id=project.pk)
            .values_list("basename", flat=True)
        )
    return foreign


def duplicate_name(*, project: Project, base: str, scan: FolderScan) -> str:
    """``<base>_duplicate<N>`` with the smallest N free in the folder and in the tenant's rows.

    The base is shortened (whole characters) when the suffix would take the name over
    ``storage.BASENAME_MAX_BYTES``, so the renamed photo's derived names still fit.
    """
    for candidate in numbered_names(base, DUPLICATE_SUFFIX, max_bytes=storage.BASENAME_MAX_BYTES):
        # The scan is a snapshot; a file that appears since is never overwritten
        # (``move_no_replace``), the rename is undone and the next run picks the next N.
        if (
            candidate not in scan
            and not Photo.objects.filter(
                project__tenant_id=project.tenant_id, basename=candidate
            ).exists()
        ):
            return candidate
    raise AssertionError("numbered_names never ends")


def _with_originals(files: dict[str, storage.BaseFiles]) -> dict[str, storage.BaseFiles]:
    """Leave out base names with sidecars but no original: they have no photo."""
    return {base: found for base, found in files.items() if found.all}


def _after_base(name: str, base: str) -> str:
    """What follows the base name in ``name`` (``.JPG``, ``.CR2.xmp``), whichever Unicode
    form the name is in on disk (the base names compare in NFC)."""
    wanted = nfc(base)
    for cut in range(len(name) + 1):
        if (cut == len(name) or name[cut] == ".") and nfc(name[:cut]) == wanted:
            return name[cut:]
    return name[len(base) :]


def _renamed(files: storage.BaseFiles, new_base: str) -> storage.BaseFiles:
    """The same files under ``new_base`` (each extension and its case kept), sidecars too."""
    base = files.basename
    return storage.BaseFiles(
        new_base,
        [new_base + _after_base(name, base) for name in files.jpg],
        [new_base + _after_base(name, base) for name in files.raw],
        [new_base + _after_base(name, base) for name in files.other],
        [new_base + _after_base(name, base) for name in files.sidecars],
    )


def _rename_base(folder: Path, files: storage.BaseFiles, renamed: storage.BaseFiles) -> None:
    """Rename every file of a base name, never over an existing file; undo on failure, so a
    base name is never left split between two names."""
    done: list[tuple[Path, Path]] = []
    try:
        for old, new in zip(files.with_sidecars, renamed.with_sidecars, strict=True):
            source, target = folder / old, folder / check_name(new)
            move_no_replace(source, target)
            done.append((source, target))
    except OSError:
        for source, target in reversed(done):
            move_no_replace(target, source)
        raise


def new_bases_ingest(
    *,
    project: Project,
    folder: Path,
    scan: FolderScan,
    step: str,
    report: Report,
    dry_run: bool,
    duplicates_only: bool,
    followup: bool,
    new: set[str] | None = None,
) -> list[int]:
    """Rename duplicates among the new base names, then create rows (all new, or only those).

    ``new``: the new base names when the caller has them (``new_bases``). A base name over
    ``storage.BASENAME_MAX_BYTES`` is never ingested or renamed: it is reported (``error``)
    and its files stay as they are. Returns the ids of the rows created (none in a dry run).
    """
    label = where(project)
    if new is None:
        new = new_bases(project, scan)
    for base in sorted(b for b in new if storage.basename_problem(b)):
        report.add(Change(step, "error", label, base[:40], "base name too long; not ingested"))
    new = {b for b in new if storage.basename_problem(b) is None}
    if not new:
        return []
    foreign = _foreign_bases(project, new)
    planned: list[str] = []
    groups: dict[str, storage.BaseFiles] = {}
    originals = _with_originals(storage.folder_files(folder, foreign))
    for base in sorted(foreign):
        files = originals.get(base)
        if files is None or not files.all:
            continue  # Gone since the scan.
        new_base = duplicate_name(project=project, base=base, scan=scan)
        report.add(
            Change(
                step, "rename_duplicate", label, base, f"to {new_base}; {len(files.all)} file(s)"
            )
        )
        renamed = _renamed(files, new_base)
        if not dry_run:
            try:
                _rename_base(folder, files, renamed)
            except OSError as exc:
                logger.warning("Could not rename duplicate %s in %s: %s", base, folder, exc)
                report.add(Change(step, "error", label, base, str(exc)))
                continue
            scan.forget(base)
        # Record the new name, so the next duplicate of this run takes the next free N.
        for name in renamed.all:
            scan.add(name)
        planned.append(new_base)
        groups[new_base] = renamed
    if not duplicates_only:
        others = new - foreign
        if dry_run:
            planned.extend(others)
        else:
            found = _with_originals(storage.folder_files(folder, others))
            planned.extend(found)
            groups.update(found)
    for base in sorted(planned):
        report.add(Change(step, "create_row", label, base))
    if dry_run or not groups:
        return []
    ids = [photo.pk for photo in photos_rows_for_disk(project=project, groups=groups)]
    if followup and ids:
        start_postprocess(project=project, photo_ids=ids)
    return ids


def duplicates_resolve(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    followup: bool = True,
) -> Report:
    """Rename new base names that belong to another project of the tenant, then ingest them.

    Only base names without a row in this project count: a photo already ingested here is this
    project's, whatever other projects hold, so two projects never rename each other's files.
    """
    report = report or Report(dry_run=dry_run)
    step = "duplicate_resolution"
    folder = usable_folder(project, step=step, report=report)
    if folder is None:
        return report
    checkpoint()
    new_bases_ingest(
        project=project,
        folder=folder,
        scan=FolderScan.of(folder),
        step=step,
        report=report,
        dry_run=dry_run,
        duplicates_only=True,
        followup=followup,
    )
    return report
