"""HTML bits shared by the admins: status badges, progress bars, JSON, links, durations.

HTML is built with ``format_html``, so values from the database are escaped.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from django.utils.html import format_html

# Statuses with a colour of their own (static/admin-site/admin.css: .pl-status-<name>); any other
# shows grey. Colours are classes, never style attributes: the Content-Security-Policy allows
# no inline style.
STATUS_CLASSES = frozenset(
    {"queued", "running", "completed", "failed", "canceled", "pending", "done", "skipped"}
)


def status_badge(status: str) -> str:
    colour = f" pl-status-{status}" if status in STATUS_CLASSES else ""
    return format_html('<span class="pl-badge{}">{}</span>', colour, status)


def progress_bar(done: int, total: int) -> str:
    """An HTML progress bar; a job without a known total shows just its count."""
    if not total:
        return format_html('<span class="pl-progress-text">{}</span>', done or "–")
    percent = min(int(done * 100 / total), 100)
    return format_html(
        '<progress class="pl-progress" title="{} of {}" max="100" value="{}">{}%</progress>'
        '<span class="pl-progress-text">{}/{} ({}%)</span>',
        done,
        total,
        percent,
        percent,
        done,
        total,
        percent,
    )


def pretty_json(value: Any) -> str:
    return format_html(
        '<pre class="pl-pre">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str)
    )


def with_payload_text(events: Any) -> list[Any]:
    """Events with ``payload_text`` (compact JSON) set, for the history tables of a page."""
    listed = list(events)
    for event in listed:
        event.payload_text = json.dumps(event.payload, sort_keys=True, default=str)
    return listed


def seconds_human(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def admin_link(viewname: str, pk: Any, text: str) -> str:
    return format_html('<a href="{}">{}</a>', reverse(viewname, args=[pk]), text)
