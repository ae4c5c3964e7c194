"""The pipeline dashboard page of the admin (SPEC §11), mixed into the Job admin.

Views under ``/admin/jobs/job/dashboard/``: the page, its JSON (the same snapshot, re-read by
the page's script when the event stream reports job events and every few seconds as a
fallback) and the pause/resume buttons of each lane (POST, CSRF-checked, superusers only: the
lanes are shared by every tenant, so staff see them read-only).
Counts come from ``jobs.dashboard.dashboard_snapshot``, scoped to the user's tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from core.admin_display import seconds_human
from projects.models import Tenant, tenant_id_for_user

from .dashboard import dashboard_snapshot
from .lanes import lane_set_paused
from .models import Lane

# The page listens to the API's event stream and polls as a fallback; both can be set (an
# empty PIPELINE_DASHBOARD_STREAM_URL turns the stream off, e.g. behind a server that cannot
# stream responses).
DEFAULT_EVENT_STREAM_URL = "/api/events/stream"
DEFAULT_POLL_MS = 5000


class PipelineDashboardMixin:
    """For the ``Job`` ModelAdmin: the dashboard views and their URLs."""

    # Provided by the ModelAdmin this is mixed into.
    admin_site: Any
    model: Any
    has_view_permission: Callable[..., bool]
    message_user: Callable[..., None]

    def dashboard_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="jobs_job_dashboard"),
            path(
                "dashboard/data/",
                wrap(self.dashboard_data_view),
                name="jobs_job_dashboard_data",
            ),
            path(
                "dashboard/lanes/<str:lane>/<str:action>/",
                wrap(require_POST(self.lane_toggle_view)),
                name="jobs_job_dashboard_lane",
            ),
        ]

    def dashboard_context(self, request: HttpRequest) -> dict[str, Any]:
        """The snapshot with admin links and readable ages added for the page and its JSON."""
        snapshot: dict[str, Any] = dict(dashboard_snapshot(user=request.user))

        def decorate(job: dict[str, Any] | None) -> None:
            if job is None:
                return
            job["url"] = reverse("admin:jobs_job_change", args=[job["id"]])
            job["age_display"] = seconds_human(job["age_seconds"])
            job["heartbeat_age_display"] = seconds_human(job["heartbeat_age_seconds"])

        for lane in snapshot["lanes"]:
            decorate(lane["oldest_waiting"])
        for job in snapshot["stale"]["jobs"] + snapshot["failures_24h"]["jobs"]:
            decorate(job)
        return snapshot

    @staticmethod
    def counts_scope(request: HttpRequest) -> str:
        """Whose jobs the counts cover, in words."""
        if request.user.is_superuser:
            return "every tenant"
        tenant_id = tenant_id_for_user(request.user)
        tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id is not None else None
        return f"tenant {tenant}" if tenant else "no tenant"

    @staticmethod
    def can_pause(request: HttpRequest) -> bool:
        """Only operators pause lanes: a lane runs every tenant's jobs (SPEC §7, §14)."""
        return bool(request.user.is_active and request.user.is_superuser)

    def _require_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        self._require_view(request)
        context = {
            **self.admin_site.each_context(request),
            "title": "Pipeline dashboard",
            "opts": self.model._meta,
            "snapshot": self.dashboard_context(request),
            "can_pause": self.can_pause(request),
            "data_url": reverse("admin:jobs_job_dashboard_data"),
            "stream_url": getattr(
                settings, "PIPELINE_DASHBOARD_STREAM_URL", DEFAULT_EVENT_STREAM_URL
            ),
            "poll_ms": getattr(settings, "PIPELINE_DASHBOARD_POLL_MS", DEFAULT_POLL_MS),
            "changelist_url": reverse("admin:jobs_job_changelist"),
            "counts_scope": self.counts_scope(request),
        }
        return TemplateResponse(request, "admin/jobs/dashboard.html", context)

    def dashboard_data_view(self, request: HttpRequest) -> HttpResponse:
        self._require_view(request)
        response = JsonResponse(self.dashboard_context(request))
        response["Cache-Control"] = "no-store"
        return response

    def lane_toggle_view(self, request: HttpRequest, lane: str, action: str) -> HttpResponse:
        self._require_view(request)
        if not self.can_pause(request):
            raise PermissionDenied
        if lane not in Lane.values or action not in ("pause", "resume"):
            raise Http404("No such lane or action.")
        lane_set_paused(lane=lane, paused=action == "pause")
        self.message_user(
            request,
            f"Lane '{lane}' {'paused: no new jobs start' if action == 'pause' else 'resumed'}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:jobs_job_dashboard"))
