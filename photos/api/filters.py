"""List filters of photos (SPEC §9): project, taken_at range, file type, keep flags,
pending delete, tags, visibility, derivative status."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from config.filters import BoundedIsoDateTimeFromToRangeFilter, IdFilter
from photos.models import PENDING_DELETE_Q, DerivativeStatus, Photo

FILE_TYPES = [("jpg", "Has a JPG"), ("raw", "Has a RAW"), ("other", "Has another image")]
MAX_TAGS = 20


class PhotoFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id")
    taken_at = BoundedIsoDateTimeFromToRangeFilter(
        field_name="taken_at",
        help_text="taken_at_after / taken_at_before: ISO date-times, both ends inclusive",
    )
    file_type = django_filters.ChoiceFilter(choices=FILE_TYPES, method="filter_file_type")
    keep_jpg = django_filters.BooleanFilter()
    keep_raw = django_filters.BooleanFilter()
    pending = django_filters.BooleanFilter(
        method="filter_pending", help_text="true: photos a commit would trash files of"
    )
    tags = django_filters.CharFilter(
        method="filter_tags", help_text="Comma-separated tag names; a photo must carry all"
    )
    visibility = django_filters.ChoiceFilter(choices=Photo.Visibility.choices)
    thumbnail_status = django_filters.ChoiceFilter(choices=DerivativeStatus.choices)
    preview_status = django_filters.ChoiceFilter(choices=DerivativeStatus.choices)
    basename = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Photo
        fields = [
            "project",
            "taken_at",
            "file_type",
            "keep_jpg",
            "keep_raw",
            "pending",
            "tags",
            "visibility",
            "thumbnail_status",
            "preview_status",
            "basename",
        ]

    def filter_file_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{f"{value}_available": True})

    def filter_pending(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(PENDING_DELETE_Q) if value else queryset.exclude(PENDING_DELETE_Q)

    def filter_tags(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        names = [n.strip() for n in value.split(",") if n.strip()][:MAX_TAGS]
        for tag in dict.fromkeys(names):
            # One join per tag: a photo carries a tag name at most once, so no duplicates.
            queryset = queryset.filter(Q(tags__name=tag))
        return queryset
