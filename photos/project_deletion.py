"""Deleting projects and scavenging leftover folders (SPEC §5 project_delete, §6, §9).

``project_delete`` archives at once (the project disappears from every active list), frees
the project's folder name in the same step (the folder is renamed to its hidden tombstone
``.deleted-<uid>`` and the row points at that name) and starts the ``project_delete`` task;
its steps call ``project_jobs_stop``, ``project_folder_remove`` and ``project_rows_delete``.
The project row stays, archived, so jobs and events that name it keep their reference.

A folder is only ever deleted for a project the user deleted, and only when it is provably
that project's: its own tombstone (only this module creates one, named by the project's uid),
or, for a project deleted before tombstones existed, a folder whose manifest carries its uid
(renamed to the tombstone first). Even then it is deleted only when every entry in it is
accounted for (``folder_unaccounted``): its manifest, the ``.thumb``/``.preview``/``.trash``
folders, hidden files, symlinks (unlinked, never followed), and originals and sidecars of the
project's own photo rows. Anything else keeps the whole folder, with a
``project_folder_kept`` event naming what was found. A folder named like a deleted project
that is not provably its own is a new folder: discovery adopts it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from core.errors import ApplicationError
from jobs.events import EventType, event_record
from jobs.exceptions import JobStateError
from jobs.lifecycle import job_cancel
from jobs.models import Event, Job, JobStatus
from jobs.tasks import start_task, task_active
from photos import storage
from photos.fsrules import UnsafePath, check_name, folder_rename
from photos.manifest import manifest_read
from photos.models import Photo, Tag
from photos.services.projects import project_archive
from photos.storage import tenant_root
from projects.models import Project, Tenant
from projects.selectors import project_for_user

logger = logging.getLogger(__name__)

TOMBSTONE_PREFIX = ".deleted-"
# Tombstones of an interrupted delete written before names were freed at once.
LEGACY_TOMBSTONE_PREFIX = ".deleting-"
# How many unaccounted names a ``project_folder_kept`` event lists.
KEPT_NAMES_SHOWN = 50
STOP_WAIT_SECONDS = 30.0
ROW_DELETE_BATCH = 2000
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


def project_delete(*, user: Any, project: Project | int) -> str:
    """Archive the project, free its folder name and start its ``project_delete`` task, in one
    transaction; returns the task id.

    Idempotent: while a delete task of the project is queued or running, its id is returned
    instead of a second task. Another tenant's project is ``NotFoundError``. The folder is renamed to
    its tombstone last, so only the commit itself can fail after the rename.
    """
    project = project_for_user(user=user, project=project)
    actor_id = getattr(user, "pk", None)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        project_archive(project=project, actor_id=actor_id, reason="deleted")
        running = task_active(tenant=project.tenant, task_type="project_delete", project=project)
        if running is not None:
            task_id = str(running.pk)
        else:
            started = start_task("project_delete", project.tenant, project=project, source="user")
            task_id = started["task_id"]
        project_folder_release(project=project, actor_id=actor_id)
    return task_id


# --- step 1: stop the project's other jobs ------------------------------------------------


def project_jobs_stop(
    *,
    project: Project,
    keep_task_id: Any = None,
    keep_job_id: int | None = None,
    wait_seconds: float = STOP_WAIT_SECONDS,
    check: Callable[[], None] | None = None,
) -> list[int]:
    """Cancel the project's queued and running jobs except the given task's; return their ids.

    "The project's jobs" are those whose ``project`` is this one (project-scoped tasks, and
    moves into it). Photo-set jobs of other projects are left alone: item handlers skip
    photos of archived projects. Running jobs stop at their next item boundary; wait up to
    ``wait_seconds`` for them, so the folder is not deleted under a running handler.
    """
    jobs = Job.objects.filter(
        tenant_id=project.tenant_id, project=project, status__in=ACTIVE_JOB_STATUSES
    )
    if keep_task_id is not None:
        jobs = jobs.exclude(task_id=keep_task_id)
    if keep_job_id is not None:
        jobs = jobs.exclude(pk=keep_job_id)
    ids = list(jobs.order_by("id").values_list("pk", flat=True))
    for job_id in ids:
        try:
            job_cancel(job_id=job_id)
        except JobStateError:
            pass  # Finished meanwhile (or canceled with its task): nothing to stop.
    deadline = time.monotonic() + wait_seconds
    while ids and time.monotonic() < deadline:
        if not Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING).exists():
            break
        if check is not None:
            check()
        time.sleep(0.5)
    else:
        if ids and Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING).exists():
            logger.warning("Jobs of project %s still running after %ss", project.pk, wait_seconds)
    return ids


# --- step 2: the folder -------------------------------------------------------------------


def tombstone_name(project: Project) -> str:
    """The hidden folder name a deleted project's folder takes: discovery never adopts it."""
    return f"{TOMBSTONE_PREFIX}{project.uid}"


def _rmtree(path: Path) -> None:
    def ignore_missing(_func: Any, _name: str, exc_info: Any) -> None:
        if not isinstance(exc_info[1], FileNotFoundError):
            raise exc_info[1]

    shutil.rmtree(path, onerror=ignore_missing)


def _tombstones(root: Path, project: Project) -> list[Path]:
    """The project's tombstone and any legacy ``.deleting-<uid>-*`` ones that exist."""
    found = [root / tombstone_name(project)]
    legacy = f"{LEGACY_TOMBSTONE_PREFIX}{project.uid}-"
    try:
        found += sorted(
            root / entry.name
            for entry in storage.folder_entries(root)
            if entry.name.startswith(legacy)
        )
    except OSError:
        pass
    return [path for path in found if os.path.lexists(path)]


def _refuse_reason(project: Project, path: Path) -> str | None:
    """Why the folder at ``path`` must not be taken for ``project``, or ``None`` when it may."""
    if project.status != Project.Status.ARCHIVED:
        return f"project {project.pk} is active"
    if project.archive_reason != Project.ArchiveReason.DELETED:
        return f"project {project.pk} was archived ({project.archive_reason or 'no reason'}), not deleted"
    actives = Project.objects.filter(tenant_id=project.tenant_id, status=Project.Status.ACTIVE)
    name = path.name.lower()
    if any(f.lower() == name for f in actives.values_list("folder", flat=True)):
        return f"folder '{path.name}' belongs to an active project"
    manifest = manifest_read(path) if path.is_dir() else None
    uid = str(manifest.get("uid")) if manifest and manifest.get("uid") else None
    if uid and uid != str(project.uid) and actives.filter(uid=uid).exists():
        return f"folder '{path.name}' carries the manifest of an active project"
    return None


def _manifest_is_own(path: Path, project: Project) -> bool:
    manifest = manifest_read(path) if path.is_dir() and not path.is_symlink() else None
    return manifest is not None and str(manifest.get("uid")) == str(project.uid)


def project_folder_release(
    *, project: Project, actor_id: int | None = None, proven_only: bool = False
) -> bool:
    """Free a deleted project's folder name: rename the folder to its tombstone, point the row
    at the tombstone name. Returns whether the row changed.

    Called by ``project_delete`` inside its transaction: the folder is the project's (it was
    active a moment ago) unless it is an active project's or carries another active project's
    manifest, in which case only the row lets go of the name. With ``proven_only`` (a project
    deleted before names were freed at once) the folder is taken only when its manifest carries
    this project's uid: a folder the user made since under the same name stays where it is.
    If the transaction fails after the rename, the folder is renamed back.
    """
    project.refresh_from_db(fields=["status", "folder", "archive_reason"])
    if project.status != Project.Status.ARCHIVED:
        raise ApplicationError(f"Refusing to release the folder of active project {project.pk}.")
    tomb = tombstone_name(project)
    old = project.folder
    if old == tomb:
        return False
    root = tenant_root(project.tenant)
    try:
        path: Path | None = root / check_name(old, what="project folder")
    except UnsafePath:
        path = None
    take = (
        path is not None
        and os.path.lexists(path)
        and _refuse_reason(project, path) is None
        and (not proven_only or path.is_symlink() or _manifest_is_own(path, project))
        and not os.path.lexists(root / tomb)
    )
    renamed = False
    try:
        with transaction.atomic():
            if not Project.objects.filter(pk=project.pk, folder=old).update(folder=tomb):
                return False
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.FOLDER_RENAMED,
                actor_id=actor_id,
                project_id=project.pk,
                payload={
                    "project_id": project.pk,
                    "old_folder": old,
                    "folder": tomb,
                    "deleted": True,
                    "moved_on_disk": bool(take),
                },
            )
            if take:
                assert path is not None
                folder_rename(path, root / tomb)
                renamed = True
    except BaseException:
        if renamed and path is not None:
            folder_rename(root / tomb, path)
        raise
    project.folder = tomb
    return True


def folder_unaccounted(path: Path, basenames: set[str]) -> list[str]:
    """Entries of a deleted project's folder that the system did not put there, by name.

    Accounted for: the manifest and other hidden files, the ``.thumb``/``.preview``/``.trash``
    folders (generated files and trashed originals), symlinks (unlinked, never followed), and
    originals and sidecars whose base name is in ``basenames`` (the project's photo rows).
    """
    accounted = (storage.EntryKind.SYMLINK, storage.EntryKind.SYSTEM_DIR, storage.EntryKind.HIDDEN)
    strays: list[str] = []
    for entry in storage.folder_entries(path):
        if entry.kind in accounted:
            continue
        if entry.kind == storage.EntryKind.DIR:
            strays.append(entry.name + "/")
        elif not any(base in basenames for base in entry.bases):
            strays.append(entry.name)
    return sorted(strays)


def _keep_reported(project: Project, path: Path, strays: list[str], job_id: int | None) -> None:
    logger.warning(
        "Kept %s of deleted project %s: %d unaccounted entr(ies)",
        path.name,
        project.pk,
        len(strays),
    )
    already = Event.objects.filter(
        tenant_id=project.tenant_id, project=project, type=EventType.PROJECT_FOLDER_KEPT
    ).exists()
    if not already:
        event_record(
            tenant_id=project.tenant_id,
            type=EventType.PROJECT_FOLDER_KEPT,
            project_id=project.pk,
            job_id=job_id,
            payload={
                "project_id": project.pk,
                "folder": path.name,
                "count": len(strays),
                "names": strays[:KEPT_NAMES_SHOWN],
            },
        )


def project_folder_remove(*, project: Project, job_id: int | None = None) -> bool:
    """Delete a deleted project's tombstone(s) when provably its own; return whether any went.

    Refuses (``ApplicationError``) for an active project or one archived for another reason. A
    folder holding anything not accounted for (``folder_unaccounted``) is kept and reported.
    """
    project.refresh_from_db(fields=["status", "folder", "archive_reason"])
    if project.status != Project.Status.ARCHIVED:
        raise ApplicationError(f"Refusing to delete the folder of active project {project.pk}.")
    if project.archive_reason != Project.ArchiveReason.DELETED:
        raise ApplicationError(
            f"Refusing to delete the folder of project {project.pk}: it was archived "
            f"({project.archive_reason or 'no reason'}), not deleted."
        )
    project_folder_release(project=project, proven_only=True)
    root = tenant_root(project.tenant)
    removed = False
    basenames: set[str] | None = None
    for tomb in _tombstones(root, project):
        if tomb.is_symlink():
            tomb.unlink()  # Never follow a link out of the tenant root.
            removed = True
            continue
        if not tomb.is_dir():
            continue
        if basenames is None:
            basenames = set(
                Photo.objects.filter(project=project).values_list("basename", flat=True)
            )
        strays = folder_unaccounted(tomb, basenames)
        if strays:
            _keep_reported(project, tomb, strays, job_id)
            continue
        _rmtree(tomb)
        removed = True
    return removed


def project_folder_exists(project: Project) -> bool:
    """Whether a deleted project left a tombstone (or a legacy folder of its own) behind."""
    try:
        root = tenant_root(project.tenant)
        path = root / check_name(project.folder, what="project folder")
    except UnsafePath:
        return False
    if _tombstones(root, project):
        return True
    return os.path.lexists(path) and (path.is_symlink() or _manifest_is_own(path, project))


# --- step 3: the rows ---------------------------------------------------------------------


def project_rows_delete(
    *, project: Project, job_id: int | None = None, check: Callable[[], None] | None = None
) -> int:
    """Delete an archived project's photos (in batches) and tags; the project row stays.

    Writes ``project_removed`` once per project. Returns the number of photos deleted.
    """
    project.refresh_from_db(fields=["status"])
    if project.status != Project.Status.ARCHIVED:
        raise ApplicationError(f"Refusing to delete the rows of active project {project.pk}.")
    deleted = 0
    while True:
        # Trashed rows too: their files went with the folder.
        ids = list(
            Photo.all_objects.filter(project=project)
            .order_by("id")
            .values_list("pk", flat=True)[:ROW_DELETE_BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            Photo.all_objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if check is not None:
            check()
    with transaction.atomic():
        Tag.objects.filter(project=project).delete()
        already = Event.objects.filter(
            project=project, type=EventType.PROJECT_REMOVED, tenant_id=project.tenant_id
        ).exists()
        if not already:
            event_record(
                tenant_id=project.tenant_id,
                type=EventType.PROJECT_REMOVED,
                project_id=project.pk,
                job_id=job_id,
                payload={"project_id": project.pk, "name": project.name, "photos": deleted},
            )
    return deleted


# --- scavenging ---------------------------------------------------------------------------


def project_scavenge(*, project: Project) -> bool:
    """Remove the leftover folder of one archived project; an active project is left alone."""
    project.refresh_from_db(fields=["status", "folder", "archive_reason"])
    if project.status != Project.Status.ARCHIVED:
        logger.info("Project %s is active; its folder is not scavenged", project.pk)
        return False
    if project.archive_reason != Project.ArchiveReason.DELETED:
        # Archived because its folder went missing: a folder that came back is the user's.
        logger.info("Project %s was not deleted by a user; its folder is kept", project.pk)
        return False
    if not project_folder_exists(project):
        return False
    try:
        return project_folder_remove(project=project)
    except ApplicationError as exc:
        logger.warning("Scavenge of project %s skipped: %s", project.pk, exc)
        return False


def projects_scavenge(*, tenant: Tenant, check: Callable[[], None] | None = None) -> list[int]:
    """Remove leftover folders of every archived project of the tenant; return their ids."""
    removed = []
    archived = Project.objects.for_tenant(tenant).filter(
        status=Project.Status.ARCHIVED, archive_reason=Project.ArchiveReason.DELETED
    )
    for project in archived.select_related("tenant").order_by("id"):
        if check is not None:
            check()
        if project_folder_exists(project) and project_scavenge(project=project):
            removed.append(project.pk)
    return removed
