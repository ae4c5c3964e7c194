"""Start derivative generation for a selection of photos or a whole project (SPEC §5, §9)."""

from __future__ import annotations

from typing import Any

from jobs.orchestrator import start_task
from photos.models import Photo
from projects.models import Project

from .commit import project_for_user, project_require_active
from .items import (
    ItemError,
    acting_tenant_id,
    dry_run_body,
    item_error,
    item_photo_id,
    items_check,
    photos_visible,
)


def _started_body(started: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_id": started["task_id"],
        "job_count": started["job_count"],
        "job_ids": started["job_ids"],
        "chunked": started["chunked"],
    }


def photos_process(
    *, user: Any, items: list[dict], force: bool = False, dry_run: bool = False
) -> tuple[int, dict[str, Any]]:
    """One ``generate_derivatives`` task (photo_set) over every valid photo, across projects.

    Unknown or foreign photos become item errors; with no valid photo nothing starts (400).
    ``dry_run`` answers per item (``would_process`` or ``error``, in request order) and starts
    nothing; its query count is fixed whatever the item count.
    """
    items = items_check(items)
    entries: list[tuple[Any, int | None, str]] = []
    for item in items:
        try:
            entries.append((item, item_photo_id(item), ""))
        except ItemError as exc:
            entries.append((item, None, str(exc)))
    wanted = {pid for _, pid, _ in entries if pid is not None}
    photos: dict[int, Photo] = {
        p.pk: p for p in photos_visible(user, wanted).select_related("project__tenant")
    }
    tenant_id = acting_tenant_id(
        user, [photos[pid].project.tenant_id for _, pid, _ in entries if pid in photos]
    )
    errors: list[dict[str, Any]] = []
    per_item: list[dict[str, Any]] = []
    valid: dict[int, Photo] = {}
    for item, photo_id, error in entries:
        photo = photos.get(photo_id) if photo_id is not None else None
        if not error and (photo is None or photo.project.tenant_id != tenant_id):
            error = "Photo not found."
        if error or photo is None:
            errors.append(item_error(item, error))
            per_item.append(item_error(item, error))
            continue
        valid.setdefault(photo.pk, photo)
        per_item.append({"photo_id": photo.pk, "would_process": True})
    if dry_run:
        return 200, dry_run_body(per_item, errors)
    if not valid:
        return 400, {"detail": "No valid photos to process.", "errors": errors}
    first = next(iter(valid.values()))
    started = start_task(
        "generate_derivatives",
        first.project.tenant,
        scope="photo_set",
        items=[{"photo_id": p.pk, "basename": p.basename} for p in valid.values()],
        payload={"force": bool(force)},
        source="user",
    )
    body = _started_body(dict(started))
    if errors:
        body["errors"] = errors
    return 202, body


def project_process(
    *, user: Any, project: Project | int, force: bool = False
) -> tuple[int, dict[str, Any]]:
    """A project-scoped ``generate_derivatives`` task over every photo of the project."""
    project = project_for_user(user=user, project=project)
    project_require_active(project)
    started = start_task(
        "generate_derivatives",
        project.tenant,
        project=project,
        scope="project",
        payload={"force": bool(force)},
        source="user",
    )
    return 202, _started_body(dict(started))
