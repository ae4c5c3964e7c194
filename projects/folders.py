"""Project folder naming (SPEC §3).

``folder_name_sanitize`` turns a display name into a folder name, ``folder_name_unique`` picks
the first free name with a `` (2)``, `` (3)`` … suffix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

FOLDER_MAX_LENGTH = 240
UNTITLED = "Untitled Project"

_TO_DASH = str.maketrans({"/": "-", "\\": "-", ":": "-"})
_TO_UNDERSCORE = str.maketrans({"*": "_", "?": "_", "<": "_", ">": "_", "|": "_"})
_WHITESPACE_RUN = re.compile(r"\s+")
_DASH_RUN = re.compile(r"-{2,}")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf"} and char not in "\t\n\r"


def folder_name_sanitize(name: str) -> str:
    """The folder name for a display name: never empty, never a path, at most 240 chars."""
    text = "".join(ch for ch in (name or "") if not _is_control(ch))
    text = text.translate(_TO_DASH).translate(_TO_UNDERSCORE).replace('"', "'")
    text = _WHITESPACE_RUN.sub(" ", text)
    text = _DASH_RUN.sub("-", text)
    # A leading dot would hide the folder (and "." or ".." name a parent): drop leading dots.
    text = text.strip().lstrip(".").lstrip()
    if not text:
        return UNTITLED
    return text[:FOLDER_MAX_LENGTH].rstrip()


def _with_suffix(base: str, n: int) -> str:
    suffix = f" ({n})"
    return base[: FOLDER_MAX_LENGTH - len(suffix)].rstrip() + suffix


def folder_name_unique(
    name: str,
    *,
    taken: Iterable[str] | Callable[[str], bool],
    own_folder: str | None = None,
) -> str:
    """The first free folder for ``name``: the sanitised name, else `` (2)``, `` (3)`` …

    ``taken`` is a collection of folder names in use or a predicate. ``own_folder`` (the
    project's current folder) counts as free, so re-deriving an aligned project's folder never
    yields a suffix. Comparison is case-insensitive, so two projects never collide on a
    case-insensitive filesystem.
    """
    if callable(taken):
        is_taken = taken
    else:
        taken_lower = {t.lower() for t in taken}
        is_taken = lambda candidate: candidate.lower() in taken_lower  # noqa: E731

    own = own_folder.lower() if own_folder else None
    base = folder_name_sanitize(name)
    candidate, n = base, 1
    while candidate.lower() != own and is_taken(candidate):
        n += 1
        candidate = _with_suffix(base, n)
    return candidate
