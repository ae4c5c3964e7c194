"""Bursts (SPEC §3, §17): frames of one camera less than ``PIPELINE_BURST_SECONDS`` apart.

``projects_bursts_update`` recomputes ``Photo.burst`` of whole projects: the live photos of a
project with a capture time and a camera, sorted by camera and capture time (sub-seconds
counted), are cut wherever two consecutive frames of a camera are ``PIPELINE_BURST_SECONDS``
or more apart; a run of two or more frames is a burst, and each of its frames gets the id of
its first frame (the lowest id among frames of the same instant). A frame alone gets null.
The camera is make and model (``Photo.camera``), whatever the lens; a photo without a camera
or a capture time is never in a burst.

It is idempotent and planned: one read of a project's photos (four columns), then one
``bulk_update`` of the rows whose burst changed, and one bulk insert of their ``item`` events
(``{"burst": id}``), so live clients regroup their stacks. Callers: the derivative jobs once
metadata is read (``photos/handlers/derivatives.py``), a move (both projects), a restore, a
commit (a trashed frame leaves its burst) and the clock correction (``photos.capture``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import EventType, events_record_bulk
from jobs.models import Event
from projects.models import Project

from .models import Photo

Frame = tuple[int, str, datetime]  # (id, camera, taken_at)


def bursts_of(frames: Iterable[Frame], *, seconds: float) -> dict[int, int | None]:
    """``{photo id: burst id or None}`` for the frames of one project (pure)."""
    gap = timedelta(seconds=seconds)
    ordered = sorted(frames, key=lambda f: (f[1], f[2], f[0]))
    result: dict[int, int | None] = {}
    run: list[Frame] = []

    def close() -> None:
        first = run[0][0] if len(run) > 1 else None
        for frame in run:
            result[frame[0]] = first

    for frame in ordered:
        if run and (frame[1] != run[-1][1] or frame[2] - run[-1][2] >= gap):
            close()
            run = []
        run.append(frame)
    if run:
        close()
    return result


def project_bursts_update(*, project: Project, job_id: int | None = None) -> int:
    """Recompute the bursts of one project's live photos; returns how many rows changed."""
    rows = list(
        Photo.objects.filter(project=project).only("id", "camera", "taken_at", "burst", "project")
    )
    frames = [(p.pk, p.camera, p.taken_at) for p in rows if p.camera and p.taken_at is not None]
    wanted = bursts_of(frames, seconds=settings.PIPELINE_BURST_SECONDS)
    changed = [p for p in rows if wanted.get(p.pk) != p.burst]
    if not changed:
        return 0
    now = timezone.now()
    for photo in changed:
        photo.burst = wanted.get(photo.pk)
        photo.updated_at = now
    with transaction.atomic():
        Photo.objects.bulk_update(changed, ["burst", "updated_at"], batch_size=2000)
        events_record_bulk(
            [
                Event(
                    tenant_id=project.tenant_id,
                    type=EventType.ITEM,
                    project_id=project.pk,
                    photo_id=photo.pk,
                    job_id=job_id,
                    payload={
                        "photo_id": photo.pk,
                        "project_id": project.pk,
                        "changes": {"burst": photo.burst},
                        "source": "bursts",
                    },
                )
                for photo in changed
            ]
        )
    return len(changed)


def projects_bursts_update(*, project_ids: Iterable[int], job_id: int | None = None) -> int:
    """``project_bursts_update`` for each of these projects (archived ones too: harmless)."""
    total = 0
    for project in Project.objects.filter(pk__in=set(project_ids)).order_by("pk"):
        total += project_bursts_update(project=project, job_id=job_id)
    return total
