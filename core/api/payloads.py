"""Request-body shapes shared by the API's apps: bulk bodies and item lists.

The limit check runs before any per-item validation so that an oversized body is refused with
SPEC §9's exact text, whatever else is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.errors import PayloadTooLarge
from core.limits import MAX_DB_ID, MAX_ITEMS_PER_JOB


def body_object(data: Any) -> Mapping[str, Any]:
    """The request body as a mapping; a JSON array, string or number is a 400."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            {"detail": f"Expected a JSON object as the request body, got {type(data).__name__}."}
        )
    return data


def items_limit(items: Any) -> None:
    """Refuse more than ``MAX_ITEMS_PER_JOB`` entries with SPEC §9's message."""
    if isinstance(items, list | tuple) and len(items) > MAX_ITEMS_PER_JOB:
        raise PayloadTooLarge(len(items))


def body_validate(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    limit_fields: tuple[str, ...] = ("items",),
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the size limit, then validate with ``serializer_class``; returns validated data."""
    data = body_object(data)
    for field in limit_fields:
        items_limit(data.get(field))
    serializer = serializer_class(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1},
            {
                "type": "object",
                "properties": {"photo_id": {"type": "integer", "minimum": 1}},
                "required": ["photo_id"],
            },
        ]
    }
)
class PhotoIdItemField(serializers.Field):
    """An item naming one photo: ``{"photo_id": 12}`` or the bare id ``12``; returns the id."""

    default_error_messages = {
        # Doubled braces: DRF formats error messages with str.format.
        "invalid": 'Each item must be a photo id or an object {{"photo_id": <id>}}.',
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, Mapping):
            data = data.get("photo_id")
        if isinstance(data, bool) or not isinstance(data, int) or not 1 <= data <= MAX_DB_ID:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# The engine's task endpoints name their items the same way (job items name photos through the
# item source the photos app registers).
ItemIdField = PhotoIdItemField
