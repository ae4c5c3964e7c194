"""List filters of jobs, job items and task runs (django-filter)."""

from __future__ import annotations

import django_filters

from core.api.filters import IdFilter
from jobs.models import Job, JobItem, JobItemStatus, JobStatus, Scope, TaskRun


class JobFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    type = django_filters.CharFilter()
    scope = django_filters.ChoiceFilter(choices=Scope.choices)
    project = IdFilter(field_name="project_id")
    task = django_filters.UUIDFilter(field_name="task_id")

    class Meta:
        model = Job
        fields = ["status", "type", "scope", "project", "task"]


class JobItemFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobItemStatus.choices)

    class Meta:
        model = JobItem
        fields = ["status"]


class TaskRunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    type = django_filters.CharFilter()
    scope = django_filters.ChoiceFilter(choices=Scope.choices)
    project = IdFilter(field_name="project_id")

    class Meta:
        model = TaskRun
        fields = ["status", "type", "scope", "project"]
