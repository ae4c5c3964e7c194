"""List filters of photos (SPEC §9): project, taken_at range, file type, keep flags,
pending delete, tags, visibility, derivative status, rating and label, capture metadata."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from config.filters import IdFilter
from photos.models import PENDING_DELETE_Q, RATING_MAX, DerivativeStatus, Label, Photo

FILE_TYPES = [("jpg", "Has a JPG"), ("raw", "Has a RAW"), ("other", "Has another image")]
MAX_TAGS = 20


class PhotoFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id")
    taken_at = django_filters.IsoDateTimeFromToRangeFilter(
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
    rating = django_filters.NumberFilter(help_text=f"exactly this rating (0-{RATING_MAX})")
    rating_min = django_filters.NumberFilter(
        field_name="rating", lookup_expr="gte", help_text="at least this rating"
    )
    rating_max = django_filters.NumberFilter(
        field_name="rating", lookup_expr="lte", help_text="at most this rating"
    )
    label = django_filters.MultipleChoiceFilter(
        choices=Label.choices, help_text="a colour label; repeat for any of several"
    )
    camera = django_filters.CharFilter(lookup_expr="icontains", help_text="make and model contain")
    lens = django_filters.CharFilter(lookup_expr="icontains", help_text="lens contains")
    iso_min = django_filters.NumberFilter(field_name="iso", lookup_expr="gte")
    iso_max = django_filters.NumberFilter(field_name="iso", lookup_expr="lte")

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
            "rating",
            "rating_min",
            "rating_max",
            "label",
            "camera",
            "lens",
            "iso_min",
            "iso_max",
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
