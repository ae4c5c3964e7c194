"""Staff admin of the pipeline (SPEC §11): jobs, task runs, items, events and the dashboard.

Every admin is scoped to the staff user's tenant through ``TenantScopedAdminMixin``. Admin
actions and buttons are thin adapters: cancel and retry call ``jobs.lifecycle.job_cancel`` /
``job_retry``, pause and resume ``jobs.lanes.lane_set_paused``; the dashboard reads
``jobs.dashboard.dashboard_snapshot``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from core.admin import ReadOnlyAdminMixin
from core.admin_display import (
    admin_link,
    pretty_json,
    progress_bar,
    status_badge,
    with_payload_text,
)
from core.limits import MAX_DB_ID
from projects.admin_scoping import TenantScopedAdminMixin
from projects.roles import Action

from .admin_dashboard import PipelineDashboardMixin
from .definitions import TASK_DEFINITIONS, payload_title
from .error_text import error_text_summary
from .events import EventType
from .exceptions import JobStateError
from .lanes import lane_for_priority, lane_q
from .lifecycle import job_cancel, job_retry
from .models import ITEM_FIELD, ITEM_ID, Event, Job, JobItem, JobStatus, Lane, TaskRun
from .registry import event_types, item_source
from .tasks import task_progress

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TaskRunCounts(TypedDict):
    """What ``TaskRunAdmin.get_queryset`` annotates on each task."""

    job_count: int
    jobs_completed: int
    done_sum: int
    total_sum: int


ITEMS_PER_PAGE = 50
EVENTS_ON_JOB_PAGE = 50


class IdSearchMixin:
    """Search also by exact integer ids and by (a prefix of) UUIDs, e.g. a task id."""

    int_search_lookups: tuple[str, ...] = ("pk",)
    uuid_search_lookups: tuple[str, ...] = ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        term = search_term.strip().lstrip("#")
        extra = Q()
        # A number past the 64-bit id range matches nothing (the drivers raise on it), and
        # only ASCII digits are a number (str.isdigit also accepts "²").
        if term.isascii() and term.isdigit() and int(term) <= MAX_DB_ID:
            for lookup in self.int_search_lookups:
                extra |= Q(**{lookup: int(term)})
        hex_part = term.replace("-", "").lower()
        if len(hex_part) >= 8 and all(c in "0123456789abcdef" for c in hex_part):
            for lookup in self.uuid_search_lookups:
                if len(hex_part) == 32:
                    extra |= Q(**{lookup: uuid.UUID(hex_part)})
                else:
                    extra |= Q(**{f"{lookup}__startswith": term.lower()})
        if extra:
            results = results | queryset.filter(extra)
        return results, may_have_duplicates


# --- list filters ---------------------------------------------------------------------------


class JobTypeFilter(admin.SimpleListFilter):
    """Job types that occur in the user's own jobs (never another tenant's)."""

    title = "type"
    parameter_name = "type"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[Any, str]]:
        types = (
            model_admin.get_queryset(request)
            .order_by("type")
            .values_list("type", flat=True)
            .distinct()
        )
        return [(t, t) for t in types]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(type=self.value()) if self.value() else queryset


class TaskTypeFilter(JobTypeFilter):
    """Task types from the definitions (data, the same for every tenant)."""

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[Any, str]]:
        return [(t, t) for t in sorted(TASK_DEFINITIONS)]


class LaneFilter(admin.SimpleListFilter):
    title = "lane"
    parameter_name = "lane"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[Any, str]]:
        return Lane.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        lane = self.value()
        if lane is not None and lane in Lane.values:
            return queryset.filter(lane_q(lane))
        return queryset


class EventTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[Any, str]]:
        # The engine's own job events and what the apps registered (``event_types_register``).
        own = {v for k, v in vars(EventType).items() if k.startswith("JOB_")}
        names = sorted(own | set(event_types()))
        return [(n, n) for n in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(type=self.value()) if self.value() else queryset


# --- jobs -----------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(PipelineDashboardMixin, IdSearchMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    # What fits 1440 px beside the filters (tests/browser/test_admin_tables_browser.py): scope
    # and attempts are filters and the job's page.
    list_display = (
        "id",
        "task_column",
        "status_column",
        "lane_column",
        "project_column",
        "progress_column",
        "age_column",
    )
    list_display_links = ("id",)
    list_filter = (
        "status",
        "scope",
        JobTypeFilter,
        LaneFilter,
        ("created_at", admin.DateFieldListFilter),
        "project",
    )
    list_select_related = ("project",)
    list_per_page = 100
    search_fields = ("type",)
    search_help_text = "Search by job type, job id or task id (the first 8 characters suffice)."
    int_search_lookups = ("pk",)
    uuid_search_lookups = ("task__id",)
    actions = ("cancel_jobs", "retry_jobs")
    # Cancelling and retrying (the actions, the job page's buttons) is job control.
    role_change_action = Action.JOB_CONTROL
    ordering = ("-created_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("type", "status_column"),
                    ("scope", "lane_column", "priority"),
                    ("tenant", "project"),
                    "task",
                    ("step_index", "chunk_index", "total_chunks"),
                )
            },
        ),
        (
            "Progress",
            {
                "fields": (
                    "progress_column",
                    ("attempts", "max_attempts"),
                    ("worker_id", "heartbeat_at", "cancel_requested"),
                    ("not_before", "woken_at"),
                    ("created_at", "started_at", "finished_at", "updated_at"),
                )
            },
        ),
        ("Error", {"fields": ("error_column", "last_error_at")}),
        ("Payload", {"fields": ("payload_column",)}),
    )

    # --- columns ---

    @admin.display(description="status", ordering="status")
    def status_column(self, job: Job) -> str:
        badge = status_badge(job.status)
        if job.cancel_requested and not job.is_finished:
            return format_html('{} <small title="cancel requested">⏹ stopping</small>', badge)
        if job.attempts > 1:
            # A retried job says so where its state is (the list has no attempts column).
            return format_html(
                '{} <small class="pl-muted">attempt {}/{}</small>',
                badge,
                job.attempts,
                job.max_attempts,
            )
        return badge

    @admin.display(description="lane", ordering="priority")
    def lane_column(self, job: Job) -> str:
        return format_html(
            '{} <small class="pl-muted" title="priority">{}</small>',
            lane_for_priority(job.priority),
            job.priority,
        )

    @admin.display(description="project", ordering="project__name")
    def project_column(self, job: Job) -> str:
        if job.project is None:
            return "–"
        return admin_link("admin:projects_project_change", job.project_id, job.project.name)

    @admin.display(description="task · step", ordering="type")
    def task_column(self, job: Job) -> str:
        """Its task's title ("Importing 25 <items>") over the step's job type; the task id on
        hover."""
        if job.task_id is None:
            return format_html('<span class="pl-muted">{}</span>', job.type)
        return format_html(
            '<a href="{}" title="task {}">{}</a><br><small class="pl-muted">{}</small>',
            reverse("admin:jobs_taskrun_change", args=[job.task_id]),
            str(job.task_id)[:8],
            payload_title(job.payload),
            job.type,
        )

    @admin.display(description="progress")
    def progress_column(self, job: Job) -> str:
        return progress_bar(job.progress_done, job.progress_total)

    @admin.display(description="attempts", ordering="attempts")
    def attempts_column(self, job: Job) -> str:
        return f"{job.attempts}/{job.max_attempts}"

    @admin.display(description="age", ordering="created_at")
    def age_column(self, job: Job) -> str:
        return format_html(
            '<span title="{}">{}</span>', job.created_at.isoformat(), timesince(job.created_at)
        )

    @admin.display(description="error")
    def error_column(self, job: Job) -> str:
        """The error without its traceback: what a tenant's staff read (SPEC §14)."""
        if not job.error_message:
            return "–"
        return format_html(
            '<pre class="pl-pre pl-error">{}</pre>', error_text_summary(job.error_message)
        )

    @admin.display(description="error")
    def error_full_column(self, job: Job) -> str:
        """The error with its traceback, for superusers."""
        if not job.error_message:
            return "–"
        return format_html('<pre class="pl-pre pl-error">{}</pre>', job.error_message)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if not request.user.is_superuser:
            return fieldsets
        # Superusers (operators) read the traceback.
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "error_full_column" if field == "error_column" else field
                        for field in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        ]

    @admin.display(description="payload")
    def payload_column(self, job: Job) -> str:
        return pretty_json(job.payload)

    # --- permissions ---

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Jobs are started through tasks (API, commands, schedules), never typed in.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Finished jobs are pruned by the scheduler; deleting a live one would orphan its task.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [f.name for f in Job._meta.fields]
        return [
            *fields,
            "status_column",
            "lane_column",
            "progress_column",
            "error_column",
            "error_full_column",
            "payload_column",
        ]

    # --- actions ---

    @admin.action(
        description="Cancel selected jobs (and the rest of their tasks)",
        permissions=["job_control"],
    )
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._run_job_action(request, queryset, self._cancel_one, verb="cancel")

    @admin.action(description="Retry selected failed or canceled jobs", permissions=["job_control"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._run_job_action(request, queryset, self._retry_one, verb="retry")

    @staticmethod
    def _cancel_one(job_id: int) -> str:
        job = job_cancel(job_id=job_id)
        return "canceled" if job.status == JobStatus.CANCELED else "asked to stop"

    @staticmethod
    def _retry_one(job_id: int) -> str:
        job_retry(job_id=job_id)
        return "queued again"

    def _run_job_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Job],
        fn: Callable[[int], str],
        *,
        verb: str,
    ) -> None:
        outcomes: dict[str, list[int]] = {}
        refused: list[str] = []
        for job in queryset.select_related(None).order_by("id").only("pk", "tenant_id"):
            if not self.has_change_permission(request, job):
                refused.append(f"#{job.pk}: not allowed")
                continue
            try:
                outcome = fn(job.pk)
            except JobStateError as exc:
                refused.append(str(exc))
                continue
            outcomes.setdefault(outcome, []).append(job.pk)
        for outcome, ids in outcomes.items():
            self.message_user(
                request,
                f"{len(ids)} job(s) {outcome}: {', '.join(f'#{i}' for i in ids[:20])}"
                + ("…" if len(ids) > 20 else ""),
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                f"Could not {verb} {len(refused)} job(s): " + " ".join(refused[:10]),
                messages.WARNING,
            )

    # --- job page ---

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        extra_context.update(
            show_save=False,
            show_save_and_continue=False,
            show_save_and_add_another=False,
        )
        if job is not None:
            items = JobItem.objects.filter(job=job).order_by("id")
            paginator = Paginator(items, ITEMS_PER_PAGE)
            page = paginator.get_page(request.GET.get("items_page"))
            summary = dict(
                JobItem.objects.filter(job=job)
                .order_by()
                .values("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            can_change = self.has_change_permission(request, job)
            extra_context.update(
                job=job,
                item_noun=item_source().noun[0],
                item_admin_url=item_source().admin_url,
                items_page=page,
                items_summary=summary,
                job_events=with_payload_text(
                    Event.objects.filter(job=job)
                    .select_related("actor")
                    .order_by("-id")[:EVENTS_ON_JOB_PAGE]
                ),
                can_cancel=can_change and not job.is_finished,
                can_retry=can_change and job.status in (JobStatus.FAILED, JobStatus.CANCELED),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- extra views ---

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            *self.dashboard_urls(),
            path(
                "<path:object_id>/cancel/",
                wrap(require_POST(self.job_cancel_view)),
                name="jobs_job_cancel",
            ),
            path(
                "<path:object_id>/retry/",
                wrap(require_POST(self.job_retry_view)),
                name="jobs_job_retry",
            ),
            *super().get_urls(),
        ]

    def _job_for_action(self, request: HttpRequest, object_id: str) -> Job:
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404("No such job.")
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        return job

    def _job_page(self, job: Job) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[job.pk]))

    def job_cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job_for_action(request, object_id)
        try:
            outcome = self._cancel_one(job.pk)
        except JobStateError as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            self.message_user(request, f"Job #{job.pk} {outcome}.", messages.SUCCESS)
        return self._job_page(job)

    def job_retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job_for_action(request, object_id)
        try:
            outcome = self._retry_one(job.pk)
        except JobStateError as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            self.message_user(request, f"Job #{job.pk} {outcome}.", messages.SUCCESS)
        return self._job_page(job)


# --- task runs ------------------------------------------------------------------------------


class TaskJobInline(admin.TabularInline):
    model = Job
    fk_name = "task"
    fields = (
        "job_link",
        "type",
        "status_column",
        "step_index",
        "chunk_index",
        "progress_column",
        "attempts",
        "finished_at",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    ordering = ("step_index", "chunk_index", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="job")
    def job_link(self, job: Job) -> str:
        return admin_link("admin:jobs_job_change", job.pk, f"#{job.pk}")

    @admin.display(description="status")
    def status_column(self, job: Job) -> str:
        return status_badge(job.status)

    @admin.display(description="progress")
    def progress_column(self, job: Job) -> str:
        return progress_bar(job.progress_done, job.progress_total)


@admin.register(TaskRun)
class TaskRunAdmin(IdSearchMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "short_id",
        "type",
        "status_column",
        "scope",
        "project_column",
        "source",
        "jobs_column",
        "progress_column",
        "created_at",
        "finished_at",
    )
    list_filter = (
        "status",
        TaskTypeFilter,
        "scope",
        "source",
        ("created_at", admin.DateFieldListFilter),
        "project",
    )
    list_select_related = ("project",)
    list_per_page = 100
    search_fields = ("type",)
    search_help_text = "Search by task type or task id (the first 8 characters suffice)."
    int_search_lookups = ()
    uuid_search_lookups = ("id",)
    inlines = (TaskJobInline,)
    fields = (
        "id",
        ("title_column", "status_column"),
        ("type", "scope", "source"),
        ("tenant", "project"),
        "aggregate_progress",
        ("current_step", "created_at", "finished_at"),
        "payload_column",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                job_count=Count("jobs"),
                jobs_completed=Count("jobs", filter=Q(jobs__status=JobStatus.COMPLETED)),
                done_sum=Coalesce(Sum("jobs__progress_done"), 0),
                total_sum=Coalesce(Sum("jobs__progress_total"), 0),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            *(f.name for f in TaskRun._meta.fields),
            "status_column",
            "title_column",
            "aggregate_progress",
            "payload_column",
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="task", ordering="created_at")
    def short_id(self, task: TaskRun) -> str:
        """The task's title ("Moving 4 <items> to Wedding"); its id and type on hover."""
        return format_html(
            '<span title="{} · {}">{}</span>',
            str(task.pk)[:8],
            task.type,
            payload_title(task.payload, task.type),
        )

    @admin.display(description="title")
    def title_column(self, task: TaskRun) -> str | None:
        return payload_title(task.payload, task.type)

    @admin.display(description="status", ordering="status")
    def status_column(self, task: TaskRun) -> str:
        return status_badge(task.status)

    @admin.display(description="project", ordering="project__name")
    def project_column(self, task: TaskRun) -> str:
        if task.project is None:
            return "–"
        return admin_link("admin:projects_project_change", task.project_id, task.project.name)

    @admin.display(description="jobs", ordering="job_count")
    def jobs_column(self, task: WithAnnotations[TaskRun, _TaskRunCounts]) -> str:
        url = reverse("admin:jobs_job_changelist") + f"?q={task.pk}"
        return format_html(
            '<a href="{}">{} of {} done</a>', url, task.jobs_completed, task.job_count
        )

    @admin.display(description="progress")
    def progress_column(self, task: WithAnnotations[TaskRun, _TaskRunCounts]) -> str:
        return progress_bar(task.done_sum, task.total_sum)

    @admin.display(description="aggregate progress")
    def aggregate_progress(self, task: TaskRun) -> str:
        progress = task_progress(task)
        steps_total = progress["steps_total"] or "?"
        finished = task.status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)
        return format_html(
            "{}<br>step {} of {}{} · {} of {} job(s) completed",
            progress_bar(progress["done"], progress["total"]),
            progress["current_step"] + 1,
            steps_total,
            " (finished)" if finished else "",
            progress["jobs_completed"],
            progress["jobs_total"],
        )

    @admin.display(description="payload")
    def payload_column(self, task: TaskRun) -> str:
        return pretty_json(task.payload)


# --- items and events -----------------------------------------------------------------------

# What an item is called and where its admin page is: the item source's, read when rendered.
_item_noun = lazy(lambda: item_source().noun[0], str)


def _item_link(item_id: int | None, item: Any) -> str:
    if item_id is None or item is None:
        return "–"
    source = item_source()
    return admin_link(source.admin_url, item_id, getattr(item, source.label_field))


@admin.register(JobItem)
class JobItemAdmin(IdSearchMixin, TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "job_column",
        "item_column",
        "basename",
        "status_column",
        "message",
        "updated_at",
    )
    list_filter = ("status", ("updated_at", admin.DateFieldListFilter))
    list_select_related = ("job", ITEM_FIELD)
    list_per_page = 100
    search_fields = ("basename",)
    search_help_text = "Search by base name or job id."
    int_search_lookups = ("job_id",)

    @admin.display(description="job", ordering="job_id")
    def job_column(self, item: JobItem) -> str:
        return admin_link("admin:jobs_job_change", item.job_id, f"{item.job.type} #{item.job_id}")

    @admin.display(description=_item_noun())
    def item_column(self, item: JobItem) -> str:
        return _item_link(item.item_id, item.item)

    @admin.display(description="status", ordering="status")
    def status_column(self, item: JobItem) -> str:
        return status_badge(item.status)


@admin.register(Event)
class EventAdmin(IdSearchMixin, TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "type",
        "actor_column",
        "project_column",
        "item_column",
        "job_column",
        "payload_summary",
    )
    list_filter = (EventTypeFilter, ("created_at", admin.DateFieldListFilter), "project")
    list_select_related = ("actor", "project", ITEM_FIELD, "job")
    list_per_page = 100
    search_help_text = lazy(
        lambda: f"Search by event type, {item_source().noun[0]} label, event id or job id.", str
    )()
    int_search_lookups = ("pk", "job_id")
    ordering = ("-id",)
    fields = (
        "id",
        "created_at",
        "type",
        "tenant",
        "actor",
        "project",
        ITEM_FIELD,
        "job",
        "payload_column",
    )
    readonly_fields = fields

    @admin.display(description="actor")
    def actor_column(self, event: Event) -> str:
        return event.actor.get_username() if event.actor is not None else "system"

    @admin.display(description="project")
    def project_column(self, event: Event) -> str:
        if event.project is None:
            return "–"
        return admin_link("admin:projects_project_change", event.project_id, event.project.name)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        # The item source is registered once the apps are ready, after this module loads.
        return ("type", f"{ITEM_FIELD}__{item_source().label_field}")

    @admin.display(description=_item_noun())
    def item_column(self, event: Event) -> str:
        return _item_link(getattr(event, ITEM_ID), getattr(event, ITEM_FIELD))

    @admin.display(description="job")
    def job_column(self, event: Event) -> str:
        if event.job is None:
            return "–"
        return admin_link(
            "admin:jobs_job_change", event.job_id, f"{event.job.type} #{event.job_id}"
        )

    @admin.display(description="payload")
    def payload_summary(self, event: Event) -> str:
        text = json.dumps(event.payload, sort_keys=True, default=str)
        return text if len(text) <= 120 else text[:117] + "…"

    @admin.display(description="payload")
    def payload_column(self, event: Event) -> str:
        return pretty_json(event.payload)


# There is no public site at "/": "View site" opens the API documentation.
admin.site.site_url = "/api/docs/"
