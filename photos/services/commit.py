"""Commit: start the task that trashes what culling discarded (SPEC §3 "pending delete", §5, §9).

Committing never touches files here: it starts a ``change_commit`` / ``change_commit_all``
task whose ``file_removal`` step moves the discarded files to ``.trash/``
(``photos.services.removal``). What a commit would trash is read by ``photos.selectors``
(``pending_totals``, ``photos_pending_deletes``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jobs.tasks import StartedTask, start_task
from photos.models import Photo
from photos.selectors import projects_select
from projects.models import Project
from projects.selectors import project_for_user, project_require_active

from .results import CommitStarted, NothingPending, ProjectPending


def _pending_rows(projects: list[Project]) -> list[tuple[int, str, int]]:
    return list(
        Photo.objects.filter(project__in=[p.pk for p in projects])
        .pending_delete()
        .order_by("project_id", "id")
        .values_list("pk", "basename", "project_id")
    )


def _items(rows: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    """The task's items; each names its project, so starting the task reads no photo again."""
    return [{"photo_id": pk, "basename": base, "project_id": pid} for pk, base, pid in rows]


def _commit_started(
    started: StartedTask,
    projects: list[Project],
    rows: list[tuple[int, str, int]],
    missing: list[Any],
) -> CommitStarted:
    per_project: dict[int, int] = {}
    for _, _, project_id in rows:
        per_project[project_id] = per_project.get(project_id, 0) + 1
    listed = [
        ProjectPending(project_id=p.pk, name=p.name, pending=per_project[p.pk])
        for p in projects
        if p.pk in per_project
    ]
    return CommitStarted(task=started, projects=listed, total_pending=len(rows), missing=missing)


def photos_commit(
    *, user: Any, project_ids: list[int] | None = None
) -> CommitStarted | NothingPending:
    """Start one ``change_commit_all`` task over the pending photos of the given projects.

    Its items are exactly the photos pending at this moment, each once (auto-chunked at
    ``MAX_ITEMS_PER_JOB``). A photo whose keep flags change before ``file_removal`` reaches it
    is handled as it then is: the handler re-reads the row. ``NothingPending`` when no selected
    project has a pending delete (nothing starts).
    """
    tenant, projects, missing = projects_select(user=user, project_ids=project_ids)
    with transaction.atomic():
        rows = _pending_rows(projects)
        if not rows or tenant is None:
            return NothingPending(missing=missing)
        started = start_task(
            "change_commit_all",
            tenant,
            scope="photo_set",
            items=_items(rows),
            source="commit",
        )
    return _commit_started(started, projects, rows, missing)


def project_commit(*, user: Any, project: Project | int) -> CommitStarted | NothingPending:
    """Start a ``change_commit`` task for one project's pending photos.

    ``NotFoundError`` for another tenant's project, ``ProjectArchived`` for an archived one.
    """
    project = project_require_active(project_for_user(user=user, project=project))
    with transaction.atomic():
        rows = _pending_rows([project])
        if not rows:
            return NothingPending()
        started = start_task(
            "change_commit",
            project.tenant,
            project=project,
            scope="project",
            items=_items(rows),
            source="commit",
        )
    return _commit_started(started, [project], rows, [])
