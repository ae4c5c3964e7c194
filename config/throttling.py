"""Per-user throttles of the API (SPEC §9): commit/revert, project writes, maintenance, bulk.

Counts live in the default cache, which every web process shares (the database, or Redis with
the Redis broker: ``CACHES`` in settings). A task started through the generic endpoints
(``POST /api/tasks/``, ``POST /api/projects/{id}/jobs/``) counts against the throttle of its
type (``task_throttle_check``), so those endpoints are no way around the dedicated ones.

Rates live in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and may carry a multiplier on the
period (``"10/5min"``, ``"5/10min"``, ``"120/min"``, ``"2/30s"``), which DRF's own parser does
not understand. They are read on every request, so a changed setting (tests use the
``settings`` fixture) applies at once. A rate of ``None`` switches that throttle off.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_PERIOD = re.compile(r"^\s*(\d*)\s*([a-z]+?)s?\s*$")


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """``"10/5min"`` → ``(10, 300)``; ``None`` → ``(None, None)`` (no limit)."""
    if rate is None:
        return None, None
    try:
        num, period = rate.split("/")
        count = int(num)
    except ValueError:
        raise ImproperlyConfigured(f"Invalid throttle rate {rate!r}; use e.g. '10/5min'.")
    match = _PERIOD.match(period.lower())
    unit = _UNITS.get(match.group(2)) if match else None
    if not match or not unit:
        raise ImproperlyConfigured(f"Invalid throttle period in {rate!r}; use s, min, h or day.")
    multiplier = int(match.group(1)) if match.group(1) else 1
    if count < 0 or multiplier <= 0:
        raise ImproperlyConfigured(f"Invalid throttle rate {rate!r}.")
    return count, multiplier * unit


# How long a throttle check may hold its key's lock; a holder that dies frees it this late.
LOCK_SECONDS = 2


class UserScopeThrottle(SimpleRateThrottle):
    """Count requests per user (per client address for the anonymous) in one scope."""

    scope: str = ""

    def allow_request(self, request: Any, view: Any) -> bool:
        """DRF's sliding-window check, its read-modify-write of the key made exclusive.

        DRF reads the key's history, adds this request and writes it back: two web processes
        (or two threads of one) answering the same user at once read the same history and
        both pass, so a burst got past the rate (9 of 12 at a rate of 6 over two processes,
        docs/BENCHMARKS.md). A short lock in the shared cache (``cache.add`` sets a key only if
        it is absent, atomically in Redis and in the database cache) makes the checks of one
        user and scope take turns; it expires by itself if its holder dies.
        """
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        lock = f"{key}:lock"
        deadline = time.monotonic() + LOCK_SECONDS + 1
        # An expired lock is taken over by ``add``, so the deadline is only a safety net.
        while not self.cache.add(lock, 1, LOCK_SECONDS) and time.monotonic() < deadline:
            time.sleep(0.005)
        try:
            return super().allow_request(request, view)
        finally:
            self.cache.delete(lock)

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        try:
            # The stubs type rates as numbers; DRF's are strings such as "100/day".
            return rates[self.scope]  # type: ignore[return-value]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope '{self.scope}'.")

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate)

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class CommitThrottle(UserScopeThrottle):
    """Commit and revert, per project or across projects."""

    scope = "commit"


class ProjectWriteThrottle(UserScopeThrottle):
    """Project rename and delete."""

    scope = "project_write"


class MaintenanceThrottle(UserScopeThrottle):
    """Maintenance and discovery triggers."""

    scope = "maintenance"


class BulkThrottle(UserScopeThrottle):
    """Bulk photo endpoints (keep, tags, process, move) and uploads."""

    scope = "bulk"


THROTTLES_BY_SCOPE: dict[str, type[UserScopeThrottle]] = {
    throttle.scope: throttle
    for throttle in (CommitThrottle, ProjectWriteThrottle, MaintenanceThrottle, BulkThrottle)
}

# The throttle scope of each task type started through the generic task endpoints; any other
# type (upload post-processing, derivatives, moves, plugins' types) counts as bulk work.
TASK_THROTTLE_SCOPES = {
    "change_commit": "commit",
    "change_commit_all": "commit",
    "project_delete": "project_write",
    "maintenance": "maintenance",
    "maintenance_global": "maintenance",
    "folder_discovery": "maintenance",
    "project_scavenge": "maintenance",
    "project_scavenge_global": "maintenance",
}
DEFAULT_TASK_THROTTLE_SCOPE = "bulk"


def task_throttle_scope(task_type: str) -> str:
    return TASK_THROTTLE_SCOPES.get(task_type, DEFAULT_TASK_THROTTLE_SCOPE)


def task_throttle_check(*, request: Any, view: Any, task_type: str) -> None:
    """Count one start of ``task_type`` against its scope's throttle; 429 past the rate."""
    throttle = THROTTLES_BY_SCOPE[task_throttle_scope(task_type)]()
    if not throttle.allow_request(request, view):
        raise Throttled(wait=throttle.wait())


class ActionThrottleMixin:
    """Throttle only the viewset actions named in ``action_throttles``.

    ``action_throttles = {"destroy": [ProjectWriteThrottle], ...}``; other actions get the
    view's ordinary ``throttle_classes``.
    """

    action_throttles: dict[str, list[type[UserScopeThrottle]]] = {}

    def get_throttles(self) -> list[Any]:
        classes = self.action_throttles.get(getattr(self, "action", None) or "")
        if classes is None:
            return super().get_throttles()  # type: ignore[misc]
        return [throttle() for throttle in classes]
