"""Per-user throttles of the use cases (SPEC §9, §14): commit/revert, project writes,
maintenance, bulk.

A throttle belongs to the use case, not to the entry point: ``throttle_check(user=, scope=)``
counts one use and raises ``RateLimited`` (with the seconds to wait) past the rate. The API's
DRF throttle classes below, the admin's actions and any command started for a user all call it
with the same key per user and scope, so ten commits through the API and the admin together
use up the same budget of ``10/5min``.

Counts live in the default cache, which every web process shares (the database, or Redis with
the Redis broker: ``CACHES`` in settings). A task started through the generic endpoints
(``POST /api/tasks/``, ``POST /api/projects/{id}/jobs/``) counts against the throttle of its
type (``task_throttle_check``), so those endpoints are no way around the dedicated ones.

Rates live in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and may carry a multiplier on the
period (``"10/5min"``, ``"5/10min"``, ``"120/min"``, ``"2/30s"``), which DRF's own parser does
not understand. They are read on every check, so a changed setting (tests use the
``settings`` fixture) applies at once. A rate of ``None`` switches that throttle off.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
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
# DRF's key format, so counts made before this module counted by itself stay valid.
CACHE_KEY_FORMAT = "throttle_%(scope)s_%(ident)s"
SCOPE_WORDS = {
    "commit": "commits and reverts",
    "project_write": "project renames and deletes",
    "maintenance": "maintenance and discovery runs",
    "bulk": "bulk photo changes and uploads",
}


class RateLimited(Exception):
    """Too many uses of one throttled use case (``scope``) by one user; ``wait`` seconds left.

    A domain refusal, not an HTTP reply: the API answers 429 with ``Retry-After``, the admin
    shows the text as a message.
    """

    def __init__(self, *, scope: str, wait: int) -> None:
        what = SCOPE_WORDS.get(scope, scope)
        super().__init__(f"Too many {what}; try again in {wait} s.")
        self.scope = scope
        self.wait = wait


def scope_rate(scope: str) -> tuple[int | None, int | None]:
    """``(count, seconds)`` of ``scope``'s rate from settings; ``(None, None)`` when off."""
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    try:
        rate = rates[scope]
    except KeyError:
        raise ImproperlyConfigured(f"No throttle rate set for scope '{scope}'.")
    # The stubs type rates as numbers; they are strings such as "10/5min".
    return parse_rate(rate)  # type: ignore[arg-type]


def throttle_key(*, scope: str, ident: str) -> str:
    return CACHE_KEY_FORMAT % {"scope": scope, "ident": ident}


def user_ident(user: Any) -> str:
    return f"user-{user.pk}"


@contextmanager
def _key_lock(key: str) -> Iterator[None]:
    """Make the read-modify-write of one key exclusive across threads and processes.

    Two web processes (or two threads of one) counting the same user at once read the same
    history and both pass, so a burst got past the rate (9 of 12 at a rate of 6 over two
    processes, docs/BENCHMARKS.md). A short lock in the shared cache (``cache.add`` sets a key
    only if it is absent, atomically in Redis and in the database cache) makes the checks of
    one user and scope take turns; it expires by itself if its holder dies.
    """
    lock = f"{key}:lock"
    deadline = time.monotonic() + LOCK_SECONDS + 1
    # An expired lock is taken over by ``add``, so the deadline is only a safety net.
    while not cache.add(lock, 1, LOCK_SECONDS) and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        yield
    finally:
        cache.delete(lock)


def throttle_check(*, scope: str, user: Any = None, ident: str | None = None) -> None:
    """Count one use of ``scope`` by ``user`` (or the client ``ident``); ``RateLimited`` past
    the rate, and then nothing is counted.

    A sliding window (DRF's): the times of the uses within the period, newest first, in the
    shared cache under ``throttle_<scope>_user-<id>``.
    """
    count, duration = scope_rate(scope)
    if count is None or duration is None:
        return
    if ident is None:
        ident = user_ident(user)
    key = throttle_key(scope=scope, ident=ident)
    with _key_lock(key):
        now = time.time()
        history = [t for t in cache.get(key, []) if t > now - duration]
        if len(history) >= count:
            # The oldest use inside the window leaves it first.
            wait = max(1, math.ceil(duration - (now - history[-1])))
            raise RateLimited(scope=scope, wait=wait)
        history.insert(0, now)
        cache.set(key, history, duration)


class UserScopeThrottle(SimpleRateThrottle):
    """The API's face of ``throttle_check``: per user (per client address for the anonymous)."""

    scope: str = ""

    def __init__(self) -> None:
        # DRF reads the rate here; ``throttle_check`` reads it on every check instead.
        self._wait: float | None = None

    def request_ident(self, request: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user_ident(user)
        return f"addr-{self.get_ident(request)}"

    def get_cache_key(self, request: Any, _view: Any) -> str:
        """The key ``throttle_check`` counts this request's user under (benchmarks read it)."""
        return throttle_key(scope=self.scope, ident=self.request_ident(request))

    def allow_request(self, request: Any, _view: Any) -> bool:
        try:
            throttle_check(scope=self.scope, ident=self.request_ident(request))
        except RateLimited as exc:
            self._wait = exc.wait
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


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


class ExportThrottle(UserScopeThrottle):
    """Exports: each one reads every original of its photos and writes a ZIP."""

    scope = "export"


THROTTLES_BY_SCOPE: dict[str, type[UserScopeThrottle]] = {
    throttle.scope: throttle
    for throttle in (
        CommitThrottle,
        ProjectWriteThrottle,
        MaintenanceThrottle,
        BulkThrottle,
        ExportThrottle,
    )
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
    "export": "export",
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
