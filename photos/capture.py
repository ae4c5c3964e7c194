"""Capture-time clock correction of one camera in a project (SPEC §17): "camera X is 1 h 02 min
slow", for two shooters whose clocks differ.

``project_clock_correct_start`` (the API's ``POST /api/projects/{id}/clock-offset``) starts a
``photos_clock_correct`` task; its handler calls ``project_clock_correct``, which shifts
``taken_at`` of the camera's live photos in one transaction with their ``item`` events, then
regroups the project's bursts. Each photo records the correction in
``metadata["clock_corrections"]`` (``{"task", "seconds"}``): a retried job skips photos that
already carry its task (never shifted twice), and a later metadata read
(``photos.derivatives``) adds the recorded corrections to the time read from the file, so a
forced re-process keeps them. With ``PIPELINE_WRITE_XMP`` on, the corrected time is written
to each photo's XMP sidecar (``exif:DateTimeOriginal``) after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from jobs.events import EventType, events_record_bulk
from jobs.models import Event
from jobs.tasks import StartedTask, start_task
from projects.models import Project
from projects.selectors import project_for_user, project_require_active

from . import fsrules, storage, xmp
from .bursts import project_bursts_update
from .imaging import capture_time_text
from .models import Photo

logger = logging.getLogger(__name__)

TASK_TYPE = "photos_clock_correct"
# A clock set to the wrong year is the most a correction needs to undo.
CLOCK_OFFSET_MAX_SECONDS = 2 * 366 * 24 * 3600
CORRECTIONS_KEY = "clock_corrections"


@dataclass(frozen=True)
class ClockCorrectStarted:
    task: StartedTask
    photos: int

    @property
    def task_id(self) -> str:
        return self.task["task_id"]


def clock_corrections_seconds(metadata: dict[str, Any] | None) -> int:
    """The total of the corrections recorded on a photo (``metadata["clock_corrections"]``)."""
    recorded = (metadata or {}).get(CORRECTIONS_KEY) or []
    return sum(
        c["seconds"]
        for c in recorded
        if isinstance(c, dict) and isinstance(c.get("seconds"), int) and not isinstance(c, bool)
    )


def _camera_photos(project: Project, camera: str) -> Any:
    return Photo.objects.filter(project=project, camera=camera, taken_at__isnull=False)


def project_clock_correct_start(
    *, user: Any, project: Project | int, camera: Any, seconds: Any
) -> ClockCorrectStarted:
    """Start a ``photos_clock_correct`` task adding ``seconds`` to the capture time of every
    photo of ``camera`` (``Photo.camera``, exactly) in the project.

    Raises ``NotFoundError`` / ``ProjectArchived`` for the project, ``ApplicationError`` for a
    bad camera or offset or when no dated photo of that camera is in the project.
    """
    project = project_require_active(project_for_user(user=user, project=project))
    if not isinstance(camera, str) or not camera.strip():
        raise ApplicationError("camera must be a camera name (make and model).")
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ApplicationError("seconds must be an integer.")
    if seconds == 0 or abs(seconds) > CLOCK_OFFSET_MAX_SECONDS:
        raise ApplicationError(
            f"seconds must be non-zero and at most {CLOCK_OFFSET_MAX_SECONDS} either way."
        )
    count = _camera_photos(project, camera).count()
    if not count:
        raise ApplicationError(
            f"No photo of camera {camera!r} with a capture time in this project."
        )
    started = start_task(
        TASK_TYPE,
        project.tenant,
        project=project,
        scope="project",
        payload={"camera": camera, "seconds": seconds},
        source="user",
    )
    return ClockCorrectStarted(task=started, photos=count)


@dataclass(frozen=True)
class ClockCorrected:
    shifted: int
    skipped: int
    bursts_changed: int
    sidecars_written: int = 0


def project_clock_correct(
    *,
    project: Project,
    camera: str,
    seconds: int,
    task_id: str,
    job_id: int | None = None,
    actor_id: int | None = None,
) -> ClockCorrected:
    """Shift the capture time of ``camera``'s live photos in ``project`` by ``seconds``.

    One transaction: the rows are locked and read in one query, written with one
    ``bulk_update``, their ``item`` events inserted in one. Photos already corrected by
    ``task_id`` are skipped (a retry). Then the project's bursts are regrouped and, with
    ``PIPELINE_WRITE_XMP``, the new times written to the sidecars (failures logged: the
    database holds the correction).
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            _camera_photos(project, camera)
            .select_for_update()
            .only("id", "basename", "taken_at", "taken_at_offset", "metadata", "project")
            .order_by("id")
        )
        changed: list[Photo] = []
        for photo in rows:
            recorded = list((photo.metadata or {}).get(CORRECTIONS_KEY) or [])
            if any(isinstance(c, dict) and c.get("task") == task_id for c in recorded):
                continue
            assert photo.taken_at is not None
            photo.taken_at = photo.taken_at + timedelta(seconds=seconds)
            photo.metadata = {
                **(photo.metadata or {}),
                CORRECTIONS_KEY: [*recorded, {"task": task_id, "seconds": seconds}],
            }
            photo.updated_at = now
            changed.append(photo)
        Photo.objects.bulk_update(changed, ["taken_at", "metadata", "updated_at"], batch_size=1000)
        events_record_bulk(
            [
                Event(
                    tenant_id=project.tenant_id,
                    type=EventType.ITEM,
                    actor_id=actor_id,
                    project_id=project.pk,
                    photo_id=photo.pk,
                    job_id=job_id,
                    payload={
                        "photo_id": photo.pk,
                        "project_id": project.pk,
                        "changes": {
                            "taken_at": capture_time_text(photo.taken_at, photo.taken_at_offset)
                        },
                        "source": "clock_correction",
                        "clock_offset_seconds": seconds,
                    },
                )
                for photo in changed
            ]
        )
    bursts = project_bursts_update(project=project, job_id=job_id)
    written = _sidecars_write(project, changed) if settings.PIPELINE_WRITE_XMP else 0
    return ClockCorrected(
        shifted=len(changed),
        skipped=len(rows) - len(changed),
        bursts_changed=bursts,
        sidecars_written=written,
    )


def _sidecars_write(project: Project, photos: list[Photo]) -> int:
    index = storage.FolderIndex()
    written = 0
    for photo in photos:
        when: datetime | None = photo.taken_at
        try:
            folder = storage.project_dir(project)
            originals = index.files(folder, photo.basename).all
            path = xmp.sidecar_for_writing(folder, photo.basename, originals)
            fsrules.ensure_inside(path, folder)
            xmp.sidecar_write(
                path, date_time_original=capture_time_text(when, photo.taken_at_offset)
            )
        except (fsrules.UnsafePath, xmp.XmpError, OSError) as exc:
            logger.warning("%s: capture time not written to its sidecar (%s).", photo.basename, exc)
            continue
        written += 1
    return written
