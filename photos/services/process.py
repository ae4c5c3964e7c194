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
    *, user: Any, items: list[dict], force: bool = False
) -> tuple[int, dict[str, Any]]:
    """One ``generate_derivatives`` task (photo_set) over every valid photo, across projects.

    Unknown or foreign photos become item errors; with no valid photo nothing starts (400).
    """
    items = items_check(items)
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[Any, int]] = []
    for item in items:
        try:
            parsed.append((item, item_photo_id(item)))
        except ItemError as exc:
            errors.append(item_error(item, str(exc)))
    photos: dict[int, Photo] = {
        p.pk: p
        for p in photos_visible(user, {pid for _, pid in parsed}).select_related("project__tenant")
    }
    tenant_id = acting_tenant_id(
        user, [photos[pid].project.tenant_id for _, pid in parsed if pid in photos]
    )
    valid: dict[int, Photo] = {}
    for item, photo_id in parsed:
        photo = photos.get(photo_id)
        if photo is None or photo.project.tenant_id != tenant_id:
            errors.append(item_error(item, "Photo not found."))
        else:
            valid.setdefault(photo_id, photo)
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
