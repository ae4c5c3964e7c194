"""Filter fields shared by the API's list endpoints."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from config.api_payloads import MAX_DB_ID


class IdFilter(django_filters.NumberFilter):
    """A row id: an integer within the database's range (else 400, never a driver error)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_ID)
        super().__init__(*args, **kwargs)
