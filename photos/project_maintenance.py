"""Tenant-level maintenance of project folders (SPEC §6): orphans, alignment, discovery.

- ``orphan_cleanup`` (``orphaned_project_cleanup``): an active project whose folder is gone is
  archived; one this rule archived whose folder is still gone on a later run is removed.
- ``folder_align`` / ``folders_align`` (``folder_alignment``): rename a project's folder to the
  unique folder of its display name; converges in one run.
- ``folders_discover`` (``folder_discovery``): projects for folders under the tenant root that no
  project owns, recognising a renamed folder by its manifest uid.
Like ``photos.reconcile`` every service takes ``dry_run`` and reports to a
``projects.reporting.Report`` (``photos.reconcile.plan`` runs them all as a dry run). None of
them deletes a folder or a file, and none runs while the tenant root itself is missing (storage
not mounted is not "every project was deleted").
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.events import EventType, event_record
from photos import fsrules, storage
from photos.fsrules import folder_rename
from photos.manifest import manifest_read, manifest_uid, manifest_write
from photos.models import Photo
from photos.project_deletion import ROW_DELETE_BATCH, project_folder_release
from photos.services.projects import project_archive, project_folder_for
from projects.folders import folder_name_sanitize
from projects.models import Project, Tenant
from projects.names import name_normalize
from projects.reporting import Change, Checkpoint, Report, no_checkpoint, where

logger = logging.getLogger(__name__)

ORPHAN_REASON = "folder_missing"


def tenant_root_present(tenant: Tenant) -> bool:
    """Whether the tenant's folder exists; when it does not, storage is probably unmounted."""
    return storage.tenant_root(tenant).is_dir()


def _folder_exists(project: Project) -> bool:
    try:
        return os.path.lexists(storage.project_dir(project))
    except fsrules.UnsafePath:
        return True  # Never treat a folder we cannot look at as gone.


# --- orphans ------------------------------------------------------------------------------


def archived_as_orphan(project: Project) -> bool:
    """Whether the project was archived by this rule (its folder was missing)."""
    return (
        project.status == Project.Status.ARCHIVED
        and project.archive_reason == Project.ArchiveReason.FOLDER_MISSING
    )


def orphan_cleanup(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    archived_before: datetime | None = None,
    job_id: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> Report:
    """Archive an active project whose folder is gone; remove one archived so on a later run.

    ``archived_before`` is when "this run" began (the job's creation): a project archived at or
    after it is left for the next run, so a retried job never archives and removes in one go.
    A project whose folder exists is never touched; neither is a project archived for another
    reason (a user's delete: ``project_scavenge`` and ``project_cleanup_db`` own those).
    """
    report = report or Report(dry_run=dry_run)
    step = "orphaned_project_cleanup"
    if _folder_exists(project):
        # The usual case, decided on the row as listed, without a query: only acting needs a
        # fresh row (a row changed meanwhile at worst leaves its project to the next run).
        return report
    try:
        project.refresh_from_db()
    except Project.DoesNotExist:
        return report
    if not tenant_root_present(project.tenant):
        report.add(
            Change(step, "skipped_folder_missing", where(project), detail="tenant root missing")
        )
        return report
    if _folder_exists(project):
        return report
    if project.status == Project.Status.ACTIVE:
        report.add(Change(step, "archive_project", where(project), detail="folder missing"))
        if not dry_run:
            project_archive(project=project, reason=ORPHAN_REASON)
        return report
    archived_before = archived_before or timezone.now()
    if not archived_as_orphan(project) or not (
        project.archived_at and project.archived_at < archived_before
    ):
        return report
    report.add(Change(step, "remove_project", where(project), detail="folder still missing"))
    if not dry_run:
        project_remove(project=project, job_id=job_id, checkpoint=checkpoint)
    return report


def _still_orphan(project: Project) -> bool:
    """Archived, same folder, and that folder still gone (discovery may adopt it meanwhile)."""
    unchanged = Project.objects.filter(
        pk=project.pk, status=Project.Status.ARCHIVED, folder=project.folder
    ).exists()
    return unchanged and not _folder_exists(project)


def project_remove(
    *, project: Project, job_id: int | None = None, checkpoint: Checkpoint = no_checkpoint
) -> bool:
    """Delete an orphaned project's rows: photos in chunks, then the project; whether it did.

    Each chunk is its own transaction, so a crash leaves fewer photos and a retry finishes.
    Before each chunk the project is checked to be still archived with its folder gone, so a
    folder that comes back (and is adopted by discovery) stops the removal. The
    ``project_removed`` event carries the ids in its payload (its project FK is nulled).
    """
    while True:
        checkpoint()
        if not _still_orphan(project):
            logger.info("Project %s is no longer an orphan; not removed", project.pk)
            return False
        # Trashed rows too: the whole project goes.
        ids = list(
            Photo.all_objects.filter(project_id=project.pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:ROW_DELETE_BATCH]
        )
        if not ids:
            break
        Photo.all_objects.filter(pk__in=ids).delete()
    with transaction.atomic():
        event_record(
            tenant_id=project.tenant_id,
            type=EventType.PROJECT_REMOVED,
            job_id=job_id,
            payload={
                "project_id": project.pk,
                "uid": str(project.uid),
                "name": project.name,
                "folder": project.folder,
                "reason": ORPHAN_REASON,
            },
        )
        Project.objects.filter(pk=project.pk).delete()
    return True


def project_restore(*, project: Project, job_id: int | None = None) -> bool:
    """Re-activate a project archived by the orphan rule whose folder is back (idempotent)."""
    with transaction.atomic():
        changed = Project.objects.filter(pk=project.pk, status=Project.Status.ARCHIVED).update(
            status=Project.Status.ACTIVE,
            archived_at=None,
            archive_reason="",
            updated_at=timezone.now(),
        )
        if changed:
            project.refresh_from_db()
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.PROJECT_DISCOVERED,
                project_id=project.pk,
                job_id=job_id,
                payload={
                    "project_id": project.pk,
                    "name": project.name,
                    "folder": project.folder,
                    "restored": True,
                },
            )
    return bool(changed)


# --- alignment ----------------------------------------------------------------------------


def folder_align(
    *,
    project: Project,
    dry_run: bool = False,
    report: Report | None = None,
    job_id: int | None = None,
) -> bool:
    """Rename the project's folder to the unique folder of its name; returns whether it did.

    The project's own folder counts as free, so an aligned project never gets a `` (2)``. A
    target that exists (a folder no project owns yet, or a race) is left alone and logged. The
    database row changes in the same transaction as the rename on disk: if the rename fails the
    row is not changed, and if the commit fails the folder is renamed back.
    """
    report = report or Report(dry_run=dry_run)
    step = "folder_alignment"
    if project.folder == folder_name_sanitize(project.name):
        # Aligned (its folder is its name's first choice, which counts as free for it): decided
        # on the row as listed, without reading every folder of the tenant; a row renamed
        # meanwhile is aligned by the next run.
        return False
    try:
        project.refresh_from_db()
    except Project.DoesNotExist:
        return False
    try:
        current = storage.project_dir(project)
    except fsrules.UnsafePath:
        return False
    if not current.is_dir():
        return False  # Missing folders are the orphan rule's.
    target = project_folder_for(tenant=project.tenant, name=project.name, own=project)
    if target == project.folder:
        return False
    new_path = storage.project_dir(project, folder=target)
    same_folder = os.path.lexists(new_path) and os.path.samefile(new_path, current)
    if os.path.lexists(new_path) and not same_folder:
        logger.warning("Cannot align %s to %r: it exists", where(project), target)
        report.add(Change(step, "alignment_blocked", where(project), target, "target exists"))
        return False
    report.add(Change(step, "rename_folder", where(project), target, f"from {project.folder}"))
    if dry_run:
        return True
    old = project.folder
    renamed = False
    try:
        with transaction.atomic():
            if not _folder_record(project=project, old=old, new=target, job_id=job_id):
                return False
            folder_rename(current, new_path)
            renamed = True
    except IntegrityError:
        logger.warning("Cannot align %s to %r: another project took it", where(project), target)
        return False
    except BaseException:
        if renamed:
            folder_rename(new_path, current)
        raise
    project.folder = target
    return True


def folders_align(
    *,
    projects: Iterable[Project],
    dry_run: bool = False,
    report: Report | None = None,
    job_id: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    passes: int = 3,
) -> Report:
    """Align every project; repeat while a rename freed a name another project waits for.

    Two projects that swapped names need two passes, so one run converges and the next finds
    nothing to do.
    """
    report = report or Report(dry_run=dry_run)
    projects = list(projects)
    for _ in range(1 if dry_run else passes):
        changed = False
        for project in projects:
            checkpoint()
            changed |= folder_align(project=project, dry_run=dry_run, report=report, job_id=job_id)
        if not changed:
            break
    return report


# --- discovery ----------------------------------------------------------------------------


def _adoptable(project: Project) -> bool:
    return project.status == Project.Status.ACTIVE or archived_as_orphan(project)


def _manifest_created_at(data: dict | None) -> datetime | None:
    value = (data or {}).get("created_at")
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if timezone.is_aware(parsed) else None
    return None


def folders_discover(
    *,
    tenant: Tenant,
    dry_run: bool = False,
    report: Report | None = None,
    job_id: int | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> list[Project]:
    """Projects for the folders under the tenant root that no project owns.

    For each such folder (hidden ones and symlinks ignored, in name order):

    - its manifest's uid names a project of the tenant whose own folder is gone (active, or
      archived by the orphan rule): that project moved; its ``folder`` is updated (and it is
      re-activated). Two folders with one uid: the first adopts it, the second is a copy.
    - its uid names no project at all (a rebuilt database): a project is created with the
      manifest's uid, name and creation time.
    - otherwise (no manifest, an unreadable one, or a copy whose uid is taken): a new project
      named after the folder, with a new uid written into the manifest.

    A folder owned by a project archived by the orphan rule is back: that project is
    re-activated. A folder named like a deleted project that is not provably its leftover (no
    manifest with its uid) is adopted like any new folder: the deleted row lets go of the name. Nothing is ever deleted or renamed on disk; alignment may rename later.
    Returns the projects created, adopted or re-activated (empty in a dry run).
    """
    report = report or Report(dry_run=dry_run)
    step = "folder_discovery"
    root = storage.tenant_root(tenant)
    if not root.is_dir():
        return []
    owners = {p.folder: p for p in Project.objects.for_tenant(tenant)}
    names = sorted(
        entry.name
        for entry in storage.folder_entries(root)
        if entry.kind == storage.EntryKind.DIR and not storage.is_hidden(entry.name)
    )
    touched: list[Project] = []
    claimed: set[int] = set()
    for name in names:
        checkpoint()
        label = f"{tenant.slug}/{name}"
        owner = owners.get(name)
        if owner is not None and _deleted_owner_lets_go(owner, root / name, dry_run=dry_run):
            report.add(Change(step, "release_name", label, detail=f"deleted project {owner.pk}"))
            owners.pop(name, None)
            owner = None
        if owner is not None:
            if owner.status == Project.Status.ARCHIVED and archived_as_orphan(owner):
                report.add(Change(step, "restore_project", label, detail=f"project {owner.pk}"))
                if not dry_run and project_restore(project=owner, job_id=job_id):
                    touched.append(owner)
            continue
        if len(name) > Project._meta.get_field("folder").max_length:  # type: ignore[operator]
            # Longer than the column: an over-long folder within it is adopted, then
            # folder_alignment gives it a name within the byte cap.
            report.add(Change(step, "error", label, detail="folder name too long"))
            continue
        folder = root / name
        data = manifest_read(folder)
        uid = manifest_uid(data)
        named = Project.objects.select_related("tenant").filter(uid=uid).first() if uid else None
        if (
            named is not None
            and named.tenant_id == tenant.pk
            and named.pk not in claimed
            and _adoptable(named)
            and not _folder_exists(named)
        ):
            report.add(
                Change(
                    step, "adopt_folder", label, detail=f"project {named.pk}, was {named.folder}"
                )
            )
            claimed.add(named.pk)
            if not dry_run and _adopt(project=named, folder=name, job_id=job_id):
                owners.pop(named.folder, None)
                touched.append(named)
            owners[name] = named
            continue
        keep_uid = uid is not None and named is None
        display = (data or {}).get("name") if keep_uid else None
        display = name_normalize(str(display).strip()[:255] if display else name)
        report.add(
            Change(
                step,
                "create_project",
                label,
                display,
                f"uid {uid} kept" if keep_uid else "new uid",
            )
        )
        if dry_run:
            continue
        project = _create(
            tenant=tenant,
            folder=name,
            name=display,
            uid=uid if keep_uid else None,
            created_at=_manifest_created_at(data) if keep_uid else None,
            job_id=job_id,
        )
        if project is not None:
            owners[name] = project
            claimed.add(project.pk)
            touched.append(project)
    return touched


def _deleted_owner_lets_go(owner: Project, path: Path, *, dry_run: bool) -> bool:
    """Whether a deleted project holds the name of a folder that is not provably its own.

    Only a project deleted before names were freed at once still holds its old name. A folder
    carrying its manifest is its leftover (the scavenger's); any other folder of that name is
    the user's, so the row lets go of the name (it takes its tombstone name) and discovery
    adopts the folder like any other.
    """
    if owner.status != Project.Status.ARCHIVED:
        return False
    if owner.archive_reason != Project.ArchiveReason.DELETED:
        return False
    if manifest_uid(manifest_read(path)) == owner.uid:
        return False
    if not dry_run:
        project_folder_release(project=owner, proven_only=True)
    return True


def _folder_record(
    *, project: Project, old: str, new: str, job_id: int | None, **extra: Any
) -> bool:
    """Point the project at folder ``new`` if it still has ``old`` (compare-and-set), with its
    ``folder_renamed`` event. Call inside the caller's transaction; a taken folder raises
    ``IntegrityError``."""
    if not Project.objects.filter(pk=project.pk, folder=old).update(
        folder=new, updated_at=timezone.now()
    ):
        return False
    event_record(
        tenant_id=project.tenant_id,
        type=EventType.FOLDER_RENAMED,
        project_id=project.pk,
        job_id=job_id,
        payload={"project_id": project.pk, "old_folder": old, "folder": new, **extra},
    )
    return True


def _adopt(*, project: Project, folder: str, job_id: int | None) -> bool:
    old = project.folder
    try:
        with transaction.atomic():
            if not _folder_record(
                project=project, old=old, new=folder, job_id=job_id, discovered=True
            ):
                return False
    except IntegrityError:
        return False
    project.refresh_from_db()
    if project.status == Project.Status.ARCHIVED:
        project_restore(project=project, job_id=job_id)
    manifest_write(storage.project_dir(project), project)
    return True


def _create(
    *,
    tenant: Tenant,
    folder: str,
    name: str,
    uid: uuid.UUID | None,
    created_at: datetime | None,
    job_id: int | None,
) -> Project | None:
    try:
        with transaction.atomic():
            project = Project(tenant=tenant, name=name, folder=folder)
            if uid is not None:
                project.uid = uid
            project.save()
            if created_at is not None:
                Project.objects.filter(pk=project.pk).update(created_at=created_at)
                project.created_at = created_at
            event_record(
                tenant_id=tenant.pk,
                type=EventType.PROJECT_DISCOVERED,
                project_id=project.pk,
                job_id=job_id,
                payload={
                    "project_id": project.pk,
                    "uid": str(project.uid),
                    "name": name,
                    "folder": folder,
                    "uid_kept": uid is not None,
                },
            )
    except IntegrityError:
        logger.warning("Folder %s/%s was claimed meanwhile; left for the next run", tenant, folder)
        return None
    manifest_write(storage.project_dir(project), project)
    return project
