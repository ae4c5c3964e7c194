"""Staff admin of projects (SPEC §11), registered by the photos app: its columns count photos,
pending deletes and active jobs, and its actions start photo tasks.

Project actions (commit, revert, process, maintenance) call the same services as the API and
turn their typed results and domain errors into admin messages. Each is offered only to the
roles that may take it (``permissions=[...]``, projects/admin_scoping.py) and counts against the
same per-user throttle as the API's endpoint (``core.api.throttling.throttle_check``): one use
per project, as the API's per-project endpoints count one per request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from core.api.throttling import RateLimited, throttle_check
from core.errors import ApplicationError
from jobs.models import Job, JobStatus
from photos.services import project_commit, project_process, project_revert
from photos.services.projects import maintenance_start, project_create, project_rename
from photos.services.results import NothingPending
from projects.admin_scoping import TenantScopedAdminMixin
from projects.models import Project, Tenant, tenant_id_for_user
from projects.names import name_characters_problem, name_normalize
from projects.roles import Action
from projects.selectors import ProjectArchived, projects_with_counts

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _ProjectCounts(TypedDict):
    """What ``ProjectAdmin.get_queryset`` annotates on each project."""

    photo_count: int
    pending_delete_count: int
    active_job_count: int


def _count_subquery(queryset: QuerySet) -> Coalesce:
    """A correlated ``COUNT(*)`` per project: no join fan-out, however many counts a row has."""
    counted = (
        queryset.filter(project=OuterRef("pk")).order_by().values("project").annotate(n=Count("*"))
    )
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


class ProjectAdminForm(forms.ModelForm):
    """Refuse what the project services refuse, as a form error rather than a crash.

    A rename counts against the ``project_write`` throttle of the user the admin sets as
    ``throttle_user`` (``ProjectAdmin.get_form``), the API's rename's counter.
    """

    throttle_user: Any = None

    def clean_name(self) -> str:
        name = name_normalize((self.cleaned_data.get("name") or "").strip())
        if problem := name_characters_problem(name, what="A project name"):
            raise forms.ValidationError(problem)
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        renaming = self.instance.pk is not None and "name" in self.changed_data
        if renaming and not self.errors and self.throttle_user is not None:
            try:
                throttle_check(user=self.throttle_user, scope="project_write")
            except RateLimited as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(Project)
class ProjectAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    form = ProjectAdminForm
    # What fits 1440 px beside the filters (tests/browser/test_admin_tables_browser.py): the
    # folder and the exact times are on the project's page.
    list_display = (
        "name",
        "status",
        "photos_column",
        "pending_column",
        "unaccepted_files",
        "active_jobs_column",
        "updated_column",
    )
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    # str(project) (the row checkbox's label) reads the tenant.
    list_select_related = ("tenant",)
    search_fields = ("name", "folder")
    list_per_page = 100
    actions = ("commit_changes", "revert_changes", "process_photos", "run_maintenance")
    role_add_action = Action.PROJECT_CREATE
    role_change_action = Action.PROJECT_RENAME

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        # Photo and pending-delete counts come from the table the database keeps by triggers
        # (one join), not from counting a project's photos per row of the list.
        return projects_with_counts(super().get_queryset(request)).annotate(
            active_job_count=_count_subquery(
                Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
            ),
        )

    # --- columns ---

    @admin.display(description="photos", ordering="photo_count")
    def photos_column(self, project: WithAnnotations[Project, _ProjectCounts]) -> str:
        url = reverse("admin:photos_photo_changelist") + f"?project__id__exact={project.pk}"
        return format_html('<a href="{}">{}</a>', url, project.photo_count)

    @admin.display(description="pending deletes", ordering="pending_delete_count")
    def pending_column(self, project: WithAnnotations[Project, _ProjectCounts]) -> str:
        if not project.pending_delete_count:
            return "0"
        url = (
            reverse("admin:photos_photo_changelist")
            + f"?project__id__exact={project.pk}&pending_delete=yes"
        )
        return format_html('<a href="{}">{}</a>', url, project.pending_delete_count)

    @admin.display(description="active jobs", ordering="active_job_count")
    def active_jobs_column(self, project: WithAnnotations[Project, _ProjectCounts]) -> str:
        url = reverse("admin:jobs_job_changelist") + f"?project__id__exact={project.pk}"
        return format_html('<a href="{}">{}</a>', url, project.active_job_count)

    @admin.display(description="updated", ordering="updated_at")
    def updated_column(self, project: Project) -> str:
        """As a person says it ("3 hours ago"), the exact time on hover."""
        return format_html(
            '<time datetime="{0}" title="{0}">{1} ago</time>',
            project.updated_at.isoformat(),
            timesince(project.updated_at),
        )

    @admin.display(description="photos")
    def photos_summary(self, project: WithAnnotations[Project, _ProjectCounts]) -> str:
        return f"{project.photo_count} photo(s), {project.pending_delete_count} pending delete"

    @admin.display(description="culling")
    def workspace_link(self, project: Project) -> str:
        url = reverse("cull") + f"?project={project.pk}"
        return format_html(
            '<a href="{}" id="cull-project-link">Open in the culling workspace</a>', url
        )

    # --- forms: creating and renaming go through the project services ---

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = cast(type[ProjectAdminForm], super().get_form(request, obj, change, **kwargs))
        # A class made for this request (``modelform_factory``): the rename's throttle is its
        # user's.
        form.throttle_user = request.user
        return form

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("tenant", "name") if request.user.is_superuser else ("name",)
        fields = (
            "name",
            "folder",
            "status",
            "archived_at",
            "uid",
            "photos_summary",
            "unaccepted_files",
            "workspace_link",
            "created_at",
            "updated_at",
        )
        return ("tenant", *fields) if request.user.is_superuser else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [
            "tenant",
            "folder",
            "status",
            "archived_at",
            "uid",
            "photos_summary",
            "unaccepted_files",
            "workspace_link",
            "created_at",
            "updated_at",
        ]

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        if change:
            if "name" in form.changed_data:
                # The form already set the new name on ``obj``; the service needs the stored
                # row to record the old name in its event.
                stored = Project.objects.get(pk=obj.pk)
                project_rename(project=stored, name=obj.name, actor_id=request.user.pk)
                obj.refresh_from_db()
            return
        tenant = obj.tenant if request.user.is_superuser else self._own_tenant(request)
        created = project_create(tenant=tenant, name=obj.name, actor_id=request.user.pk)
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @staticmethod
    def _own_tenant(request: HttpRequest) -> Tenant:
        tenant_id = tenant_id_for_user(request.user)
        if tenant_id is None:
            raise Http404("You belong to no tenant.")
        return Tenant.objects.get(pk=tenant_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a project is a task (project_delete: stop jobs, delete files, archive); the
        # API starts it. A raw row delete here would leave its folder and jobs behind.
        return False

    # --- actions: the API's services, one project at a time ---

    def _each_project(
        self,
        request: HttpRequest,
        queryset: QuerySet[Project],
        run: Callable[[Project], tuple[int, str]],
        *,
        throttle: str,
    ) -> None:
        """``run`` each project, each one use of the ``throttle`` scope; past the rate, the
        rest are refused with the wait in one message."""
        projects = list(queryset.select_related("tenant").order_by("name", "id"))
        for index, project in enumerate(projects):
            if not self.user_owns(request, project):
                self.message_user(request, f"{project.name}: not allowed.", messages.ERROR)
                continue
            try:
                throttle_check(user=request.user, scope=throttle)
            except RateLimited as exc:
                names = ", ".join(p.name for p in projects[index:])
                self.message_user(request, f"Not started for {names}: {exc}", messages.ERROR)
                return
            try:
                level, text = run(project)
            except ApplicationError as exc:
                self.message_user(request, f"{project.name}: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"{project.name}: {text}", level)

    @admin.action(
        description="Commit changes (move discarded files to the trash)", permissions=["commit"]
    )
    def commit_changes(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        def run(project: Project) -> tuple[int, str]:
            result = project_commit(user=request.user, project=project)
            if isinstance(result, NothingPending):
                return messages.INFO, "Nothing to commit."
            return messages.SUCCESS, (
                f"commit started for {result.total_pending} photo(s), task {result.task_id}."
            )

        self._each_project(request, queryset, run, throttle="commit")

    @admin.action(
        description="Revert changes (keep flags back to the files present)",
        permissions=["revert"],
    )
    def revert_changes(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        def run(project: Project) -> tuple[int, str]:
            updated = project_revert(user=request.user, project=project).photo_count
            if not updated:
                return messages.INFO, "nothing to revert."
            return messages.SUCCESS, f"reverted {updated} photo(s)."

        self._each_project(request, queryset, run, throttle="commit")

    @admin.action(
        description="Process photos (thumbnails, previews, EXIF)", permissions=["process"]
    )
    def process_photos(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        def run(project: Project) -> tuple[int, str]:
            started = project_process(user=request.user, project=project)
            return messages.SUCCESS, f"processing started, task {started.task_id}."

        self._each_project(request, queryset, run, throttle="bulk")

    @admin.action(description="Run maintenance now", permissions=["maintenance"])
    def run_maintenance(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        def run(project: Project) -> tuple[int, str]:
            try:
                started = maintenance_start(tenant=project.tenant, project=project, source="user")
            except ProjectArchived:
                return messages.WARNING, "archived; maintenance runs on active projects only."
            return messages.SUCCESS, f"maintenance started, task {started['task_id']}."

        self._each_project(request, queryset, run, throttle="maintenance")
