"""Project folder naming (SPEC §3).

``folder_name_sanitize`` turns a display name into a folder name, ``folder_name_is_canonical``
says whether a string is already one, ``folder_name_unique`` picks the first free name with a
`` (2)``, `` (3)`` … suffix.
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
_SUFFIX = re.compile(r"^(?P<stem>.*) \((?P<n>[2-9]|[1-9][0-9]+)\)$")


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


def folder_name_is_canonical(folder: str) -> bool:
    """True when ``folder`` is a valid folder name exactly as sanitising would write it."""
    if not folder or len(folder) > FOLDER_MAX_LENGTH:
        return False
    if folder in {".", ".."} or folder.startswith("."):
        return False
    return folder_name_sanitize(folder) == folder


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


def folder_name_split_suffix(folder: str) -> tuple[str, int]:
    """``"Shoot (3)"`` → ``("Shoot", 3)``; a folder with no suffix → ``(folder, 1)``."""
    match = _SUFFIX.match(folder)
    if match:
        return match["stem"], int(match["n"])
    return folder, 1
