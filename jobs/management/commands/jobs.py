"""``jobs``: lanes and recent jobs as a table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from jobs.lanes import lane_for_priority, lane_paused, lane_q
from jobs.models import Job, JobStatus, Lane


def _age(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = int((timezone.now() - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Command(BaseCommand):
    help = "Show lanes (queued/running/paused) and the most recent jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant")
        parser.add_argument("--status", choices=JobStatus.values)
        parser.add_argument("--limit", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = Job.objects.all()
        if options["tenant"]:
            jobs = jobs.filter(tenant__slug=options["tenant"])
        self.stdout.write(f"{'LANE':<10} {'STATE':<8} {'QUEUED':>7} {'RUNNING':>8}")
        for lane in Lane.values:
            in_lane = jobs.filter(lane_q(lane))
            self.stdout.write(
                f"{lane:<10} {'paused' if lane_paused(lane) else 'running':<8} "
                f"{in_lane.filter(status=JobStatus.QUEUED).count():>7} "
                f"{in_lane.filter(status=JobStatus.RUNNING).count():>8}"
            )
        self.stdout.write("")
        if options["status"]:
            jobs = jobs.filter(status=options["status"])
        rows = jobs.select_related("tenant", "project").order_by("-created_at", "-id")[
            : options["limit"]
        ]
        header = f"{'ID':>6} {'TENANT':<12} {'TYPE':<24} {'SCOPE':<9} {'LANE':<8} {'PRI':>3} {'STATUS':<9} {'PROGRESS':>11} {'TRY':>3} {'AGE':>5}  PROJECT"
        self.stdout.write(header)
        for job in rows:
            progress = f"{job.progress_done}/{job.progress_total}"
            self.stdout.write(
                f"{job.pk:>6} {job.tenant.slug[:12]:<12} {job.type[:24]:<24} {job.scope:<9} "
                f"{lane_for_priority(job.priority):<8} {job.priority:>3} {job.status:<9} {progress:>11} "
                f"{job.attempts:>3} {_age(job.created_at):>5}  {job.project.name if job.project else '-'}"
            )
