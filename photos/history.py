"""A photo's history as a person reads it: who changed what, when (issue 22, item 3).

The outbox's events of a photo carry what changed (``{"keep_jpg": false}``, ``{"changes":
{...}}``, ``tags_added``) but rarely the value before. Read oldest first, the history keeps
the last value it saw of each field, so a change reads "keep JPG: on → off"; a flag seen for the
first time in a change flipped (events carry only what changed); another field seen for the
first time reads "camera: X". Tags read as "+wedding −portrait".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import formats, timezone

from jobs.definitions import payload_title
from jobs.events import EventType

# What a field is called on the page; fields not listed read as their name in words.
FIELD_LABELS = {
    "keep_jpg": "keep JPG",
    "keep_raw": "keep RAW",
    "jpg_available": "JPG file",
    "raw_available": "RAW file",
    "other_available": "other file",
    "thumbnail_status": "thumbnail",
    "preview_status": "preview",
    "taken_at": "taken",
    "ext": "main file type",
    "rating": "rating",
    "color_label": "colour label",
    "label": "label",
    "trashed": "moved to the trash",
    "files": "files",
}
# Payload keys that say which photo or where the event came from, not what changed.
_NOT_CHANGES = {"photo_id", "project_id", "basename", "source", "created", "tags", "changes"}
_SOURCES = {
    "upload": "Added by upload",
    "derivatives": "Thumbnail and preview",
    "availability": "Files checked",
    "reconcile": "Files checked",
    "commit": "Changes committed",
}


@dataclass
class HistoryRow:
    when: datetime
    who: str
    what: str
    changes: list[str] = field(default_factory=list)
    job_id: int | None = None


def _label(key: str) -> str:
    return FIELD_LABELS.get(key, key.replace("_", " "))


def _value(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, "DATETIME_FORMAT")
    return str(value)


def _flatten(payload: dict[str, Any]) -> dict[str, Any]:
    """The changed fields of one event: its ``changes`` and its own keys, ``metadata`` spread."""
    fields: dict[str, Any] = {}
    for source in (payload.get("changes") or {}, payload):
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if key in _NOT_CHANGES or key.startswith("tags_"):
                continue
            if isinstance(value, dict):  # metadata: lens, ISO, …
                fields.update({k: v for k, v in value.items() if v not in (None, "")})
            else:
                fields[key] = value
    return fields


def _what(event: Any, payload: dict[str, Any]) -> str:
    if event.type == EventType.ITEM_REMOVED:
        return "Removed (no file left)"
    if event.type == EventType.ITEM_MOVED:
        return "Moved to another project"
    if event.type != EventType.ITEM:
        return event.type.replace("_", " ").capitalize()
    if payload.get("created"):
        return _SOURCES.get(payload.get("source", ""), "Added")
    if payload.get("tags_added") or payload.get("tags_removed"):
        return "Tagged"
    source = payload.get("source")
    if source:
        return _SOURCES.get(source, str(source).replace("_", " ").capitalize())
    return "Changed"


def _who(event: Any) -> str:
    if event.actor_id is not None and event.actor is not None:
        return event.actor.get_username()
    if event.job_id is not None and event.job is not None:
        return payload_title(event.job.payload) or event.job.type.replace("_", " ")
    return "system"


def photo_history(events: Iterable[Any]) -> list[HistoryRow]:
    """Rows newest first from a photo's events (any order; ``actor`` and ``job`` selected)."""
    seen: dict[str, Any] = {}
    rows: list[HistoryRow] = []
    for event in sorted(events, key=lambda e: e.pk):
        payload = event.payload if isinstance(event.payload, dict) else {}
        changes: list[str] = []
        added = [f"+{tag}" for tag in payload.get("tags_added") or []]
        removed = [f"−{tag}" for tag in payload.get("tags_removed") or []]
        if added or removed:
            changes.append("tags: " + " ".join(added + removed))
        for key, value in _flatten(payload).items():
            if key in seen and seen[key] == value:
                continue
            label = _label(key)
            if key in seen:
                changes.append(f"{label}: {_value(seen[key])} → {_value(value)}")
            elif isinstance(value, bool) and not payload.get("created"):
                # Events carry only what changed (photos.services): a flag that changed flipped.
                changes.append(f"{label}: {_value(not value)} → {_value(value)}")
            else:
                changes.append(f"{label}: {_value(value)}")
            seen[key] = value
        rows.append(
            HistoryRow(
                when=event.created_at,
                who=_who(event),
                what=_what(event, payload),
                changes=changes,
                job_id=event.job_id,
            )
        )
    rows.reverse()
    return rows
