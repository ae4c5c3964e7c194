"""Scheduled maintenance (SPEC §8) on django-q2 ``Schedule`` rows, created by name.

Each scheduled task type runs once per tenant per tick, single-flight: a tick while the same
task is still queued or running for that tenant adds nothing.

Every schedule names the cluster that runs it: ``scheduler`` (``SCHEDULE_CLUSTER``), which
``serve`` and every scale-out worker host start beside the two lanes. Its one worker runs only
the schedules' own functions (``scheduled_task_start``, ``sweep``, ``prune``: seconds each), never
a job, so a tick starts its task within seconds even while every lane worker is in a long job;
the task's jobs then queue in their lanes like any other. django-q2 runs a schedule without a
cluster only in a cluster whose ``cluster_name`` equals the site ``name`` (``photolib``), which
none is, so such a schedule would never fire. Several scheduler clusters may tick at once: the
scheduler reads due rows with ``select_for_update`` (PostgreSQL) or inside an IMMEDIATE
transaction (SQLite) and moves ``next_run`` before it commits, so each tick fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from projects.models import Tenant

from .exceptions import TaskAlreadyRunning
from .models import Event, Job, JobStatus, TaskRun
from .registry import ScheduleSpec, schedules
from .sweeper import SWEEPER_SCHEDULE
from .tasks import StartedTask, start_task

logger = logging.getLogger(__name__)

# The django-q2 cluster of the schedules (``Q_CLUSTER["ALT_CLUSTERS"]`` in config.settings):
# no lane, so no job ever holds its worker.
SCHEDULE_CLUSTER: str = "scheduler"


# The engine's own schedules; the apps register theirs (``jobs.registry.schedule_register``).
ENGINE_SCHEDULES = (
    ScheduleSpec(SWEEPER_SCHEDULE, "jobs.sweeper.sweep", "PIPELINE_SWEEP_INTERVAL_MINUTES"),
    ScheduleSpec("pipeline: prune", "jobs.scheduling.prune", "PIPELINE_PRUNE_INTERVAL_MINUTES"),
)


def schedules_all() -> tuple[ScheduleSpec, ...]:
    return (*ENGINE_SCHEDULES, *schedules())


def schedules_setup(*, using: str = "default") -> list[str]:
    """Create or update every schedule by name; running it twice changes nothing.

    Existing rows get the current interval and cluster, so rows made by older code (no
    cluster, hence never run, or the priority lane's, where ticks waited behind jobs) are
    fixed by the next migrate or ``setup_schedules``.
    """
    # django-q2's models need the app registry: import them once it is loaded.
    from django_q.models import Schedule

    names = []
    for spec in schedules_all():
        minutes = int(getattr(settings, spec.minutes_setting))
        schedule = Schedule.objects.using(using).filter(name=spec.name).first()
        fields = {
            "func": spec.func,
            "args": spec.args or None,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
            "cluster": SCHEDULE_CLUSTER,
        }
        if schedule is None:
            Schedule.objects.using(using).create(name=spec.name, next_run=timezone.now(), **fields)
            # Two hosts migrating at once may both have found none: a schedule's name is not
            # unique in django-q2, and two rows would fire each tick twice. Keep the first.
            rows = Schedule.objects.using(using).filter(name=spec.name)
            rows.exclude(pk=rows.order_by("pk").values_list("pk", flat=True).first()).delete()
        else:
            changed = [k for k, v in fields.items() if getattr(schedule, k) != v]
            if changed:
                for key in changed:
                    setattr(schedule, key, fields[key])
                schedule.save(update_fields=changed)
        names.append(spec.name)
    return names


# Task types an app starts through its own service on a schedule (``schedule_start_register``).
_SCHEDULED_STARTS: dict[str, Callable[[Tenant], StartedTask]] = {}


def schedule_start_register(
    task_type: str,
) -> Callable[[Callable[[Tenant], StartedTask]], Callable[[Tenant], StartedTask]]:
    """Make ``start(tenant)`` what a schedule's tick calls to start ``task_type``: the app's
    service (single flight, its own rules), the one write path of every trigger."""

    def register(start: Callable[[Tenant], StartedTask]) -> Callable[[Tenant], StartedTask]:
        _SCHEDULED_STARTS[task_type] = start
        return start

    return register


def scheduled_start(task_type: str) -> Callable[[Tenant], StartedTask]:
    """What starts ``task_type`` on a tick: its registered service, else ``start_task``."""
    registered = _SCHEDULED_STARTS.get(task_type)
    if registered is not None:
        return registered
    return lambda tenant: start_task(task_type, tenant, source="scheduler", single_flight=True)


def scheduled_task_start(task_type: str, *, tenant_slug: str | None = None) -> dict[str, str]:
    """Start ``task_type`` for every tenant (or one) unless one is already queued or running."""
    start = scheduled_start(task_type)
    started: dict[str, str] = {}
    tenants = Tenant.objects.all()
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    for tenant in tenants:
        try:
            result = start(tenant)
        except TaskAlreadyRunning as exc:
            logger.debug("Skipped %s for %s: %s", task_type, tenant.slug, exc)
            continue
        started[tenant.slug] = result["task_id"]
    return started


def prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete events and finished jobs (with their task runs) past their retention."""
    now = now or timezone.now()
    event_cutoff = now - timedelta(days=settings.PIPELINE_EVENT_RETENTION_DAYS)
    job_cutoff = now - timedelta(days=settings.PIPELINE_JOB_RETENTION_DAYS)
    with transaction.atomic():
        events, _ = Event.objects.filter(created_at__lt=event_cutoff).delete()
        finished = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)
        tasks, _ = (
            TaskRun.objects.filter(finished_at__lt=job_cutoff)
            .exclude(jobs__status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
            .delete()
        )
        jobs, _ = Job.objects.filter(
            task__isnull=True, status__in=finished, finished_at__lt=job_cutoff
        ).delete()
    return {"events": events, "tasks": tasks, "jobs": jobs}
