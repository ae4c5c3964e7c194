"""Deleting projects and scavenging leftover folders (SPEC §5 project_delete, §6, §9).

``project_delete`` archives at once (the project disappears from every active list) and
starts the ``project_delete`` task; its steps call ``project_jobs_stop``,
``project_folder_remove`` and ``project_rows_delete``. The project row stays, archived, so
jobs and events that name it keep their reference.

A folder is only ever deleted for an archived project, after checking that it stays inside the
tenant root, is not a symlink out of it (a symlink is unlinked, never followed), is not the
folder of an active project (case-insensitively) and does not carry an active project's
manifest. Deletion renames the folder to a hidden tombstone first, so an interrupted delete
never leaves a half-empty folder that discovery would take for a new project; a rerun (or the
scavenger) removes tombstones it finds.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from jobs.events import EventType, event_record
from jobs.exceptions import JobStateError, PipelineError
from jobs.models import Event, Job, JobStatus
from jobs.orchestrator import start_task, task_active
from jobs.repository import job_cancel
from photos.models import Photo, Tag
from photos.services.commit import project_for_user
from photos.storage import UnsafePath, check_name, ensure_inside, tenant_root

from .manifest import manifest_read
from .models import Project, Tenant
from .services import project_archive

logger = logging.getLogger(__name__)

TOMBSTONE_PREFIX = ".deleting-"
STOP_WAIT_SECONDS = 30.0
ROW_DELETE_BATCH = 2000
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


def project_delete(*, user: Any, project: Project | int) -> dict[str, Any]:
    """Archive the project now and start its ``project_delete`` task; returns ``{task_id}``.

    Idempotent: while a delete task of the project is queued or running, its id is returned
    instead of a second task. Another tenant's project is ``Http404``.
    """
    project = project_for_user(user=user, project=project)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        project_archive(project=project, actor_id=getattr(user, "pk", None), reason="deleted")
        running = task_active(tenant=project.tenant, task_type="project_delete", project=project)
        if running is not None:
            return {"task_id": str(running.pk)}
        started = start_task("project_delete", project.tenant, project=project, source="user")
    return {"task_id": started["task_id"]}


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


def _rmtree(path: Path) -> None:
    def ignore_missing(func: Any, name: str, exc_info: Any) -> None:
        if not isinstance(exc_info[1], FileNotFoundError):
            raise exc_info[1]

    shutil.rmtree(path, onerror=ignore_missing)


def _tombstones(root: Path, project: Project) -> list[Path]:
    try:
        return sorted(root.glob(f"{TOMBSTONE_PREFIX}{project.uid}-*"))
    except OSError:
        return []


def _refuse_reason(project: Project, root: Path, path: Path) -> str | None:
    """Why ``path`` must not be deleted for ``project``, or ``None`` when it may."""
    if project.status != Project.Status.ARCHIVED:
        return f"project {project.pk} is active"
    if project.archive_reason != Project.ArchiveReason.DELETED:
        return f"project {project.pk} was archived ({project.archive_reason or 'no reason'}), not deleted"
    actives = Project.objects.filter(tenant_id=project.tenant_id, status=Project.Status.ACTIVE)
    if any(f.lower() == project.folder.lower() for f in actives.values_list("folder", flat=True)):
        return f"folder '{project.folder}' belongs to an active project"
    manifest = manifest_read(path) if path.is_dir() else None
    uid = str(manifest.get("uid")) if manifest and manifest.get("uid") else None
    if uid and uid != str(project.uid) and actives.filter(uid=uid).exists():
        return f"folder '{project.folder}' carries the manifest of an active project"
    return None


def project_folder_remove(*, project: Project) -> bool:
    """Delete an archived project's folder and any tombstone; return whether anything went.

    Refuses (``PipelineError``) for an active project or a path outside the tenant root.
    """
    project.refresh_from_db(fields=["status", "folder", "archive_reason"])
    if project.status != Project.Status.ARCHIVED:
        raise PipelineError(f"Refusing to delete the folder of active project {project.pk}.")
    root = tenant_root(project.tenant)
    path = root / check_name(project.folder, what="project folder")
    removed = False
    if os.path.lexists(path):
        reason = _refuse_reason(project, root, path)
        if reason is not None:
            raise PipelineError(f"Refusing to delete {path}: {reason}.")
        if path.is_symlink():
            path.unlink()  # Never follow a link out of the tenant root.
            removed = True
        else:
            ensure_inside(path, root)
            tomb = root / f"{TOMBSTONE_PREFIX}{project.uid}-{uuid.uuid4().hex[:8]}"
            try:
                os.rename(path, tomb)
            except FileNotFoundError:
                pass  # Another run took it first; its tombstone is handled below.
            removed = True
    for tomb in _tombstones(root, project):
        _rmtree(tomb)
        removed = True
    return removed


def project_folder_exists(project: Project) -> bool:
    """Whether an archived project left a folder (or a tombstone) behind."""
    try:
        root = tenant_root(project.tenant)
        path = root / check_name(project.folder, what="project folder")
    except UnsafePath:
        return False
    return os.path.lexists(path) or bool(_tombstones(root, project))


# --- step 3: the rows ---------------------------------------------------------------------


def project_rows_delete(
    *, project: Project, job_id: int | None = None, check: Callable[[], None] | None = None
) -> int:
    """Delete an archived project's photos (in batches) and tags; the project row stays.

    Writes ``project_removed`` once per project. Returns the number of photos deleted.
    """
    project.refresh_from_db(fields=["status"])
    if project.status != Project.Status.ARCHIVED:
        raise PipelineError(f"Refusing to delete the rows of active project {project.pk}.")
    deleted = 0
    while True:
        ids = list(
            Photo.objects.filter(project=project)
            .order_by("id")
            .values_list("pk", flat=True)[:ROW_DELETE_BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            Photo.objects.filter(pk__in=ids).delete()
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
    except PipelineError as exc:
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
