"""What sharing and delivery hand the engine (``SharingConfig.ready``): the export tasks, the
schedule that deletes expired exports, and the event types the app writes.

Expired exports are deleted by a task of their own, ``export_expiry``, on the maintenance
interval (``PIPELINE_MAINTENANCE_INTERVAL_MINUTES``): the photos app's ``maintenance_global``
cannot name a sharing step (photos does not import sharing), and an app adds its own work
rather than editing another's task.
"""

from __future__ import annotations

from jobs.definitions import Step, TaskDefinition
from jobs.models import Scope
from jobs.registry import (
    ScheduleSpec,
    event_types_register,
    schedule_register,
    task_definitions_register,
)

from .events import SHARE_DOWNLOADED, SHARE_PICK, SHARE_VIEWED, ShareEventType
from .exports import JOB_TYPE, TASK_TYPE

DEFINITIONS = (
    TaskDefinition(
        TASK_TYPE,
        Scope.ITEM_SET,
        (Step(JOB_TYPE, 50),),
        description="A ZIP of photos, originals or JPEGs (sharing.exports), under EXPORTS_ROOT.",
        title="Exporting {photos}",
        not_startable_by_name="An export task starts only through POST /api/exports/.",
    ),
    TaskDefinition(
        "export_expiry",
        Scope.GLOBAL,
        (Step("export_expiry", 100),),
        description="Delete the tenant's exports past EXPORT_TTL_HOURS.",
        single_flight=True,
        title="Deleting expired exports",
    ),
)

SCHEDULES = (
    ScheduleSpec(
        "pipeline: export_expiry",
        "jobs.scheduling.scheduled_task_start",
        "PIPELINE_MAINTENANCE_INTERVAL_MINUTES",
        "'export_expiry'",
    ),
)

EVENT_TYPES = (
    ShareEventType.SHARE_CREATED,
    ShareEventType.SHARE_UPDATED,
    ShareEventType.SHARE_REVOKED,
    SHARE_VIEWED,
    SHARE_DOWNLOADED,
    SHARE_PICK,
)


def register() -> None:
    """Hand the engine the tasks, schedule and event types (running it twice is a no-op)."""
    task_definitions_register(*DEFINITIONS)
    for spec in SCHEDULES:
        schedule_register(spec)
    event_types_register("sharing", *EVENT_TYPES)
