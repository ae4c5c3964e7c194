"""Which characters a user-given name may hold: project names, tags and uploaded file names.

Control characters (terminal escapes, NUL), invisible formatting characters (zero-width space
U+200B, right-to-left override U+202E, soft hyphen, BOM), line and paragraph separators and
lone surrogates make a name look like another one in listings, terminals and the admin, or
hide what it says. They are refused everywhere a user names something (SPEC §14).
"""

from __future__ import annotations

import unicodedata

# Cc control, Cf format (zero-width and bidi controls), Zl/Zp line and paragraph separators,
# Cs lone surrogates.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Letters and symbols that render as nothing (fillers), used to fake blank or equal names.
INVISIBLE_CHARACTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})


def forbidden_character(text: str) -> str | None:
    """The first forbidden character of ``text`` as ``U+XXXX``, or ``None`` if it is clean."""
    for ch in text:
        if ch in INVISIBLE_CHARACTERS or unicodedata.category(ch) in FORBIDDEN_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None


def name_characters_problem(text: str, *, what: str) -> str | None:
    """Why ``text`` may not be used as ``what`` ("A tag name", "A project name"), or ``None``."""
    found = forbidden_character(text)
    if found is None:
        return None
    return f"{what} cannot contain control or invisible characters ({found})."
