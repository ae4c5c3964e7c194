"""Task runs, jobs, job items, the event outbox and lane state (SPEC §3, §7, §10).

These tables are the source of truth of the pipeline; django-q2 only carries wake-ups.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Project, Tenant, TenantScopedQuerySet


class Scope(models.TextChoices):
    PROJECT = "project", "Project"
    # A set of items, possibly across projects (the value and its label predate the registry:
    # stored in rows and served by the API).
    ITEM_SET = "photo_set", "Photo set"
    GLOBAL = "global", "Global"


class Lane(models.TextChoices):
    PRIORITY = "priority", "Priority"
    DEFAULT = "default", "Default"


class JobStatus(models.TextChoices):
    """The status of a job and of a task (a task run has the same five states)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class TaskRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.PROJECT)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="task_runs")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="task_runs"
    )
    source = models.CharField(max_length=32, default="user")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # The step whose jobs exist; advancing is a compare-and-set on it, so a step is enqueued once.
    current_step = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "type", "status"], name="taskrun_tenant_type_status"),
            models.Index(fields=["tenant", "-created_at"], name="taskrun_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.status})"


FINISHED_JOB_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class JobQuerySet(TenantScopedQuerySet["Job"]):
    """Jobs scoped by tenant; filter a lane with ``jobs.lanes.lane_q``."""


class Job(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="jobs")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    task = models.ForeignKey(
        TaskRun, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    type = models.CharField(max_length=64)
    scope = models.CharField(
        max_length=16, choices=Scope.choices, default=Scope.PROJECT, db_default=Scope.PROJECT
    )
    step_index = models.PositiveSmallIntegerField(default=0)
    chunk_index = models.PositiveIntegerField(default=0)
    total_chunks = models.PositiveIntegerField(default=1)
    priority = models.IntegerField(default=50)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    payload = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    error_message = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=128, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    not_before = models.DateTimeField(null=True, blank=True)
    # When a wake-up message was last sent; the sweeper re-sends for jobs that wait too long.
    woken_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "-priority", "created_at", "id"], name="job_claim_order"
            ),
            models.Index(fields=["scope", "status", "-created_at"], name="job_scope_status"),
            models.Index(
                fields=["tenant", "scope", "status", "-created_at"], name="job_tenant_scope"
            ),
            models.Index(fields=["project", "-created_at"], name="job_project_created"),
            models.Index(fields=["task"], name="job_task"),
            # Fair claiming (lifecycle.claim_turn): a tenant's best job, its last claim.
            models.Index(
                fields=["tenant", "status", "-priority", "created_at", "id"],
                name="job_tenant_claim",
            ),
            models.Index(fields=["tenant", "priority", "started_at"], name="job_tenant_turn"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")) | Q(progress_total=0),
                name="job_progress_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(scope="global") | Q(project__isnull=True),
                name="job_global_has_no_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES


class JobItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


# The field of ``JobItem`` and ``Event`` that names an item of the registered item source
# (``jobs.registry.item_source``), a row of ``settings.PIPELINE_ITEM_MODEL``. Its name was set by
# migration 0001, before the registry; renaming it would rename a column and an index for no
# behaviour, so the engine reaches it through these names (docs/ARCHITECTURE.md).
ITEM_FIELD = "photo"
ITEM_ID = f"{ITEM_FIELD}_id"


class JobItem(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    photo = models.ForeignKey(
        settings.PIPELINE_ITEM_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="job_items",
    )
    basename = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=JobItemStatus.choices, default=JobItemStatus.PENDING
    )
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "status", "id"], name="jobitem_job_status")]

    def __str__(self) -> str:
        return f"item {self.basename or self.item_id} of job {self.job_id} ({self.status})"

    # The item by a generic name: the field keeps the name migration 0001 gave it (see
    # docs/ARCHITECTURE.md, "the item field"); the engine reads and writes it through these.
    @property
    def item_id(self) -> int | None:
        return getattr(self, ITEM_ID)

    @property
    def item(self) -> models.Model | None:
        return getattr(self, ITEM_FIELD)


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    photo = models.ForeignKey(
        settings.PIPELINE_ITEM_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="event_tenant_id"),
            models.Index(fields=["created_at"], name="event_created"),
            models.Index(fields=[ITEM_FIELD, "id"], name="event_photo"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class LaneState(models.Model):
    """Whether a lane is paused. A missing row means running."""

    lane = models.CharField(max_length=16, choices=Lane.choices, primary_key=True)
    paused = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "lane"

    def __str__(self) -> str:
        return f"{self.lane} ({'paused' if self.paused else 'running'})"
