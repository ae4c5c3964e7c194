"""List filters of photos (SPEC §9): project, taken_at range, file type, keep flags,
pending delete, tags, visibility, derivative status, rating and label, capture metadata."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from core.api.filters import BoundedIsoDateTimeFromToRangeFilter, IdFilter
from core.limits import MAX_DB_ID
from photos.hints import CLIPPED_FRACTION
from photos.models import (
    KEEP_MISMATCH_Q,
    PENDING_DELETE_Q,
    RATING_MAX,
    DerivativeStatus,
    Label,
    Photo,
)
from projects.models import tenant_id_for_user

FILE_TYPES = [
    ("jpg", "Has a JPG"),
    ("raw", "Has a RAW"),
    ("other", "Has another image"),
    ("jpg_only", "A JPG and no RAW"),
    ("raw_only", "A RAW and no JPG"),
    ("pair", "A JPG and a RAW"),
]
# What each file type means beyond "has a file of that class".
FILE_TYPE_Q = {
    "jpg_only": Q(jpg_available=True, raw_available=False),
    "raw_only": Q(raw_available=True, jpg_available=False),
    "pair": Q(jpg_available=True, raw_available=True),
}
MAX_PROJECTS = 200
MAX_TAGS = 20
# A tag on at most this many of the tenant's photos is listed tag-first (``filter_tags``):
# about where fetching and sorting its photos by id costs as much as walking the list order.
TAG_FIRST_MAX = 5000


class PhotoFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id")
    taken_at = BoundedIsoDateTimeFromToRangeFilter(
        field_name="taken_at",
        help_text="taken_at_after / taken_at_before: ISO date-times, both ends inclusive",
    )
    file_type = django_filters.ChoiceFilter(choices=FILE_TYPES, method="filter_file_type")
    # The workspace's filters (SPEC §17): several projects, keep mismatch, either derivative.
    projects = django_filters.CharFilter(
        method="filter_projects", help_text="Comma-separated project ids: photos of any of them"
    )
    keep_mismatch = django_filters.BooleanFilter(
        method="filter_keep_mismatch",
        help_text="true: a keep flag differs from its file's availability",
    )
    derivatives = django_filters.ChoiceFilter(
        choices=DerivativeStatus.choices,
        method="filter_derivatives",
        help_text="the thumbnail or the preview is in this state",
    )
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
    # A column of the photo itself: no join, so no DISTINCT (which made PostgreSQL sort whole
    # rows of a million-photo list, docs/BENCHMARKS.md §11).
    label = django_filters.MultipleChoiceFilter(
        choices=Label.choices,
        distinct=False,
        help_text="a colour label; repeat for any of several",
    )
    camera = django_filters.CharFilter(lookup_expr="icontains", help_text="make and model contain")
    lens = django_filters.CharFilter(lookup_expr="icontains", help_text="lens contains")
    iso_min = django_filters.NumberFilter(field_name="iso", lookup_expr="gte")
    iso_max = django_filters.NumberFilter(field_name="iso", lookup_expr="lte")
    # Culling hints and bursts (SPEC §17).
    sharpness_min = django_filters.NumberFilter(
        field_name="sharpness", lookup_expr="gte", help_text="at least this sharpness"
    )
    burst = django_filters.NumberFilter(help_text="the frames of this burst (its first photo's id)")
    in_burst = django_filters.BooleanFilter(
        field_name="burst", lookup_expr="isnull", exclude=True, help_text="true: in a burst"
    )
    clipped = django_filters.BooleanFilter(
        method="filter_clipped",
        help_text=f"true: highlights or shadows clipped on more than {CLIPPED_FRACTION:.0%} of pixels",
    )

    class Meta:
        model = Photo
        fields = [
            "project",
            "projects",
            "keep_mismatch",
            "derivatives",
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
            "sharpness_min",
            "burst",
            "in_burst",
            "clipped",
        ]

    def filter_clipped(self, queryset: QuerySet, _name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        clipped = Q(highlights_clipped__gt=CLIPPED_FRACTION) | Q(
            shadows_clipped__gt=CLIPPED_FRACTION
        )
        return queryset.filter(clipped) if value else queryset.exclude(clipped)

    def filter_file_type(self, queryset: QuerySet, _name: str, value: str) -> QuerySet:
        if value in FILE_TYPE_Q:
            return queryset.filter(FILE_TYPE_Q[value])
        return queryset.filter(**{f"{value}_available": True})

    def filter_projects(self, queryset: QuerySet, _name: str, value: str) -> QuerySet:
        ids = []
        for part in value.split(",")[:MAX_PROJECTS]:
            try:
                ids.append(int(part))
            except ValueError:
                raise ValidationError({"projects": "Comma-separated project ids."}) from None
        return queryset.filter(project_id__in=[i for i in ids if 0 < i <= MAX_DB_ID])

    def filter_keep_mismatch(self, queryset: QuerySet, _name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(KEEP_MISMATCH_Q) if value else queryset.exclude(KEEP_MISMATCH_Q)

    def filter_derivatives(self, queryset: QuerySet, _name: str, value: str) -> QuerySet:
        return queryset.filter(Q(thumbnail_status=value) | Q(preview_status=value))

    def filter_pending(self, queryset: QuerySet, _name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(PENDING_DELETE_Q) if value else queryset.exclude(PENDING_DELETE_Q)

    def filter_tags(self, queryset: QuerySet, _name: str, value: str) -> QuerySet:
        """Photos carrying every named tag, planned by how many photos carry each.

        No single plan suits every tag: walking the list order (the capture-time index) and
        checking each photo finds a page of a common tag at once, but reads most of the
        library for a rare one (0.8 s for a tag on 200 of a million photos); reading the
        tag's photos first and sorting them is the reverse. So each tag's photos are counted
        first, up to ``TAG_FIRST_MAX`` (an index-only read of the through table): a tag on
        no more photos is read tag-first (its photo ids; several such tags intersect), a more
        common one in list order against the set of its photos (a semi-join).
        """
        names = [n.strip() for n in value.split(",") if n.strip()][:MAX_TAGS]
        request = getattr(self, "request", None)
        tenant_id = tenant_id_for_user(request.user) if request is not None else None
        through = Photo.tags.through
        few: set[int] | None = None
        for tag in dict.fromkeys(names):
            tagged = through.objects.filter(tag__name=tag)
            if tenant_id is not None:
                tagged = tagged.filter(tag__project__tenant_id=tenant_id)
            ids = list(tagged.values_list("photo_id", flat=True)[: TAG_FIRST_MAX + 1])
            if len(ids) <= TAG_FIRST_MAX:
                few = set(ids) if few is None else few & set(ids)
            else:
                on_tag = through.objects.filter(tag__name=tag).values("photo_id")
                queryset = queryset.filter(id__in=on_tag)
        if few is not None:
            queryset = queryset.filter(id__in=sorted(few))
        return queryset


def photo_filter_register(name: str, filter_: django_filters.Filter) -> None:
    """Add a filter of the photo list from an app above ``photos`` (``sharing`` adds
    ``picked_by_share``), which ``photos`` may not import. Call it from the app's ``ready()``;
    registering one name twice with another filter is a bug."""
    known = PhotoFilter.base_filters.get(name)
    if known is not None and type(known) is not type(filter_):
        raise RuntimeError(f"Two photo filters named '{name}'.")
    PhotoFilter.base_filters[name] = filter_
