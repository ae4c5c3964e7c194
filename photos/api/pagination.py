"""Keyset (cursor) pagination of photo lists in any supported order, missing values last
(SPEC §9: by ``taken_at``, then ``basename``, missing dates last, unless ``ordering`` says
otherwise).

DRF's ``CursorPagination`` keys on one field and cannot place NULLs, so a list of photos
without dates would page wrongly. Here the cursor holds the last row's value of every
ordering field plus its id (always the final tie-break, so the order is total), and the next
page is "rows after that tuple" (``keyset_segments``): at most two indexed range queries a
page, however deep, and a photo inserted or changed meanwhile never makes another one appear
twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from photos.models import Photo

# Fields a photo list may be ordered by (``?ordering=-rating,taken_at``).
ORDERING_FIELDS = (
    "taken_at",
    "basename",
    "rating",
    "sharpness",
    "label",
    "camera",
    "lens",
    "iso",
    "focal_length",
    "aperture",
    "shutter",
    "width",
    "height",
    "created_at",
    "updated_at",
    "id",
)
PHOTO_ORDERING_DEFAULT = ("taken_at", "basename")
MAX_ORDERING_FIELDS = 4

Key = tuple[str, bool]  # (field, descending)


def ordering_parse(value: str | None) -> list[Key]:
    """``"-rating,taken_at"`` → ``[("rating", True), ("taken_at", False), ("id", False)]``.

    Unknown fields are a 400 (a silently ignored typo would show a list in an order nobody
    asked for). ``id`` always closes the key.
    """
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    if not names:
        names = list(PHOTO_ORDERING_DEFAULT)
    if len(names) > MAX_ORDERING_FIELDS:
        raise ApiValidationError({"ordering": [f"At most {MAX_ORDERING_FIELDS} fields."]})
    keys: list[Key] = []
    for name in names:
        field = name.removeprefix("-")
        if field not in ORDERING_FIELDS:
            allowed = ", ".join(ORDERING_FIELDS)
            raise ApiValidationError({"ordering": [f"Unknown field {field!r}; one of {allowed}."]})
        if field not in (k for k, _ in keys):
            keys.append((field, name.startswith("-")))
        if field == "id":
            break
    if keys[-1][0] != "id":
        keys.append(("id", False))
    return keys


def order_expressions(keys: list[Key], *, backwards: bool = False) -> list[OrderBy]:
    """ORDER BY of ``keys``, missing values last (first when walking backwards)."""
    nulls = {"nulls_first": True} if backwards else {"nulls_last": True}
    return [
        F(field).desc(**nulls) if desc != backwards else F(field).asc(**nulls)
        for field, desc in keys
    ]


def _beyond(field: str, desc: bool, value: Any, *, backwards: bool) -> Q:
    """Rows whose ``field`` comes strictly after ``value`` in the walking direction."""
    if not backwards:
        if value is None:
            return Q(pk__in=[])  # nothing comes after a missing value
        return Q(**{f"{field}__{'lt' if desc else 'gt'}": value}) | Q(**{f"{field}__isnull": True})
    if value is None:
        return Q(**{f"{field}__isnull": False})
    return Q(**{f"{field}__{'gt' if desc else 'lt'}": value})


def _equal(field: str, value: Any) -> Q:
    return Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})


def keyset_after(keys: list[Key], values: list[Any], *, backwards: bool = False) -> Q:
    """Rows strictly after the position ``values`` in the order of ``keys``."""
    condition = Q(pk__in=[])
    equal_so_far = Q()
    for (field, desc), value in zip(keys, values, strict=True):
        condition |= equal_so_far & _beyond(field, desc, value, backwards=backwards)
        equal_so_far &= _equal(field, value)
    return condition


def keyset_segments(keys: list[Key], values: list[Any], *, backwards: bool = False) -> list[Q]:
    """``keyset_after`` split by whether the first ordering field is missing, each part with
    a plain range on that field as a top-level condition.

    ``keyset_after`` alone is a chain of ORs that PostgreSQL can only filter row by row,
    reading every row before the cursor (measured: 40,000 rows read for a page at 45,000).
    The range conjunct (``taken_at >= t``, or ``taken_at IS NULL``) makes each part an index
    range scan in the order of the ``(taken_at, basename, id)`` indexes; the part of the
    other null state (missing dates, after the dated ones) follows only when the page is not
    full yet. At most two queries a page.
    """
    field, desc = keys[0]
    first = values[0]
    after = keyset_after(keys, values, backwards=backwards)
    if first is None:
        missing = after & Q(**{f"{field}__isnull": True})
        second, second_desc = keys[1]
        if values[1] is not None and not getattr(Photo._meta.get_field(second), "null", True):
            # Among the missing values the next key orders: range on it too (base names).
            lookup = "lte" if second_desc != backwards else "gte"
            missing &= Q(**{f"{second}__{lookup}": values[1]})
        segments = [missing]
        if backwards:  # before the missing values come all the present ones
            segments.append(Q(**{f"{field}__isnull": False}))
        return segments
    # Walking forward from ``first`` means >= in ascending order, <= in descending order.
    lookup = "lte" if desc != backwards else "gte"
    segments = [after & Q(**{f"{field}__{lookup}": first})]
    if not backwards:  # the missing values come last
        segments.append(Q(**{f"{field}__isnull": True}))
    return segments


def _field_value(model: type[Model], field: str, raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return model._meta.get_field(field).to_python(raw)  # type: ignore[union-attr]
    except (FieldDoesNotExist, ValidationError, AttributeError):
        raise NotFound("Invalid cursor.") from None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class PhotoCursorPagination(CursorPagination):
    """Cursor pagination over ``ordering_parse(?ordering=)``; replies as DRF's
    (``next``, ``previous``, ``results``) with opaque cursors."""

    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = PHOTO_ORDERING_DEFAULT
    model: type[Model] = Photo

    def paginate_queryset(
        self,
        queryset: QuerySet,
        request: Request,
        view: Any = None,  # noqa: ARG002 (DRF's paginate_queryset: views pass view= by keyword)
    ) -> list[Any] | None:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size or 100
        self.page_size = size
        self.keys = ordering_parse(request.query_params.get("ordering"))
        position = self._cursor_decode(request.query_params.get(self.cursor_query_param))
        backwards = bool(position and position["b"])
        order = order_expressions(self.keys, backwards=backwards)
        if position is None:
            rows = list(queryset.order_by(*order)[: size + 1])
        else:
            values = [
                _field_value(self.model, field, raw)
                for (field, _), raw in zip(self.keys, position["v"], strict=True)
            ]
            rows = []
            for segment in keyset_segments(self.keys, values, backwards=backwards):
                rows += list(queryset.filter(segment).order_by(*order)[: size + 1 - len(rows)])
                if len(rows) > size:
                    break
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        self.page = rows
        # Walking forward, "previous" exists when we came from somewhere; backwards, "next"
        # always does (the page we came from).
        self.has_next = more if not backwards else True
        self.has_previous = position is not None if not backwards else more
        return rows

    def _cursor_decode(self, encoded: str | None) -> dict[str, Any] | None:
        if not encoded:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8"))
        except (ValueError, UnicodeError, binascii.Error):
            raise NotFound("Invalid cursor.") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("v"), list)
            or len(data["v"]) != len(self.keys)
            or [k for k, _ in self.keys] != data.get("k")
        ):
            raise NotFound("Invalid cursor.")
        data["b"] = bool(data.get("b"))
        return data

    def _link(self, row: Any, *, backwards: bool) -> str:
        payload = {
            "k": [k for k, _ in self.keys],
            "v": [_jsonable(getattr(row, field)) for field, _ in self.keys],
            "b": backwards,
        }
        token = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        return replace_query_param(
            self.base_url or "", self.cursor_query_param, token.decode("ascii")
        )

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return self._link(self.page[-1], backwards=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.page:
            return None
        return self._link(self.page[0], backwards=True)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": (
                    "Comma-separated fields, '-' for descending (default taken_at,basename; "
                    f"missing values last; id breaks ties): {', '.join(ORDERING_FIELDS)}"
                ),
                "schema": {"type": "string"},
            },
        ]
