"""XMP ratings, colour labels, rejects and keywords (SPEC §4): read from sidecars and embedded
packets, written back to a sidecar when ``PIPELINE_WRITE_XMP`` is on.

Lightroom marks a rejected photo ``xmp:Rating`` -1: it reads as a discard (``rejected``), not
as a rating. Keywords are ``dc:subject`` (a bag of strings): they read into tags, and the
photo's tags are written back there with its rating and label.

exiv2 (``pyexiv2``) parses and writes the XMP: it keeps every property it does not change
(other namespaces included) and never resolves external entities. A sidecar is rewritten
atomically (``fsrules.write_atomic``: a temporary file, fsynced, then one rename), so a crash leaves the old
sidecar or the new one, never half of either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyexiv2

from photos.fsrules import split_name, write_atomic

# Quiet exiv2's own stderr warnings: errors reach us as exceptions.
pyexiv2.set_log_level(4)

RATING_KEY = "Xmp.xmp.Rating"
LABEL_KEY = "Xmp.xmp.Label"
SUBJECT_KEY = "Xmp.dc.subject"
# Lightroom's (and Bridge's) reject flag, written as the rating.
REJECT_RATING = -1
# Keywords read from one photo's XMP at most: tags are for culling (photos.tagging caps them).
MAX_KEYWORDS = 50
# The capture time a clock correction writes back (``photos.capture``), ISO 8601.
DATE_TIME_ORIGINAL_KEY = "Xmp.exif.DateTimeOriginal"
# The colour labels of the model (``photos.models.Label``) as Lightroom and Bridge write them.
LABEL_NAMES = {
    "red": "Red",
    "yellow": "Yellow",
    "green": "Green",
    "blue": "Blue",
    "purple": "Purple",
}
SIDECAR_SUFFIXES = ("xmp", "XMP", "Xmp")
# A sidecar larger than this is not an XMP sidecar a culling tool wrote: do not parse it.
MAX_SIDECAR_BYTES = 8 * 1024 * 1024
_EMPTY_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/"/></rdf:RDF></x:xmpmeta>\n'
    '<?xpacket end="w"?>'
)


class XmpError(Exception):
    """A sidecar that cannot be parsed or written; the text names the file."""


@dataclass(frozen=True)
class RatingLabel:
    """``None``: the XMP does not say (or says something outside 0–5 / the known labels).

    ``rejected``: ``xmp:Rating`` -1 (Lightroom's reject; ``rating`` is then ``None``);
    ``keywords``: ``dc:subject``, stripped, without duplicates, in the file's order.
    """

    rating: int | None = None
    label: str | None = None
    rejected: bool = False
    keywords: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.rating is None and self.label is None and not self.rejected and not self.keywords
        )


def keywords_parse(value: Any) -> tuple[str, ...]:
    """``dc:subject`` as exiv2 hands it (a list for a bag, a string for a lone value)."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    names = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    return tuple(dict.fromkeys(names))[:MAX_KEYWORDS]


def rating_label_parse(values: dict[str, Any]) -> RatingLabel:
    """Rating, label, reject and keywords from exiv2's XMP keys; a rating of -1 is
    ``rejected`` (its ``rating`` ``None``), an unknown value is ``None``."""
    rating: int | None = None
    raw = values.get(RATING_KEY)
    try:
        number = float(str(raw).strip()) if raw is not None else None
    except ValueError:
        number = None
    if number is not None and 0 <= number <= 5:
        rating = int(number)
    rejected = number == REJECT_RATING
    label: str | None = None
    text = values.get(LABEL_KEY)
    if isinstance(text, str):
        key = text.strip().lower()
        if key in LABEL_NAMES:
            label = key
        elif not key:
            label = "none"
    return RatingLabel(
        rating=rating,
        label=label,
        rejected=rejected,
        keywords=keywords_parse(values.get(SUBJECT_KEY)),
    )


def sidecar_candidates(folder: Path, basename: str, originals: Iterable[str]) -> list[Path]:
    """The sidecars of a photo that exist: ``<base>.xmp`` first (Lightroom, Photo Mechanic),
    then ``<base>.<ext>.xmp`` of each original (darktable), in the common spellings."""
    originals = sorted(originals)
    # The base as the row spells it (NFC), then as the originals spell it on disk (a Mac's NFD).
    bases = dict.fromkeys([basename, *(split_name(name)[0] for name in originals)])
    names = [f"{base}.{suffix}" for base in bases for suffix in SIDECAR_SUFFIXES]
    names += [f"{name}.{suffix}" for name in originals for suffix in SIDECAR_SUFFIXES]
    found = []
    for name in dict.fromkeys(names):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def read_sidecar(path: Path) -> RatingLabel:
    """Rating and label of one XMP sidecar. Raises ``XmpError`` for a file exiv2 refuses."""
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise XmpError(f"{path.name}: larger than {MAX_SIDECAR_BYTES} bytes; not read.")
        data = path.read_bytes()
        with pyexiv2.ImageData(data) as image:
            return rating_label_parse(image.read_xmp())
    except (RuntimeError, OSError, UnicodeDecodeError) as exc:
        raise XmpError(f"{path.name}: cannot read the XMP ({exc}).")


def photo_rating_label(folder: Path, basename: str, originals: Iterable[str]) -> RatingLabel:
    """What the sidecars of a photo say, the first sidecar that says anything winning.

    Unreadable sidecars are skipped: a broken sidecar must not stop derivatives.
    """
    for path in sidecar_candidates(folder, basename, originals):
        try:
            found = read_sidecar(path)
        except XmpError:
            continue
        if not found.empty:
            return found
    return RatingLabel()


def sidecar_write(
    path: Path,
    *,
    rating: int | None = None,
    label: str | None = None,
    date_time_original: str | None = None,
    keywords: list[str] | None = None,
) -> None:
    """Set ``xmp:Rating``, ``xmp:Label``, ``dc:subject`` (``keywords``: the whole bag; an
    empty list empties it) and/or ``exif:DateTimeOriginal`` in a sidecar, creating it when
    missing.

    Every other property is kept. ``label="none"`` removes the label. Raises ``XmpError``.
    """
    changes: dict[str, Any] = {}
    if keywords is not None:
        # exiv2 keeps a bag set to None; an empty list leaves an empty bag (no keyword).
        changes[SUBJECT_KEY] = list(keywords)
    if date_time_original is not None:
        changes[DATE_TIME_ORIGINAL_KEY] = date_time_original
    if rating is not None:
        changes[RATING_KEY] = str(rating)
    if label is not None:
        changes[LABEL_KEY] = LABEL_NAMES.get(label)  # None deletes the property
    if not changes:
        return
    try:
        data = path.read_bytes() if path.exists() else _EMPTY_PACKET.encode()
        if len(data) > MAX_SIDECAR_BYTES:
            raise XmpError(f"{path.name}: larger than {MAX_SIDECAR_BYTES} bytes; not rewritten.")
        with pyexiv2.ImageData(data) as image:
            image.modify_xmp(changes)
            updated = image.get_bytes()
    except (RuntimeError, UnicodeDecodeError) as exc:
        raise XmpError(f"{path.name}: cannot update the XMP ({exc}).")
    write_atomic(path, lambda fh: fh.write(updated), durable=True)


def sidecar_for_writing(folder: Path, basename: str, originals: Iterable[str]) -> Path:
    """The sidecar a write-back updates: the first existing one, else a new ``<base>.xmp``."""
    existing = sidecar_candidates(folder, basename, originals)
    return existing[0] if existing else folder / f"{basename}.xmp"
