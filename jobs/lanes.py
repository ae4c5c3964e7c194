"""Lanes (SPEC §7): which priorities a lane runs, whether it is paused, and its wake-ups.

The lane of a priority is decided here once (``lane_priority_range``); every other reading —
the lane of a job, a queryset filter, the SQL expression of the dashboard — is derived from it.
This is also the only module that sends django-q2 messages (ruff's ``banned-api`` keeps it so):
a message only says "a job may be waiting in lane L", the job tables hold everything else.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, CharField, Q, Value, When

from .models import Lane, LaneState

logger = logging.getLogger(__name__)

# The dotted path every wake-up message names. Messages in flight (and in the ORM broker's
# table) store it, so keep ``jobs.runtime.run_lane`` importable under this name.
WAKE_FUNC = "jobs.runtime.run_lane"


def lane_priority_range(lane: str) -> tuple[int | None, int | None]:
    """``(lowest, highest)`` priority the lane runs (``None``: unbounded), both inclusive.

    ``PIPELINE_PRIORITY_THRESHOLD`` and above run in the priority lane, the rest in the default
    lane.
    """
    threshold = settings.PIPELINE_PRIORITY_THRESHOLD
    if lane == Lane.PRIORITY:
        return threshold, None
    if lane == Lane.DEFAULT:
        return None, threshold - 1
    raise ValueError(f"Unknown lane '{lane}'; use one of {', '.join(Lane.values)}.")


def lane_for_priority(priority: int) -> str:
    """The lane a job of ``priority`` runs in."""
    for lane in Lane.values:
        low, high = lane_priority_range(lane)
        if (low is None or priority >= low) and (high is None or priority <= high):
            return lane
    raise ValueError(f"No lane runs priority {priority}.")


def lane_q(lane: str) -> Q:
    """The jobs of ``lane`` as a filter on ``priority``."""
    return priority_q(*lane_priority_range(lane))


def priority_q(low: int | None, high: int | None) -> Q:
    """Jobs whose ``priority`` lies in ``[low, high]`` (``None``: unbounded), as a filter."""
    condition = Q()
    if low is not None:
        condition &= Q(priority__gte=low)
    if high is not None:
        condition &= Q(priority__lte=high)
    return condition


def lane_expression() -> Case:
    """The lane of a job as a SQL expression (to group counts by lane)."""
    return Case(
        *(When(lane_q(lane), then=Value(lane)) for lane in Lane.values),
        output_field=CharField(),
    )


def lane_workers(lane: str) -> int:
    """How many workers the lane's cluster runs (``config.settings`` builds the clusters)."""
    if lane == Lane.PRIORITY:
        return int(settings.PIPELINE_PRIORITY_WORKERS)
    return int(settings.PIPELINE_DEFAULT_WORKERS)


# --- paused state -------------------------------------------------------------------------


def lane_paused(lane: str) -> bool:
    return LaneState.objects.filter(lane=lane, paused=True).exists()


def lanes_paused() -> dict[str, bool]:
    """Every lane with whether it is paused (a lane without a row runs)."""
    paused = dict(LaneState.objects.values_list("lane", "paused"))
    return {lane: bool(paused.get(lane, False)) for lane in Lane.values}


def lane_set_paused(*, lane: str, paused: bool) -> None:
    """Pause (no new claims) or resume a lane; resuming wakes it."""
    if lane not in Lane.values:
        raise ValueError(f"Unknown lane '{lane}'; use one of {', '.join(Lane.values)}.")
    LaneState.objects.update_or_create(lane=lane, defaults={"paused": paused})
    if not paused:
        wake_lane(lane)


# --- wake-ups -----------------------------------------------------------------------------


def wake_lane(lane: str) -> None:
    """Send one wake-up message to the lane's django-q2 cluster. Never raises."""
    # django-q2 reads its settings and models on import: import it once the apps are loaded.
    from django_q.tasks import async_task

    try:
        async_task(
            WAKE_FUNC, lane, cluster=lane, task_name=f"wake {lane}", q_options={"save": False}
        )
    except Exception:
        # A broker outage must not undo the committed job: the sweeper re-sends wake-ups.
        logger.exception("Could not send a wake-up to lane %s; the sweeper will retry", lane)


def _awake_key(lane: str) -> str:
    return f"pipeline:lane-awake:{lane}"


def wake_lane_coalesced(lane: str) -> bool:
    """Wake ``lane`` unless a wake-up sent lately is still pending; whether one was sent.

    The lane's "awake" marker lives in the shared cache (the database on the embedded default,
    Redis when scaled out, so every web and worker process sees it): ``cache.add`` sets it
    only if absent, so of many callers one sends the message and the rest send nothing. A
    worker consumes the marker as it starts draining (``lane_wake_consume``); a job committed
    before that is claimed by the drain, one committed after it finds the marker gone and
    sends. A lost message leaves the marker set: it expires after
    ``PIPELINE_WAKE_COALESCE_SECONDS`` and the sweeper re-sends for jobs left waiting.
    Never raises.
    """
    window = settings.PIPELINE_WAKE_COALESCE_SECONDS
    if window > 0:
        try:
            if not cache.add(_awake_key(lane), 1, timeout=window):
                return False
        except Exception:
            # Without the cache, wake as before: a message too many is harmless.
            logger.exception("Could not read lane %s's wake-up marker; waking it", lane)
    wake_lane(lane)
    return True


def lane_wake_consume(lane: str) -> None:
    """A worker of ``lane`` starts draining: later enqueues must send a fresh wake-up."""
    try:
        cache.delete(_awake_key(lane))
    except Exception:
        # The marker expires on its own; until then enqueues rely on this drain and the sweeper.
        logger.exception("Could not clear lane %s's wake-up marker", lane)


def wake_lane_on_commit(lane: str) -> None:
    """Wake ``lane`` (coalesced) once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: wake_lane_coalesced(lane))
