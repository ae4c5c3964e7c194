"""Error texts without server paths, and without tracebacks for tenants (SPEC §14: errors
never show server paths; tracebacks only to superusers).

Job and item errors are shown to tenants through the API, the admin and the event stream. An
``OSError`` or a traceback names absolute paths (``/srv/…/files/acme/Iceland/IMG_1.jpg``,
``/srv/app/jobs/runtime.py``) that say where the server keeps its files and code.
``error_text_clean`` rewrites them before an error is stored, and the API runs it again on
output for rows stored earlier:

- a path inside a project folder becomes relative to it (``IMG_1.jpg``, ``.trash/IMG_1.jpg``);
- another path under the files root becomes relative to it (``acme/Iceland``); the app that
  keeps the files registers the root (``files_root_register``);
- a source file in a traceback keeps its name under the code base or site-packages only.

A job that raised keeps its error with a short traceback (``runtime``), for operators. Everyone
else reads ``error_text_summary``: the text before the traceback (``RuntimeError: boom``). The
API and the admin show the whole text to superusers only; events, which every member of the
tenant reads, carry the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from django.conf import settings

# Characters that end a path in a message: quotes, brackets, a line end. Folder names may hold
# spaces, so a path runs until one of these (or the next slash, for a component).
_COMPONENT = r"[^/'\"\n\r\]\)>]+"
_SOURCE_FILE = re.compile(r'File "([^"\n]+)"')


@lru_cache(maxsize=8)
def _root_patterns(root: str) -> tuple[re.Pattern[str], ...]:
    roots = sorted({root, str(Path(root).resolve())}, key=len, reverse=True)
    alternatives = "|".join(re.escape(r.rstrip("/")) for r in roots)
    return (
        # <root>/<tenant>/<folder>/rest → rest
        re.compile(rf"(?:{alternatives})/[^/\s'\"]+/{_COMPONENT}/"),
        # <root>/rest → rest (a tenant or project folder itself, relative to the root)
        re.compile(rf"(?:{alternatives})/"),
        # <root> alone
        re.compile(rf"(?:{alternatives})(?![\w/])"),
    )


def _source_file(match: re.Match[str]) -> str:
    path = match.group(1)
    if not path.startswith("/"):
        return match.group(0)
    base = str(settings.BASE_DIR).rstrip("/") + "/"
    if path.startswith(base):
        return f'File "{path[len(base) :]}"'
    if "site-packages/" in path:
        return f'File "{path.rsplit("site-packages/", 1)[1]}"'
    return f'File "{Path(path).name}"'


_FILES_ROOT: list[Callable[[], object]] = []


def files_root_register(fn: Callable[[], object]) -> Callable[[], object]:
    """Set where the files of job items live (a callable: settings change in tests); the last
    registration wins."""
    _FILES_ROOT[:] = [fn]
    return fn


def error_text_clean(text: str) -> str:
    """``text`` with paths under the files root made relative and source paths shortened."""
    if not text or "/" not in text:
        return text
    if _FILES_ROOT:
        first, rest, alone = _root_patterns(str(_FILES_ROOT[0]()))
        text = first.sub("", text)
        text = rest.sub("", text)
        text = alone.sub(".", text)
    return _SOURCE_FILE.sub(_source_file, text)


TRACEBACK_START = "Traceback (most recent call last):"


def error_text_summary(text: str) -> str:
    """``text`` without its Python traceback: the part before it, or else the exception line
    that ends it."""
    if not text or TRACEBACK_START not in text:
        return text
    head, _, trace = text.partition(TRACEBACK_START)
    head = head.rstrip()
    if head:
        return head
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    return lines[-1] if lines else ""
