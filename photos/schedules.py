"""What the schedules of maintenance and discovery start: the same services as the API, the
admin and the commands (``maintenance_start``, ``discovery_start``), so a tick follows their
rules (single flight, archived projects refused) and nothing else starts these tasks by name.

Registered with the engine's scheduler when the app is ready (``PhotosConfig.ready``).
"""

from __future__ import annotations

from jobs.scheduling import schedule_start_register
from jobs.tasks import StartedTask
from photos.services.projects import discovery_start, maintenance_start
from projects.models import Tenant


@schedule_start_register("maintenance_global")
def maintenance_scheduled(tenant: Tenant) -> StartedTask:
    return maintenance_start(tenant=tenant, source="scheduler")


@schedule_start_register("folder_discovery")
def discovery_scheduled(tenant: Tenant) -> StartedTask:
    return discovery_start(tenant=tenant, source="scheduler")
