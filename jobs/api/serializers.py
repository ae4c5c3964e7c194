"""Serializers of jobs, job items, task runs and task-start bodies (SPEC §9)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.payloads import ItemIdField
from core.limits import MAX_DB_ID
from jobs.definitions import payload_title
from jobs.error_text import error_text_clean, error_text_summary
from jobs.lanes import lane_for_priority
from jobs.models import ITEM_FIELD, Job, JobItem, JobItemStatus, Scope, TaskRun
from jobs.tasks import task_progress


class JobSerializer(serializers.ModelSerializer):
    lane = serializers.SerializerMethodField()
    task_title = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "task",
            "task_title",
            "type",
            "scope",
            "project",
            "status",
            "priority",
            "lane",
            "step_index",
            "chunk_index",
            "total_chunks",
            "progress_done",
            "progress_total",
            "attempts",
            "max_attempts",
            "error_message",
            "last_error_at",
            "cancel_requested",
            "not_before",
            "heartbeat_at",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_lane(self, job: Job) -> str:
        return lane_for_priority(job.priority)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_task_title(self, job: Job) -> str | None:
        """Its task's title ("Moving 4 <items> to Wedding"); ``null`` for a job of no task."""
        return payload_title(job.payload) if job.task_id else None

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Errors are cleaned when stored; clean again for rows stored before that.
        error = error_text_clean(data.get("error_message") or "")
        data["error_message"] = error if _reader_is_superuser(self) else error_text_summary(error)
        return data


def _reader_is_superuser(serializer: serializers.BaseSerializer) -> bool:
    """Whether the request being answered is a superuser's: only they read tracebacks
    (SPEC §14). Without a request in the context, no."""
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_superuser)


class ItemsSummarySerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()


class JobDetailSerializer(JobSerializer):
    """A job with the counts of its items per status (``items_summary``)."""

    items_summary = serializers.SerializerMethodField()
    total_items = serializers.SerializerMethodField()
    payload = serializers.JSONField(read_only=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "payload", "items_summary", "total_items"]
        read_only_fields = fields

    def _summary(self, job: Job) -> dict[str, int]:
        cached = getattr(job, "_items_summary", None)
        if cached is None:
            from django.db.models import Count

            counts = dict(
                JobItem.objects.filter(job=job)
                .order_by()
                .values("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            cached = {status: counts.get(status, 0) for status in JobItemStatus.values}
            job._items_summary = cached  # type: ignore[attr-defined]
        return cached

    @extend_schema_field(ItemsSummarySerializer)
    def get_items_summary(self, job: Job) -> dict[str, int]:
        return self._summary(job)

    def get_total_items(self, job: Job) -> int:
        return sum(self._summary(job).values())


class JobItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobItem
        fields = [
            "id",
            "job",
            ITEM_FIELD,
            "basename",
            "status",
            "message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        message = error_text_clean(data.get("message") or "")
        data["message"] = message if _reader_is_superuser(self) else error_text_summary(message)
        return data


class TaskProgressSerializer(serializers.Serializer):
    steps_total = serializers.IntegerField(allow_null=True)
    current_step = serializers.IntegerField()
    jobs_total = serializers.IntegerField()
    jobs_completed = serializers.IntegerField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class TaskRunSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()

    class Meta:
        model = TaskRun
        fields = [
            "id",
            "type",
            "title",
            "scope",
            "project",
            "source",
            "status",
            "current_step",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_title(self, task: TaskRun) -> str | None:
        """What a person calls the task ("Importing 25 <items>"), from its definition."""
        return payload_title(task.payload, task.type)


class TaskRunDetailSerializer(TaskRunSerializer):
    """One task with its jobs (every step and chunk so far) and aggregate progress."""

    payload = serializers.JSONField(read_only=True)
    progress = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField()

    class Meta(TaskRunSerializer.Meta):
        fields = [*TaskRunSerializer.Meta.fields, "payload", "progress", "jobs"]
        read_only_fields = fields

    @extend_schema_field(TaskProgressSerializer)
    def get_progress(self, task: TaskRun) -> dict[str, Any]:
        return task_progress(task)

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, task: TaskRun) -> list[dict[str, Any]]:
        jobs = task.jobs.order_by("step_index", "chunk_index", "id")
        # many=True makes a ListSerializer, whose data is a list; the stubs miss that.
        return JobSerializer(jobs, many=True, context=self.context).data  # type: ignore[return-value]


class TaskStartSerializer(serializers.Serializer):
    """``{task_type, project?, scope?, items?, payload?}`` for ``POST /api/tasks/``."""

    task_type = serializers.CharField(max_length=64)
    project = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_DB_ID
    )
    scope = serializers.ChoiceField(choices=Scope.choices, required=False, allow_null=True)
    items = serializers.ListField(child=ItemIdField(), required=False, allow_empty=True)
    payload = serializers.DictField(required=False)


class ProjectTaskStartSerializer(serializers.Serializer):
    """``{task_type, items?, payload?}`` for ``POST /api/projects/{id}/jobs/``."""

    task_type = serializers.CharField(max_length=64)
    items = serializers.ListField(child=ItemIdField(), required=False, allow_empty=True)
    payload = serializers.DictField(required=False)


class StartedTaskSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
    type = serializers.CharField()
    scope = serializers.CharField()
    project = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    first_job_id = serializers.IntegerField()
    chunked = serializers.BooleanField()
    job_count = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.IntegerField())


class TaskStartedReplySerializer(serializers.Serializer):
    task = StartedTaskSerializer()


class TaskIdReplySerializer(serializers.Serializer):
    task_id = serializers.UUIDField()


class TaskConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    task_id = serializers.UUIDField()


class MaintenanceSerializer(serializers.Serializer):
    project = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_DB_ID
    )


class TaskStepSerializer(serializers.Serializer):
    type = serializers.CharField()
    priority = serializers.IntegerField()
    carry_items = serializers.BooleanField()
    only_if_needed = serializers.BooleanField()


class TaskDefinitionSerializer(serializers.Serializer):
    type = serializers.CharField()
    scope = serializers.CharField()
    allowed_scopes = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    single_flight = serializers.BooleanField()
    steps = TaskStepSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
