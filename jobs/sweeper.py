"""The sweeper (SPEC §7): recover jobs of dead workers and re-send lost wake-ups.

Scheduled every minute in the ``scheduler`` cluster (jobs/scheduling.py), whose worker runs no
job, so it runs whether or not any job is running or waiting, and available as
``manage.py sweep``. Safe to run on any number of
machines at once: requeueing locks each job row and re-checks it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from django.conf import settings
from django.utils import timezone

from .lanes import lane_paused, lane_workers, wake_lane
from .lifecycle import jobs_mark_woken, jobs_requeue_stale, jobs_waiting_too_long
from .models import Lane


class SweepResult(TypedDict):
    requeued: list[int]
    woken: dict[str, int]


def sweep(
    *, stale_seconds: int | None = None, resend_after_seconds: int | None = None
) -> SweepResult:
    requeued = jobs_requeue_stale(stale_seconds=stale_seconds)
    resend_after = (
        settings.PIPELINE_WAKE_RESEND_SECONDS
        if resend_after_seconds is None
        else resend_after_seconds
    )
    woken: dict[str, int] = {}
    for lane in Lane.values:
        if lane_paused(lane):
            continue
        waiting = jobs_waiting_too_long(lane=lane, older_than_seconds=resend_after)
        if not waiting:
            continue
        # One message per waiting job, up to the lane's worker count, is enough: a woken
        # worker keeps claiming until the lane is empty.
        for _ in range(min(len(waiting), max(lane_workers(lane), 1))):
            wake_lane(lane)
        jobs_mark_woken(job.pk for job in waiting)
        woken[lane] = len(waiting)
    return {"requeued": requeued, "woken": woken}


SWEEPER_SCHEDULE = "pipeline: sweeper"
# django-q2's scheduler looks for due schedules every 30 seconds, and its cluster's worker runs
# no job: a sweep due for three minutes was not fired (no scheduler cluster runs, or its worker
# is stuck in a long prune).
SWEEP_LATE_SECONDS = 180


def sweep_if_due() -> SweepResult | None:
    """Run the sweeper now if its schedule is late, taking the tick from the scheduler.

    An extra to the scheduled sweep, not a replacement: busy workers call this from their
    heartbeat thread, so stale jobs are recovered even when no scheduler cluster runs (a
    deployment that starts only the lanes) or its worker is stuck. Only a late tick is taken,
    so while the scheduler keeps time it does every sweep. The compare-and-set on the
    schedule's ``next_run`` lets exactly one caller (this or the scheduler) win each tick.
    """
    # django-q2's models need the app registry: import them once it is loaded.
    from django_q.models import Schedule

    now = timezone.now()
    interval = timedelta(minutes=settings.PIPELINE_SWEEP_INTERVAL_MINUTES)
    late = now - timedelta(seconds=SWEEP_LATE_SECONDS)
    won = Schedule.objects.filter(name=SWEEPER_SCHEDULE, next_run__lte=late).update(
        next_run=now + interval
    )
    return sweep() if won else None
