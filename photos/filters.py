"""Filters of photo reads that are not a list endpoint's (the list's own are in
``photos/api/filters.py``).

``PendingDeletesFilter`` parses the parameters of "what a commit would trash" once, for the
selector ``photos_pending_deletes`` (``GET /api/photos/pending-deletes``): dates bound
``taken_at`` (a date is its whole day, both ends inclusive), ``orientation`` is the displayed
shape or an EXIF value, ``file_type`` picks the file classes counted.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.api.filters import when_param_parse

from .models import Photo

# EXIF orientations 5-8 turn the picture a quarter: its displayed sides are swapped.
ROTATED_ORIENTATIONS = (5, 6, 7, 8)
EXIF_VALUES = {str(value) for value in range(1, 9)}
ORIENTATION_ERROR = "orientation must be landscape, portrait, square or an EXIF value 1–8."
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "all": ("jpg", "raw"),
    "any": ("jpg", "raw"),
    "both": ("jpg", "raw"),
    "jpg": ("jpg",),
    "raw": ("raw",),
}


class WhenField(forms.Field):
    """An ISO date or date-time within the range the databases compare (``None`` when empty)."""

    def clean(self, value: Any) -> date | datetime | None:
        return when_param_parse(value, name=str(self.label or "value"))


class FileKindsField(forms.Field):
    """``jpg``, ``raw`` or ``all`` (any case; empty is ``all``) as the classes it counts."""

    def clean(self, value: Any) -> tuple[str, ...]:
        if value is None:
            value = ""
        kinds = FILE_KINDS.get(value.strip().lower() or "all") if isinstance(value, str) else None
        if kinds is None:
            raise ValidationError("file_type must be jpg, raw or all.")
        return kinds


class OrientationField(forms.Field):
    """``landscape``, ``portrait``, ``square`` (as displayed) or an EXIF value 1-8 (ASCII
    digits only: "²" or a 20-digit number matches no photo and is refused)."""

    def clean(self, value: Any) -> Q | None:
        if value in (None, "", "any", "all"):
            return None
        if isinstance(value, str) and value.isdigit():
            if value not in EXIF_VALUES:
                raise ValidationError(ORIENTATION_ERROR)
            return Q(orientation=int(value))
        rotated = Q(orientation__in=ROTATED_ORIENTATIONS)
        upright = ~rotated
        wide, tall = Q(width__gt=F("height")), Q(height__gt=F("width"))
        if value == "landscape":
            return (upright & wide) | (rotated & tall)
        if value == "portrait":
            return (upright & tall) | (rotated & wide)
        if value == "square":
            return Q(width__isnull=False, width=F("height"))
        raise ValidationError(ORIENTATION_ERROR)


class WhenFilter(django_filters.Filter):
    """A bound of ``taken_at``; a date covers its whole day (an upper bound: up to the start of
    the next day, exclusive). A naive date-time is in the current time zone."""

    field_class = WhenField

    def __init__(self, *args: Any, end: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.end = end

    def filter(self, qs: QuerySet, value: date | datetime | None) -> QuerySet:
        if value is None:
            return qs
        if isinstance(value, datetime):
            moment = value if timezone.is_aware(value) else timezone.make_aware(value)
            lookup = "lte" if self.end else "gte"
            return qs.filter(**{f"{self.field_name}__{lookup}": moment})
        day = value + timedelta(days=1) if self.end else value
        moment = timezone.make_aware(datetime.combine(day, time.min))
        return qs.filter(**{f"{self.field_name}__{'lt' if self.end else 'gte'}": moment})


class FileKindsFilter(django_filters.Filter):
    field_class = FileKindsField


class OrientationFilter(django_filters.Filter):
    field_class = OrientationField


class PendingDeletesFilter(django_filters.FilterSet):
    date_from = WhenFilter(field_name="taken_at", end=False, label="date_from")
    date_to = WhenFilter(field_name="taken_at", end=True, label="date_to")
    file_type = FileKindsFilter(method="filter_file_type")
    orientation = OrientationFilter(method="filter_orientation")

    class Meta:
        model = Photo
        fields = ["date_from", "date_to", "file_type", "orientation"]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The file classes counted (after ``is_valid()``)."""
        return self.form.cleaned_data.get("file_type") or ("jpg", "raw")

    def filter_file_type(self, queryset: QuerySet, _name: str, _value: tuple[str, ...]) -> QuerySet:
        # The classes change what is counted, not which photos qualify: the selector reads them.
        return queryset

    def filter_orientation(self, queryset: QuerySet, _name: str, value: Q | None) -> QuerySet:
        return queryset if value is None else queryset.filter(value)

    def first_error(self) -> str:
        """The first parameter's error, as the API's ``detail`` shows it."""
        for messages in self.errors.values():
            return str(messages[0])
        return ""
