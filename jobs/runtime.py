"""Running jobs on django-q2 (SPEC §7).

A django-q2 message only says "a job may be waiting in lane L". ``run_lane`` claims the best
job of that lane and runs it, and keeps claiming for up to ``PIPELINE_WORKER_BATCH_SECONDS``;
with nothing to claim it returns at once, so a duplicated message costs one query and a lost
one is repaired by the sweeper's re-sent wake-ups. Wake-up messages name ``run_lane`` by its
dotted path (``jobs.lanes.WAKE_FUNC``): keep it here under that name.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from .context import Heartbeat, JobContext
from .exceptions import JobCanceled, JobLost
from .lanes import (
    lane_paused,
    lane_priority_range,
    lane_q,
    lane_wake_consume,
    wake_lane,
)
from .lifecycle import claimable_jobs, job_claim, job_complete, job_fail, job_mark_canceled
from .models import Job, JobItem, JobItemStatus, JobStatus, Lane
from .registry import handler_for
from .sweeper import sweep_if_due

logger = logging.getLogger(__name__)


# While a drain finds a backlog, it wakes one more worker at most this often.
PEER_WAKE_SECONDS = 1.0


def worker_id() -> str:
    """``host:pid:thread``; ``PIPELINE_WORKER_HOST`` names the host part (containers share names)."""
    host = os.environ.get("PIPELINE_WORKER_HOST") or socket.gethostname()
    return f"{host}:{os.getpid()}:{threading.get_ident()}"


def run_lane(lane: str, *, batch_seconds: float | None = None) -> int:
    """django-q2 entry point: run jobs of ``lane`` until none is claimable or time is up."""
    close_old_connections()
    budget = settings.PIPELINE_WORKER_BATCH_SECONDS if batch_seconds is None else batch_seconds
    deadline = time.monotonic() + budget
    low, high = lane_priority_range(lane)
    ran = 0
    wid = worker_id()
    paused_checked_at = -1.0
    peer_woken_at = float("-inf")
    # Every job committed before this point is claimed by the loop below; later enqueues see
    # no pending wake-up and send one.
    lane_wake_consume(lane)
    try:
        while time.monotonic() < deadline:
            # Pausing takes effect within a second; no query per job for it.
            if time.monotonic() - paused_checked_at >= 1.0:
                if lane_paused(lane):
                    break
                paused_checked_at = time.monotonic()
            job = job_claim(worker_id=wid, min_priority=low, max_priority=high)
            if job is None:
                if not _wait_for_backoff(lane, deadline):
                    break
                continue
            if ran and time.monotonic() - peer_woken_at >= PEER_WAKE_SECONDS:
                # A backlog: wake one more worker (of any host), which does the same, so idle
                # workers join one by one while enqueues send no message per job. Repeat it
                # while the backlog lasts: a busy cluster's pusher may hold the message
                # itself (django-q2 prefetches), and the marker would then block a new one.
                wake_lane(lane)
                peer_woken_at = time.monotonic()
            run_job(job, worker_id=wid)
            ran += 1
        else:
            # Out of time with work left: hand over to a fresh message instead of hogging.
            if claimable_jobs(min_priority=low, max_priority=high).exists():
                wake_lane(lane)
    finally:
        close_old_connections()
    return ran


def _wait_for_backoff(lane: str, deadline: float, *, task_id: str | None = None) -> bool:
    """Sleep until the next backed-off job of the lane becomes claimable, if that is soon."""
    qs = Job.objects.filter(
        lane_q(lane), status=JobStatus.QUEUED, cancel_requested=False, not_before__isnull=False
    )
    if task_id is not None:
        # The stubs type an FK's _id lookup by the target's UUID; Django also takes the str form.
        qs = qs.filter(task_id=task_id)  # type: ignore[misc]
    next_at = qs.order_by("not_before").values_list("not_before", flat=True).first()
    if next_at is None:
        return False
    wait = (next_at - timezone.now()).total_seconds()
    if wait > deadline - time.monotonic():
        return False
    time.sleep(max(wait, 0) + 0.05)
    return True


def run_job(job: Job, *, worker_id: str, heartbeat_thread: bool = True) -> Job:
    """Run a claimed job's handler and record how it ended, with one log line each.

    The heartbeat beats from a thread (``heartbeat_thread``) and also from the handler's own
    thread at every item boundary; foreground runs (``drain``) use the latter alone.
    """
    logger.info(
        "Job %s %s started (attempt %s of %s, task %s)",
        job.pk,
        job.type,
        job.attempts,
        job.max_attempts,
        job.task_id or "-",
    )
    started = time.monotonic()
    ended = _run_job(job, worker_id=worker_id, heartbeat_thread=heartbeat_thread)
    seconds = time.monotonic() - started
    if ended.status == JobStatus.COMPLETED:
        logger.info("Job %s %s completed in %.1fs", job.pk, job.type, seconds)
    else:
        # Failed, canceled, requeued for a retry, or lost to the sweeper: worth a look.
        first_line = (ended.error_message or "").strip().splitlines()[:1]
        outcome = "lost to the sweeper" if ended.status == JobStatus.RUNNING else ended.status
        logger.warning(
            "Job %s %s ended %s after %.1fs%s",
            job.pk,
            job.type,
            outcome,
            seconds,
            f": {first_line[0]}" if first_line else "",
        )
    return ended


def _run_job(job: Job, *, worker_id: str, heartbeat_thread: bool) -> Job:
    fn = handler_for(job.type)
    if fn is None:
        return job_fail(job_id=job.pk, error=f"Unknown job type '{job.type}'.", retry=False)

    heartbeat = Heartbeat(
        job_id=job.pk,
        worker_id=worker_id,
        interval=settings.PIPELINE_HEARTBEAT_SECONDS,
        on_beat=sweep_if_due,
    )
    if heartbeat_thread:
        heartbeat.start()
    ctx = JobContext(job, worker_id=worker_id, heartbeat=heartbeat)
    try:
        fn(ctx)
    except JobCanceled:
        return _safely(lambda: job_mark_canceled(job_id=job.pk), job)
    except JobLost as exc:
        logger.warning("%s", exc)
        return job
    except Exception as exc:
        logger.exception("Job %s (%s) raised", job.pk, job.type)
        error = f"{type(exc).__name__}: {exc}"
        detail = traceback.format_exc(limit=6)
        return _safely(lambda: job_fail(job_id=job.pk, error=f"{error}\n\n{detail}"), job)
    finally:
        heartbeat.stop()
    failed, total, message = _failure_summary(ctx)
    return _safely(
        lambda: job_complete(
            job_id=job.pk, message=message, failed_items=failed, total_items=total
        ),
        job,
    )


def _failure_summary(ctx: JobContext) -> tuple[int, int, str]:
    """``(failed, total, message)`` of a job's failed items and units; no query without items."""
    failed, first = ctx.units_failed, ctx.first_unit_error
    total = ctx.units_total if ctx.units_total is not None else ctx.job.progress_total
    if ctx.items_seen:
        items = JobItem.objects.filter(job_id=ctx.job.pk)
        failed_messages = items.filter(status=JobItemStatus.FAILED).order_by("id")
        failed_items = failed_messages.count()
        if failed_items:
            failed += failed_items
            total = max(total, items.count())
            first = first or failed_messages.values_list("message", flat=True).first() or ""
    if not failed:
        return 0, total, ""
    total = max(total, failed)
    message = f"{failed} of {total} items failed"
    if first:
        message += f"; first error: {first.strip().splitlines()[0]}"
    return failed, total, message


def _safely(record: Callable[[], Job], job: Job) -> Job:
    """Record a job's end, reconnecting once if the database connection was dropped.

    If even that fails the heartbeat stops, and the sweeper requeues the job.
    """
    try:
        return record()
    except Exception:
        logger.exception("Recording the end of job %s failed; reconnecting", job.pk)
        connection.close()
        try:
            return record()
        except Exception:
            logger.exception("Job %s is left to the sweeper", job.pk)
            return job


# Set while ``drain`` runs jobs one after another in this process (tests, foreground commands,
# ``demo``): no other worker runs beside it, so a handler must not wait for other jobs.
_FOREGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("jobs_foreground", default=False)


def running_in_foreground() -> bool:
    """Whether the current job runs in ``drain`` (nothing else runs until it ends)."""
    return _FOREGROUND.get()


def drain(
    *,
    lanes: tuple[str, ...] = (Lane.PRIORITY, Lane.DEFAULT),
    task_id: str | None = None,
    max_jobs: int = 10_000,
    on_job: Callable[[Job], None] | None = None,
) -> int:
    """Run claimable jobs in this process until none is left (tests, foreground commands).

    With ``task_id`` only that task's jobs run (a foreground command never runs someone else's
    work). Backed-off jobs are waited for, so a task always ends completed, failed or canceled.
    """
    token = _FOREGROUND.set(True)
    try:
        return _drain(lanes=lanes, task_id=task_id, max_jobs=max_jobs, on_job=on_job)
    finally:
        _FOREGROUND.reset(token)


def _drain(
    *,
    lanes: tuple[str, ...],
    task_id: str | None,
    max_jobs: int,
    on_job: Callable[[Job], None] | None,
) -> int:
    ran = 0
    wid = worker_id()
    while ran < max_jobs:
        job = None
        for lane in lanes:
            low, high = lane_priority_range(lane)
            job = job_claim(worker_id=wid, min_priority=low, max_priority=high, task_id=task_id)
            if job is not None:
                break
        if job is None:
            if any(
                _wait_for_backoff(lane, time.monotonic() + 3600, task_id=task_id) for lane in lanes
            ):
                continue
            return ran
        job = run_job(job, worker_id=wid, heartbeat_thread=False)
        if on_job is not None:
            on_job(job)
        ran += 1
    return ran
