"""Where files live and what a folder holds (SPEC §4).

    PHOTOS_ROOT/<tenant slug>/<project folder>/
        .project.yaml   .thumb/<base>.webp   .preview/<base>.webp (or .jpg)   .trash/<file>
        <base>.<ext>

Every path is built here from database values and checked with the containment rules of
``photos.fsrules`` (a name with a path separator, ``..``, a NUL byte, or a path that resolves
outside the tenant root raises ``UnsafePath``). ``folder_entries`` is the one folder scanner:
it classifies each entry (an original by class, a sidecar, a hidden file, a system folder,
another folder, a symlink, an unaccepted file), and ``FolderIndex``, ``folder_files``, the
reconciliation checks, folder discovery and the scavenger all read folders through it.
"""

from __future__ import annotations

import os
import stat
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from photos.fsrules import (
    PREVIEW_DIR,
    SYSTEM_DIRS,
    THUMB_DIR,
    check_name,
    ensure_inside,
    nfc,
    split_name,
    system_dir,
)

if TYPE_CHECKING:
    from projects.models import Project, Tenant

MANIFEST_NAME = ".project.yaml"
DERIVATIVE_EXT = "webp"
# A RAW's full-size embedded JPEG kept as its preview, as it is (SPEC §4): ``.preview/<base>.jpg``.
PREVIEW_AS_IS_EXT = "jpg"
DERIVATIVE_EXTENSIONS = (DERIVATIVE_EXT, PREVIEW_AS_IS_EXT)

JPG_EXTENSIONS = frozenset({"jpg", "jpeg"})
# The RAW formats of SPEC §4, then the other ones LibRaw reads: Phase One (iiq), Hasselblad
# (3fr, fff), Pentax (pef), Samsung (srw), Leica (rwl), Nikon compact (nrw), Sigma (x3f) and
# GoPro (gpr).
RAW_EXTENSIONS = frozenset(
    {"raw", "cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2"}
    | {"iiq", "3fr", "fff", "pef", "srw", "rwl", "nrw", "x3f", "gpr"}
)
# ``hif``: the HEIF extension of Canon, Fujifilm and Sony cameras; AVIF and JPEG XL are decoded
# by Pillow plugins (``photos.imaging``).
OTHER_EXTENSIONS = frozenset({"png", "tif", "tiff", "heic", "heif", "hif", "webp", "avif", "jxl"})
ACCEPTED_EXTENSIONS = JPG_EXTENSIONS | RAW_EXTENSIONS | OTHER_EXTENSIONS
# Edit files of raw converters and phones: XMP (Lightroom, darktable, Capture One), RawTherapee,
# DxO, ON1, iOS edits, video thumbnails. They belong to the photo of their base name.
SIDECAR_EXTENSIONS = frozenset({"xmp", "pp3", "dop", "on1", "aae", "thm"})
# The longest file name common file systems take (ext4, XFS, APFS, NTFS), in bytes.
NAME_MAX_BYTES = 255
# The longest base name, in UTF-8 bytes, so that every name derived from it fits NAME_MAX_BYTES.
# The longest derived name is a derivative's temporary file ``.<base>.webp.<8 random>.tmp``
# (base + 19 bytes); originals ``<base>.<ext>``, sidecars ``<base>.<ext>.xmp`` and trash names
# ``<base>~<n>.<ext>`` are shorter. 200 leaves room for all of them and a longer suffix.
BASENAME_MAX_BYTES = 200


class FileClass(StrEnum):
    JPG = "jpg"
    RAW = "raw"
    OTHER = "other"


def classify(filename: str) -> FileClass | None:
    """The class of a file by extension (case-insensitive), or ``None`` if not accepted."""
    _, ext = split_name(filename)
    ext = ext.lower()
    if ext in JPG_EXTENSIONS:
        return FileClass.JPG
    if ext in RAW_EXTENSIONS:
        return FileClass.RAW
    if ext in OTHER_EXTENSIONS:
        return FileClass.OTHER
    return None


def sidecar_bases(filename: str) -> tuple[str, ...]:
    """The base names a sidecar can belong to (in NFC); ``()`` when ``filename`` is not a
    sidecar.

    Both forms are recognised, case-insensitively: ``<base>.xmp`` (``IMG_1.xmp``) and
    ``<base>.<ext>.xmp`` where ``<ext>`` is an accepted photo extension (``IMG_1.CR2.xmp``).
    ``IMG_1.CR2.xmp`` so names ``IMG_1.CR2`` and ``IMG_1``; the photo that exists claims it.
    """
    stem, ext = split_name(filename)
    if not ext or ext.lower() not in SIDECAR_EXTENSIONS or is_hidden(filename):
        return ()
    inner, inner_ext = split_name(stem)
    if inner_ext and inner_ext.lower() in ACCEPTED_EXTENSIONS:
        return (nfc(stem), nfc(inner))
    return (nfc(stem),)


def basename_bytes(base: str) -> int:
    return len(base.encode("utf-8", "surrogatepass"))


def basename_problem(base: str) -> str | None:
    """Why ``base`` cannot be a photo's base name (over ``BASENAME_MAX_BYTES``), or ``None``.

    Checked everywhere a name enters (upload, discovery, duplicate renames), so a thumbnail,
    preview, temporary or sidecar name derived from it never exceeds the file system's limit.
    """
    size = basename_bytes(base)
    if size <= BASENAME_MAX_BYTES:
        return None
    shown = base if len(base) <= 40 else base[:40] + "…"
    return (
        f"The base name '{shown}' is {size} bytes long; at most {BASENAME_MAX_BYTES} are "
        "allowed, so that its thumbnail and preview names fit the file system."
    )


def photo_bases(filename: str) -> tuple[str, ...]:
    """The base names (in NFC) whose photo ``filename`` belongs to: an original's base, a
    sidecar's candidates (``sidecar_bases``), or ``()`` for any other file."""
    if is_hidden(filename):
        return ()
    if classify(filename) is not None:
        return (nfc(split_name(filename)[0]),)
    return sidecar_bases(filename)


def is_hidden(filename: str) -> bool:
    return filename.startswith(".")


def photos_root() -> Path:
    return Path(settings.PHOTOS_ROOT)


def tenant_root(tenant: Tenant | str) -> Path:
    slug = tenant if isinstance(tenant, str) else tenant.slug
    return photos_root() / check_name(slug, what="tenant slug")


def project_dir(project: Project, *, folder: str | None = None) -> Path:
    """The project's folder (or another ``folder`` name for it), checked to stay in the tenant root."""
    root = tenant_root(project.tenant.slug)
    path = root / check_name(folder or project.folder, what="project folder")
    return ensure_inside(path, root)


def file_path(project: Project, filename: str) -> Path:
    folder = project_dir(project)
    return ensure_inside(folder / check_name(filename), folder)


def _derivative_path(
    project: Project, kind: str, basename: str, *, ext: str = DERIVATIVE_EXT
) -> Path:
    folder = project_dir(project)
    name = f"{check_name(basename, what='base name')}.{ext}"
    return ensure_inside(system_dir(folder, kind) / name, folder)


def thumbnail_path(project: Project, basename: str) -> Path:
    """``.thumb/<base>.webp``; ``SystemFolderUnsafe`` when ``.thumb`` is a link or a file."""
    return _derivative_path(project, THUMB_DIR, basename)


def preview_path(project: Project, basename: str) -> Path:
    """``.preview/<base>.webp``; ``SystemFolderUnsafe`` when ``.preview`` is a link or a file."""
    return _derivative_path(project, PREVIEW_DIR, basename)


def preview_jpeg_path(project: Project, basename: str) -> Path:
    """``.preview/<base>.jpg``: a RAW's embedded JPEG kept as its preview, as it is."""
    return _derivative_path(project, PREVIEW_DIR, basename, ext=PREVIEW_AS_IS_EXT)


def preview_paths(project: Project, basename: str) -> list[Path]:
    """Every file a photo's preview can be (the WebP, the RAW's JPEG as it is): what moves,
    goes and is removed with the photo. At most one of them exists (``photos.derivatives``
    removes the other when it writes one)."""
    return [preview_path(project, basename), preview_jpeg_path(project, basename)]


def preview_file(project: Project, basename: str) -> Path:
    """The photo's preview as it is on disk: the RAW's JPEG when there is one, else the WebP
    path (which may not exist)."""
    webp, jpeg = preview_paths(project, basename)
    return jpeg if jpeg.is_file() else webp


@dataclass
class BaseFiles:
    """The original files of one base name in a folder, by class (every case variant, and
    every Unicode normalization form of the name: the lists hold the names as on disk)."""

    basename: str
    jpg: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    # Edit files of this photo (``sidecar_bases``): never originals, never counted in ``all``.
    sidecars: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        """The originals (every class); a photo with none left has no file."""
        return [*self.jpg, *self.raw, *self.other]

    @property
    def with_sidecars(self) -> list[str]:
        """The originals and the sidecars: every file that moves or is renamed with the photo."""
        return [*self.all, *self.sidecars]

    def add(self, filename: str) -> None:
        """File ``filename`` under its class, or as a sidecar of this base name."""
        kind = classify(filename)
        if kind is not None:
            getattr(self, kind.value).append(filename)
        elif nfc(self.basename) in sidecar_bases(filename):
            self.sidecars.append(filename)

    @property
    def ext(self) -> str:
        """The extension a photo row records: the JPG's, else another image's, else the RAW's."""
        for names in (self.jpg, self.other, self.raw):
            if names:
                return split_name(sorted(names)[0])[1].lower()
        return ""


class EntryKind(StrEnum):
    """What a folder entry is to the system (``folder_entries``)."""

    ORIGINAL = "original"  # an accepted photo file, by class (``FolderEntry.file_class``)
    SIDECAR = "sidecar"  # an edit file of the photo(s) named in ``FolderEntry.bases``
    UNACCEPTED = "unaccepted"  # any other visible file: reported, never moved
    HIDDEN = "hidden"  # a hidden non-folder (the manifest, ``.DS_Store``, temporary files)
    SYSTEM_DIR = "system_dir"  # ``.thumb``, ``.preview`` or ``.trash`` as a real folder
    DIR = "dir"  # any other folder (hidden ones included)
    SYMLINK = "symlink"  # never followed, whatever it points at
    SPECIAL = "special"  # a visible FIFO, socket or device: not a file the system knows


@dataclass(frozen=True, slots=True)
class FolderEntry:
    name: str
    kind: EntryKind
    file_class: FileClass | None = None
    # The base names (in NFC) whose photo the entry belongs to: an original's base, a
    # sidecar's candidates (``sidecar_bases``); empty for every other kind.
    bases: tuple[str, ...] = ()


def _entry(entry: os.DirEntry[str]) -> FolderEntry:
    name = entry.name
    if entry.is_symlink():
        return FolderEntry(name, EntryKind.SYMLINK)
    if entry.is_dir(follow_symlinks=False):
        return FolderEntry(name, EntryKind.SYSTEM_DIR if name in SYSTEM_DIRS else EntryKind.DIR)
    if is_hidden(name):
        return FolderEntry(name, EntryKind.HIDDEN)
    if not entry.is_file(follow_symlinks=False):
        return FolderEntry(name, EntryKind.SPECIAL)
    kind = classify(name)
    if kind is not None:
        return FolderEntry(name, EntryKind.ORIGINAL, kind, (nfc(split_name(name)[0]),))
    bases = sidecar_bases(name)
    if bases:
        return FolderEntry(name, EntryKind.SIDECAR, None, bases)
    return FolderEntry(name, EntryKind.UNACCEPTED)


def folder_entries(folder: Path) -> Iterator[FolderEntry]:
    """Every entry of ``folder``, classified: the one folder scanner (SPEC §4).

    Streams ``os.scandir`` (one directory read, no ``stat`` per entry on common
    filesystems), so a folder of 100,000 files is never held in memory here. Extensions
    compare case-insensitively; a symlink is reported as such and never followed. Raises
    ``FileNotFoundError`` when the folder is missing: a caller decides whether a missing
    folder is empty or an error (an unmounted share looks empty).
    """
    with os.scandir(folder) as it:
        for entry in it:
            yield _entry(entry)


def folder_files(folder: Path, bases: Collection[str] | None = None) -> dict[str, BaseFiles]:
    """The originals and sidecars of every base name in ``folder`` (or of ``bases`` only).

    One pass over the folder. A base name with only sidecars is included (its ``all`` is
    empty: it has no photo). A missing folder has no files. Names match in NFC: the result is
    keyed by the base names asked for (as given), else by the NFC base names on disk.
    """
    wanted = None if bases is None else {nfc(b): b for b in bases}
    found: dict[str, BaseFiles] = {}
    try:
        for entry in folder_entries(folder):
            for base in entry.bases:
                key = base if wanted is None else wanted.get(base)
                if key is not None:
                    found.setdefault(key, BaseFiles(key)).add(entry.name)
    except FileNotFoundError:
        pass
    return found


def files_for_basename(folder: Path, basename: str) -> BaseFiles:
    """Every original of one base name (``IMG_1.jpg``, ``IMG_1.JPG``, ``IMG_1.cr2`` …), and
    its sidecars (``IMG_1.xmp``, ``IMG_1.CR2.xmp``).

    Scans the whole folder: a job looking up many photos uses a ``FolderIndex`` instead.
    """
    return folder_files(folder, (basename,)).get(basename) or BaseFiles(basename)


def _folder_mtime(folder: Path) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except FileNotFoundError:
        return None


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@dataclass(slots=True)
class _Listing:
    """One folder's originals: base name → file names (every case variant), as scanned."""

    stamp: int | None  # the folder's mtime read just before the scan; None: no folder
    names: dict[str, tuple[str, ...]]


class FolderIndex:
    """A job's listing of the project folders it works in: each folder scanned once.

    ``files(folder, basename)`` answers what ``files_for_basename`` answers (originals and
    sidecars), without a
    ``os.scandir`` of the whole folder per photo (quadratic over a big project). A folder is
    scanned on its first lookup (``folder_entries``: originals and sidecars only; hidden
    entries, directories and symlinks ignored) and then kept current:

    * every lookup ``stat``s the folder: if its mtime moved since the scan, something other
      than this job added, removed or renamed an entry, and the folder is scanned again. A
      job that only reads a folder (derivatives) so sees a file that appeared meanwhile, at
      the cost of one rescan per outside change, never more than one scan per lookup;
    * the job reports its own changes with ``record(folder, added=, removed=)`` right after
      making them; that also takes the folder's new mtime as the reference, so its own
      renames do not trigger rescans;
    * each listed name is checked with ``os.lstat`` (still a regular file) before it is
      returned, so a name that vanished is never acted on.

    Limits: an outside change that lands between a lookup and the ``record`` of the job's
    own change (the few renames of one photo), or within the same filesystem timestamp tick
    as the last change seen, can be missed by this job; ``manifest_check``, the step that
    follows every job that moves files, reconciles the rows with the disk. Nothing is ever
    overwritten on that account: every rename refuses an existing target.

    At most ``max_folders`` listings are kept (least recently used first out), so a job over
    many projects holds a few folders in memory, not all of them. ``scans`` counts the
    ``os.scandir`` calls made.
    """

    def __init__(self, *, max_folders: int = 4) -> None:
        self.max_folders = max(1, max_folders)
        self.scans = 0
        self._listings: OrderedDict[Path, _Listing] = OrderedDict()

    def files(self, folder: Path, basename: str) -> BaseFiles:
        """Every original of ``basename`` in ``folder`` (every case variant), checked on disk."""
        listing = self._listing(folder)
        found = BaseFiles(basename)
        key = nfc(basename)
        names = listing.names.get(key, ())
        present = tuple(name for name in names if _is_regular_file(folder / name))
        if present != names:
            self._store(listing, key, present)
        for name in present:
            found.add(name)
        return found

    def record(
        self, folder: Path, *, added: Iterable[str] = (), removed: Iterable[str] = ()
    ) -> None:
        """Note files this job has just created in, moved into or moved out of ``folder``.

        ``added`` may name more files than really arrived (lookups check every name on disk);
        ``removed`` must name only files that are really gone.
        """
        listing = self._listings.get(folder)
        if listing is None:
            return
        listing.stamp = _folder_mtime(folder)
        gone = set(removed)
        for name in gone:
            for base in photo_bases(name):
                names = listing.names.get(base, ())
                if name in names:
                    self._store(listing, base, tuple(n for n in names if n != name))
        for name in added:
            if name in gone:
                continue
            for base in photo_bases(name):
                names = listing.names.get(base, ())
                if name not in names:
                    self._store(listing, base, (*names, name))

    def _listing(self, folder: Path) -> _Listing:
        listing = self._listings.get(folder)
        if listing is not None and _folder_mtime(folder) == listing.stamp:
            self._listings.move_to_end(folder)
            return listing
        listing = self._scan(folder)
        self._listings[folder] = listing
        self._listings.move_to_end(folder)
        while len(self._listings) > self.max_folders:
            self._listings.popitem(last=False)
        return listing

    def _scan(self, folder: Path) -> _Listing:
        # The mtime is read before the scan, so a change during the scan moves it on and the
        # next lookup scans again.
        stamp = _folder_mtime(folder)
        grouped: dict[str, list[str]] = {}
        self.scans += 1
        try:
            for entry in folder_entries(folder):
                for base in entry.bases:
                    grouped.setdefault(base, []).append(entry.name)
        except FileNotFoundError:
            return _Listing(stamp=None, names={})
        return _Listing(stamp=stamp, names={b: tuple(n) for b, n in grouped.items()})

    @staticmethod
    def _store(listing: _Listing, basename: str, names: tuple[str, ...]) -> None:
        if names:
            listing.names[basename] = names
        else:
            listing.names.pop(basename, None)


def originals(folder: Path, basename: str, *, index: FolderIndex | None = None) -> BaseFiles:
    """``index.files(folder, basename)`` for a job holding an index, else a fresh scan."""
    if index is None:
        return files_for_basename(folder, basename)
    return index.files(folder, basename)
