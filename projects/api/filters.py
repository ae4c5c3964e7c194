"""List filters of projects. Without ``status`` the list shows active projects only."""

from __future__ import annotations

import django_filters

from projects.models import Project


class ProjectFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*Project.Status.choices, ("all", "All")], method="filter_status"
    )
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["status", "name"]

    def filter_status(self, queryset, _name, value):
        return queryset if value == "all" else queryset.filter(status=value)
