"""Revert: keep flags back to availability, undoing culling (SPEC §5, §9).

A pure database change, no file is touched: batches of photos per transaction, each with the
``item`` events of its photos, and one ``pending_changes`` event per project at the end.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.events import events_record_bulk
from photos.events import item_event
from photos.models import Photo
from photos.pending import pending_changes_events
from photos.selectors import projects_select
from projects.models import Project
from projects.selectors import project_for_user, project_require_active

from .results import ProjectReverted, Reverted


def _revert_batch(
    *, project: Project, actor_id: int | None, after_id: int, size: int
) -> list[tuple[int, bool, bool, bool, bool]]:
    """Revert the next ``size`` mismatched photos of ``project`` after ``after_id`` (id order):
    one ``UPDATE`` and one insert of their ``item`` events, in the caller's transaction."""
    rows = list(
        Photo.objects.filter(project=project, id__gt=after_id)
        .keep_mismatch()
        .select_for_update()
        .order_by("id")
        .values_list("pk", "jpg_available", "raw_available", "keep_jpg", "keep_raw")[:size]
    )
    if not rows:
        return rows
    Photo.objects.filter(pk__in=[r[0] for r in rows]).update(
        keep_jpg=F("jpg_available"), keep_raw=F("raw_available"), updated_at=timezone.now()
    )
    events = []
    for pk, jpg, raw, keep_jpg, keep_raw in rows:
        changed = {}
        if keep_jpg != jpg:
            changed["keep_jpg"] = jpg
        if keep_raw != raw:
            changed["keep_raw"] = raw
        events.append(
            item_event(
                tenant_id=project.tenant_id,
                project_id=project.pk,
                photo_id=pk,
                fields=changed,
                actor_id=actor_id,
            )
        )
    events_record_bulk(events)
    return rows


def _revert_project(*, user: Any, project: Project) -> int:
    """Keep flags back to availability for one project's mismatched photos; returns the count.

    ``PIPELINE_COMMIT_BATCH`` photos per transaction, each batch with its ``item`` events, so
    a large project never holds the write lock (SQLite's only one) for long. An interrupted
    revert leaves each photo reverted with its event, or untouched: reverting again finishes
    the rest and writes no event twice. ``pending_changes`` commits with the last batch.
    """
    actor_id = getattr(user, "pk", None)
    size = max(1, settings.PIPELINE_COMMIT_BATCH)
    count = 0
    after_id = 0
    while True:
        with transaction.atomic():
            rows = _revert_batch(project=project, actor_id=actor_id, after_id=after_id, size=size)
            count += len(rows)
            last = len(rows) < size
            if last and count:
                events_record_bulk(
                    pending_changes_events(
                        projects={project.pk: project.tenant_id}, actor_id=actor_id
                    )
                )
        if last:
            return count
        after_id = rows[-1][0]


def _revert(user: Any, projects: list[Project], missing: list[Any]) -> Reverted:
    listed = []
    for project in projects:
        updated = _revert_project(user=user, project=project)
        if updated:
            listed.append(
                ProjectReverted(project_id=project.pk, name=project.name, updated=updated)
            )
    return Reverted(projects=listed, missing=missing)


def photos_revert(*, user: Any, project_ids: list[int] | None = None) -> Reverted:
    """Undo culling in the given projects (None: all active projects of the user's tenant).

    A transaction per batch of photos (``_revert_project``), so a large tenant never holds one
    long lock. Only projects that changed are listed; unknown ids are reported in ``missing``.
    """
    _, projects, missing = projects_select(user=user, project_ids=project_ids)
    return _revert(user, projects, missing)


def project_revert(*, user: Any, project: Project | int) -> Reverted:
    """Undo culling in one project."""
    project = project_require_active(project_for_user(user=user, project=project))
    return _revert(user, [project], [])
