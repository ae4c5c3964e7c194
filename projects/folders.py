"""Project folder naming (SPEC §3, §4).

``folder_name_sanitize`` turns a display name into a folder name, ``folder_name_unique`` picks
the first free name with a `` (2)``, `` (3)`` … suffix.

A folder name is in NFC and at most ``FOLDER_MAX_BYTES`` bytes of UTF-8 (not characters: file
systems limit a name to 255 bytes, and 128 × ``Ü`` is 256), cut on a character boundary. The
15 bytes left below 255 hold a `` (N)`` suffix (it replaces the end of a long name, so the
name stays within the cap) and the renames the system makes of a folder: the tombstone
``.deleted-<uid>`` and a case-only rename's hidden step name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

# In bytes of UTF-8. ``Project.folder`` holds at most 240 characters, which this also keeps.
FOLDER_MAX_BYTES = 240
UNTITLED = "Untitled Project"

_TO_DASH = str.maketrans({"/": "-", "\\": "-", ":": "-"})
_TO_UNDERSCORE = str.maketrans({"*": "_", "?": "_", "<": "_", ">": "_", "|": "_"})
_WHITESPACE_RUN = re.compile(r"\s+")
_DASH_RUN = re.compile(r"-{2,}")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf"} and char not in "\t\n\r"


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in {"Mn", "Mc", "Me"}


def utf8_cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` of at most ``max_bytes`` bytes of UTF-8, cut between
    characters, never leaving a letter's combining marks behind half-way (the letter goes
    with them)."""
    if len(text.encode("utf-8", "surrogatepass")) <= max_bytes:
        return text
    cut = text.encode("utf-8", "surrogatepass")[:max_bytes].decode("utf-8", "ignore")
    rest = text[len(cut) :]
    if rest and _is_mark(rest[0]):
        # The next character combines with the last ones kept: drop that letter whole.
        while cut and _is_mark(cut[-1]):
            cut = cut[:-1]
        cut = cut[:-1]
    return unicodedata.normalize("NFC", cut)


def folder_name_sanitize(name: str) -> str:
    """The folder name for a display name: never empty, never a path, NFC, at most
    ``FOLDER_MAX_BYTES`` bytes."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if not _is_control(ch))
    text = text.translate(_TO_DASH).translate(_TO_UNDERSCORE).replace('"', "'")
    text = _WHITESPACE_RUN.sub(" ", text)
    text = _DASH_RUN.sub("-", text)
    # A leading dot would hide the folder (and "." or ".." name a parent): drop leading dots.
    text = text.strip().lstrip(".").lstrip()
    # A combining mark left at the start (its letter was a dropped dot) has nothing to
    # combine with.
    while text and _is_mark(text[0]):
        text = text[1:].lstrip().lstrip(".").lstrip()
    text = utf8_cut(text, FOLDER_MAX_BYTES).rstrip()
    return text or UNTITLED


def _with_suffix(base: str, n: int) -> str:
    suffix = f" ({n})"
    return utf8_cut(base, FOLDER_MAX_BYTES - len(suffix)).rstrip() + suffix


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
