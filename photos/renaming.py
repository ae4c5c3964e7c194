"""Names for an uploaded photo whose name is taken: the rename templates (SPEC §9, issue 22).

A second camera body writes the same names as the first (``IMG_4507.JPG`` twice). An upload
that names a template keeps both: the arriving photo (all its files, sidecars included) gets a
new base name rendered from the template, and nothing is overwritten. Placeholders:

- ``{basename}``: the name the file came with, without its extension;
- ``{camera}``: the camera of the file's EXIF (``Canon-EOS-R5``), ``camera`` when it has none;
- ``{date}``: the capture date of the file's EXIF (``20261206``), ``undated`` when it has none;
- ``{seq}``: a four-digit counter, the first that gives a free name (``0001``).

A rendered name that is still taken gets ``_2``, ``_3``… (a template without ``{seq}``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ApplicationError

from . import storage

FIELDS = ("basename", "camera", "date", "seq")
# The templates the workspace offers; any other made of FIELDS and safe characters works too.
SUGGESTED = ("{basename}_{camera}", "{date}_{seq}")
TEMPLATE_MAX = 100
SEQ_MAX = 9999
_LITERAL = re.compile(r"^[0-9A-Za-z _.\-]*$")
_TOKEN_UNSAFE = re.compile(r"[^0-9A-Za-z]+")


class RenameTemplateInvalid(ApplicationError):
    """The rename template of an upload cannot be used."""


@dataclass(frozen=True)
class NameFacts:
    """What a template may use of the arriving photo."""

    basename: str
    camera: str = ""
    date: str = ""


def template_check(template: str) -> str:
    """The template, stripped; ``RenameTemplateInvalid`` for one that is not usable."""
    template = template.strip()
    if not template:
        raise RenameTemplateInvalid("The rename template is empty.")
    if len(template) > TEMPLATE_MAX:
        raise RenameTemplateInvalid(f"The rename template is over {TEMPLATE_MAX} characters.")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise RenameTemplateInvalid(f"The rename template is not valid ({exc}).") from None
    used = set()
    for literal, name, spec, conversion in parts:
        if not _LITERAL.match(literal):
            raise RenameTemplateInvalid(
                "A rename template may hold letters, digits, spaces, '_', '-' and '.' "
                "besides its placeholders."
            )
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise RenameTemplateInvalid(
                f"Unknown placeholder {{{name}}} in the rename template (known: {known})."
            )
        used.add(name)
    if not used:
        raise RenameTemplateInvalid(
            "A rename template needs a placeholder ({basename}, {camera}, {date} or {seq})."
        )
    if template.startswith((".", " ")):
        raise RenameTemplateInvalid("A rename template may not start with '.' or a space.")
    return template


def token(value: str, fallback: str) -> str:
    """A value made safe for a file name: ``Canon EOS R5`` → ``Canon-EOS-R5``."""
    cleaned = _TOKEN_UNSAFE.sub("-", value).strip("-")
    return cleaned[:60] or fallback


def base_render(template: str, facts: NameFacts, *, is_free: Callable[[str], bool]) -> str | None:
    """The first free base name the template gives for ``facts``; ``None`` when there is none
    (every counter taken, or a name too long)."""
    values = {
        "basename": facts.basename,
        "camera": token(facts.camera, "camera"),
        "date": facts.date or "undated",
    }
    if "{seq}" in template:
        candidates = (template.format(**values, seq=f"{n:04d}") for n in range(1, SEQ_MAX + 1))
    else:
        first = template.format(**values, seq="")
        candidates = (first if n == 1 else f"{first}_{n}" for n in range(1, 1000))
    for candidate in candidates:
        candidate = candidate.strip()
        if storage.basename_problem(candidate) is not None:
            return None
        if is_free(candidate):
            return candidate
    return None
