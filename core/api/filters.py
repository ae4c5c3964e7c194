"""Filter fields shared by the API's list endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_filters.fields import IsoDateTimeRangeField

from core.limits import MAX_DB_ID


class IdFilter(django_filters.NumberFilter):
    """A row id: an integer within the database's range (else 400, never a driver error)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_ID)
        super().__init__(*args, **kwargs)


# A bound's year stays below 9999 so "the whole day" (+1 day) and a time-zone shift stay
# representable; the databases' drivers raise (a 500) on anything beyond.
WHEN_RANGE_TEXT = "between 0001-01-01 and 9998-12-31"


def when_in_range(value: datetime | date, *, name: str) -> datetime | date:
    """``value`` if the database can compare with it (in UTC), else a ``ValidationError``."""
    error = ValidationError(f"{name} must be a date or date-time {WHEN_RANGE_TEXT}.")
    if value.year > 9998:
        raise error
    if isinstance(value, datetime):
        try:
            aware = value if timezone.is_aware(value) else timezone.make_aware(value)
            aware.astimezone(UTC)
        except (OverflowError, ValueError):
            raise error from None
    return value


def when_param_parse(value: Any, *, name: str) -> date | datetime | None:
    """A query parameter holding an ISO date or date-time: ``None`` when empty, else checked."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        parsed = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name} must be an ISO date or date-time.") from None
    return when_in_range(parsed, name=name)


class BoundedIsoDateTimeRangeField(IsoDateTimeRangeField):
    """``*_after`` / ``*_before`` ISO date-times within the range the database can hold."""

    def compress(self, data_list: list[Any]) -> Any:
        for value, suffix in zip(data_list or [], ("after", "before"), strict=False):
            if value is not None:
                when_in_range(value, name=f"The '{suffix}' bound")
        return super().compress(data_list)


class BoundedIsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = BoundedIsoDateTimeRangeField
