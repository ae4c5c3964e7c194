"""How many files a commit would trash, per project, and the ``pending_changes`` events that
carry it (SPEC §9, §10): for every write path that changes keep flags (the bulk keep
endpoint, a commit, an XMP reject read at ingest).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from jobs.events import pending_changes_event
from jobs.models import Event
from photos.models import PENDING_DELETE_Q, PENDING_JPG_Q, PENDING_RAW_Q, Photo


def pending_totals(project_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{project_id: {"jpg", "raw", "total", "photos"}}`` in one grouped query.

    ``jpg``/``raw`` count files that a commit would trash, ``total`` is their sum and
    ``photos`` the number of photos with a pending delete. Projects with nothing pending
    are present with zeros.
    """
    ids = sorted(set(project_ids))
    totals = {pid: {"jpg": 0, "raw": 0, "total": 0, "photos": 0} for pid in ids}
    if not ids:
        return totals
    rows = (
        Photo.objects.filter(project_id__in=ids)
        .filter(PENDING_DELETE_Q)
        .order_by()
        .values("project_id")
        .annotate(
            jpg=Count("pk", filter=PENDING_JPG_Q),
            raw=Count("pk", filter=PENDING_RAW_Q),
            photos=Count("pk"),
        )
    )
    for row in rows:
        totals[row["project_id"]] = {
            "jpg": row["jpg"],
            "raw": row["raw"],
            "total": row["jpg"] + row["raw"],
            "photos": row["photos"],
        }
    return totals


def pending_changes_events(
    *, projects: dict[int, int], actor_id: int | None = None, job_id: int | None = None
) -> list[Event]:
    """Unsaved ``pending_changes`` events, one per project (``{project_id: tenant_id}``)."""
    totals = pending_totals(projects)
    return [
        pending_changes_event(
            tenant_id=tenant_id,
            project_id=project_id,
            totals=totals[project_id],
            actor_id=actor_id,
            job_id=job_id,
        )
        for project_id, tenant_id in sorted(projects.items())
    ]
