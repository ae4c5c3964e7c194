"""Reads of jobs, tasks and events; every one starts from a tenant or a user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from projects.models import Tenant

from .models import Event, Job, TaskRun


def job_list(
    *,
    tenant: Tenant | None = None,
    user: Any = None,
    status: str | None = None,
    type: str | None = None,
    scope: str | None = None,
    project: int | None = None,
    task: str | None = None,
) -> QuerySet[Job]:
    qs = Job.objects.for_user(user) if user is not None else Job.objects.for_tenant(tenant)
    filters = {
        "status": status,
        "type": type,
        "scope": scope,
        "project_id": project,
        "task_id": task,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v is not None})
    return qs.select_related("project", "task").order_by("-created_at", "-id")


def task_list(*, user: Any) -> QuerySet[TaskRun]:
    return TaskRun.objects.for_user(user).order_by("-created_at")


def events_after(*, user: Any, after_id: int = 0, limit: int = 500) -> list[Event]:
    return list(Event.objects.for_user(user).filter(id__gt=after_id).order_by("id")[:limit])
