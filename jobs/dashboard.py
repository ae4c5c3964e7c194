"""Selectors for the pipeline dashboard (SPEC §11): what the lanes are doing, for one user.

Counts are scoped to the user's tenant (``Job.objects.for_user``); whether a lane is paused is
global, because lanes are shared by every tenant. Everything is returned as plain,
JSON-serialisable data, so the admin page and its JSON endpoint render the same snapshot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from .definitions import payload_title
from .lanes import lane_expression, lane_for_priority, lane_q, lanes_paused
from .models import Job, JobQuerySet, JobStatus, Lane

FAILURE_WINDOW = timedelta(hours=24)
LIST_LIMIT = 20


class JobSummary(TypedDict):
    id: int
    type: str
    title: str | None
    status: str
    lane: str
    scope: str
    project_id: int | None
    project: str | None
    task_id: str | None
    attempts: int
    max_attempts: int
    created_at: str
    age_seconds: int
    heartbeat_at: str | None
    heartbeat_age_seconds: int | None
    not_before: str | None
    error: str


class LaneSummary(TypedDict):
    lane: str
    label: str
    paused: bool
    queued: int
    running: int
    stale: int
    failed_24h: int
    oldest_waiting: JobSummary | None


class DashboardSnapshot(TypedDict):
    generated_at: str
    # The same moment as a person reads it: the local time of day ("21:06:21").
    generated_at_display: str
    stale_seconds: int
    lanes: list[LaneSummary]
    totals: dict[str, int]
    stale: dict[str, Any]
    failures_24h: dict[str, Any]


def stale_q(*, now: datetime) -> Q:
    """Running jobs whose heartbeat is older than ``PIPELINE_STALE_SECONDS`` (as the sweeper)."""
    cutoff = now - timedelta(seconds=settings.PIPELINE_STALE_SECONDS)
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def job_summary(job: Job, *, now: datetime) -> JobSummary:
    return {
        "id": job.pk,
        "type": job.type,
        # Its task's title ("Importing 25 <items>"), else its type in words.
        "title": payload_title(job.payload) if job.task_id else job.type.replace("_", " "),
        "status": job.status,
        "lane": lane_for_priority(job.priority),
        "scope": job.scope,
        "project_id": job.project_id,
        "project": job.project.name if job.project is not None else None,
        "task_id": str(job.task_id) if job.task_id else None,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": job.created_at.isoformat(),
        "age_seconds": max(int((now - job.created_at).total_seconds()), 0),
        "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
        "heartbeat_age_seconds": (
            max(int((now - job.heartbeat_at).total_seconds()), 0) if job.heartbeat_at else None
        ),
        "not_before": job.not_before.isoformat() if job.not_before else None,
        "error": (job.error_message.strip().splitlines() or [""])[0][:300],
    }


def _jobs(user: Any) -> JobQuerySet:
    return Job.objects.for_user(user)


def dashboard_snapshot(*, user: Any, now: datetime | None = None) -> DashboardSnapshot:
    """Per-lane counts, the oldest waiting job, stale jobs and failures of the last 24 hours.

    A fixed number of queries whatever the number of jobs: one grouped count over the active
    and recently failed jobs, one query per lane for its oldest waiting job, and two each for
    the stale and failed lists.
    """
    now = now or timezone.now()
    since = now - FAILURE_WINDOW
    stale = stale_q(now=now)
    failed = Q(status=JobStatus.FAILED, finished_at__gte=since)

    rows = (
        _jobs(user)
        .filter(Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]) | failed)
        .annotate(lane_name=lane_expression())
        .order_by()
        .values("lane_name")
        .annotate(
            queued=Count("id", filter=Q(status=JobStatus.QUEUED)),
            running=Count("id", filter=Q(status=JobStatus.RUNNING)),
            stale=Count("id", filter=stale),
            failed_24h=Count("id", filter=failed),
        )
    )
    counts = {row["lane_name"]: row for row in rows}
    paused = lanes_paused()

    lanes: list[LaneSummary] = []
    for lane, label in Lane.choices:
        row = counts.get(lane, {})
        oldest = (
            _jobs(user)
            .filter(status=JobStatus.QUEUED, cancel_requested=False)
            .filter(lane_q(lane))
            .select_related("project")
            .order_by("created_at", "id")
            .first()
        )
        lanes.append(
            {
                "lane": lane,
                "label": str(label),
                "paused": paused[lane],
                "queued": row.get("queued", 0),
                "running": row.get("running", 0),
                "stale": row.get("stale", 0),
                "failed_24h": row.get("failed_24h", 0),
                "oldest_waiting": job_summary(oldest, now=now) if oldest else None,
            }
        )

    stale_jobs = _jobs(user).filter(stale).select_related("project")
    failed_jobs = _jobs(user).filter(failed).select_related("project")
    return {
        "generated_at": now.isoformat(),
        "generated_at_display": timezone.localtime(now).strftime("%H:%M:%S"),
        "stale_seconds": settings.PIPELINE_STALE_SECONDS,
        "lanes": lanes,
        "totals": {
            key: sum(lane[key] for lane in lanes)  # type: ignore[literal-required]
            for key in ("queued", "running", "stale", "failed_24h")
        },
        "stale": {
            "count": sum(lane["stale"] for lane in lanes),
            "jobs": [
                job_summary(j, now=now)
                for j in stale_jobs.order_by("heartbeat_at", "id")[:LIST_LIMIT]
            ],
        },
        "failures_24h": {
            "count": sum(lane["failed_24h"] for lane in lanes),
            "jobs": [
                job_summary(j, now=now)
                for j in failed_jobs.order_by("-finished_at", "-id")[:LIST_LIMIT]
            ],
        },
    }
