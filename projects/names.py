"""Which characters a user-given name may hold, and its one spelling: project names, tags,
uploaded file names and the names found on disk.

Names are stored and compared in Unicode NFC (SPEC §4): ``É`` typed on Linux (one code point)
and ``É`` from a Mac (``E`` plus a combining acute) are one name, ``name_normalize``.

Control characters (terminal escapes, NUL), invisible formatting characters (zero-width space
U+200B, right-to-left override U+202E, soft hyphen, BOM, the combining grapheme joiner U+034F),
line and paragraph separators and lone surrogates make a name look like another one in
listings, terminals and the admin, or hide what it says. So does a combining mark with nothing
to combine with (at the start of a name or after a space): it shows as a stray accent, or on
the character before it in a listing. They are refused everywhere a user names something
(SPEC §14).
"""

from __future__ import annotations

import unicodedata

# Cc control, Cf format (zero-width and bidi controls), Zl/Zp line and paragraph separators,
# Cs lone surrogates.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Characters that render as nothing: fillers used to fake blank or equal names, and the
# combining grapheme joiner (a combining mark that shows nothing).
INVISIBLE_CHARACTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"})
# Combining marks: nonspacing, spacing and enclosing.
MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


def name_normalize(text: str) -> str:
    """``text`` in NFC, the one form names are stored and compared in."""
    return unicodedata.normalize("NFC", text)


def forbidden_character(text: str) -> str | None:
    """The first forbidden character of ``text`` as ``U+XXXX``, or ``None`` if it is clean.

    Forbidden: the categories and characters above, and a combining mark with no base (the
    first character, or one right after whitespace).
    """
    return _first_problem(text)[0]


def _first_problem(text: str) -> tuple[str | None, bool]:
    """(``U+XXXX`` of the first forbidden character, whether it is a mark with no base)."""
    previous = ""
    for ch in text:
        category = unicodedata.category(ch)
        if ch in INVISIBLE_CHARACTERS or category in FORBIDDEN_CATEGORIES:
            return f"U+{ord(ch):04X}", False
        if category in MARK_CATEGORIES and (not previous or previous.isspace()):
            return f"U+{ord(ch):04X}", True
        previous = ch
    return None, False


def name_characters_problem(text: str, *, what: str) -> str | None:
    """Why ``text`` may not be used as ``what`` ("A tag name", "A project name"), or ``None``."""
    found, lone_mark = _first_problem(text)
    if found is None:
        return None
    if lone_mark:
        return (
            f"{what} cannot contain a combining mark with no letter before it ({found}), "
            "at its start or after a space."
        )
    return f"{what} cannot contain control or invisible characters ({found})."
