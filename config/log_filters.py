"""Logging filters (wired in ``settings.LOGGING``).

``RepeatedMessageFilter`` keeps a logger that writes a line per request or per failed attempt
from flooding the log when something goes wrong at scale: 320 refused or failing event streams
once wrote 228 MB in 30 s. A message is its logger, level and template (``record.msg`` before
the arguments are filled in), so "Event stream of user 3 refused" and "… of user 4 refused" are
one message. Each passes ``limit`` times per window of ``seconds``; the rest of the window is
held back, and the first line let through afterwards says how many were. DEBUG lines always
pass: whoever turned them on wants each (``bench/event_streams.py`` counts them).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Distinct messages tracked at once; past it, finished windows are forgotten first. Bounds the
# memory of a logger that formats its text itself (every line its own template).
MAX_MESSAGES = 1024


@dataclass
class _Window:
    started: float
    passed: int = 0
    held: int = 0


class RepeatedMessageFilter(logging.Filter):
    """Let each message through at most ``limit`` times per ``seconds``; say what was held."""

    def __init__(
        self, limit: int = 20, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.clock = clock
        self.limit = max(int(limit), 1)
        self.seconds = max(float(seconds), 0.001)
        self._windows: dict[tuple[str, int, str], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:  # asked for explicitly (benchmarks count them)
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            held_before = 0
            if window is None or now - window.started >= self.seconds:
                held_before = window.held if window is not None else 0
                if window is None and len(self._windows) >= MAX_MESSAGES:
                    self._forget(now)
                window = self._windows[key] = _Window(started=now)
            if window.passed >= self.limit:
                window.held += 1
                return False
            window.passed += 1
            last = window.passed == self.limit
        if held_before:
            _annotate(
                record,
                f"[{held_before} more like this were held back in the previous {self.seconds:g} s]",
            )
        elif last:
            _annotate(
                record,
                f"[{self.limit} times in {now - window.started:.1f} s: more like this are "
                f"held back for up to {self.seconds:g} s]",
            )
        return True

    def _forget(self, now: float) -> None:
        """Drop finished windows (their held counts are lost), or the older half if none is."""
        finished = [k for k, w in self._windows.items() if now - w.started >= self.seconds]
        for k in finished:
            del self._windows[k]
        if len(self._windows) >= MAX_MESSAGES:
            oldest = sorted(self._windows, key=lambda k: self._windows[k].started)
            for k in oldest[: len(oldest) // 2]:
                del self._windows[k]


def _annotate(record: logging.LogRecord, note: str) -> None:
    # Format the message now: the note must not pass through %-formatting with the arguments.
    try:
        message = record.getMessage()
    except Exception:  # Bad arguments: leave the record for the handler to report as usual.
        return
    record.msg = f"{message} {note}"
    record.args = None


# A share link's token in a path (``/s/<token>/…``, sharing/gallery/): 43 URL-safe characters.
SHARE_TOKEN = re.compile(r"(/s/)([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{14,}")


class ShareTokenFilter(logging.Filter):
    """Cut share links' tokens out of log lines (Django's "Not Found: /s/<token>/…", a CSRF
    refusal): a token opens a client's gallery, and a log is read by more people than the
    studio. The first six characters stay (the admin's ``token_hint``), enough to tell links
    apart. On the console handler, so every logger's records pass it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SHARE_TOKEN.sub(r"\1\2…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
