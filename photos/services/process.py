"""Start derivative generation for a selection of photos or a whole project (SPEC §5, §9)."""

from __future__ import annotations

from typing import Any

from core.errors import NoValidItems
from jobs.tasks import start_task
from photos.models import Photo
from photos.selectors import acting_tenant_id, photos_visible
from projects.models import Project
from projects.selectors import project_for_user, project_require_active

from .items import (
    ItemError,
    item_error,
    item_photo_id,
    items_check,
)
from .results import DryRunReport, ProcessStarted


def photos_process(
    *, user: Any, items: list[dict], force: bool = False, dry_run: bool = False
) -> ProcessStarted | DryRunReport:
    """One ``generate_derivatives`` task (photo_set) over every valid photo, across projects.

    Unknown or foreign photos become item errors; with no valid photo nothing starts
    (``NoValidItems``).
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
        return DryRunReport(per_item=per_item, errors=errors)
    if not valid:
        raise NoValidItems("No valid photos to process.", errors)
    first = next(iter(valid.values()))
    started = start_task(
        "generate_derivatives",
        first.project.tenant,
        scope="photo_set",
        items=[{"photo_id": p.pk, "basename": p.basename} for p in valid.values()],
        payload={"force": bool(force)},
        source="user",
    )
    return ProcessStarted(task=started, errors=errors)


def project_process(*, user: Any, project: Project | int, force: bool = False) -> ProcessStarted:
    """A project-scoped ``generate_derivatives`` task over every photo of the project."""
    project = project_require_active(project_for_user(user=user, project=project))
    started = start_task(
        "generate_derivatives",
        project.tenant,
        project=project,
        scope="project",
        payload={"force": bool(force)},
        source="user",
    )
    return ProcessStarted(task=started)
