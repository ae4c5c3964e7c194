"""``pending_changes`` events: a project's pending-delete totals after a change (SPEC §10).

Every write that can change what a commit would trash (culling, revert, restore, a commit's
file removal, an XMP reject read at ingest) records one per touched project in its own
transaction, built here. Outside ``photos.services``, so ingest and derivatives use it without
importing the services package.
"""

from __future__ import annotations

from jobs.models import Event
from photos.events import pending_changes_event
from photos.selectors import pending_totals


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
