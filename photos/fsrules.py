"""The file-system safety rules of SPEC §4, each written once.

Every module that touches a photographer's files goes through these functions:

- **Containment** (``check_name``, ``ensure_inside``): a name with a path separator, ``..`` or
  a NUL byte, or a path that resolves (through symlinks) outside its root, raises
  ``UnsafePath``.
- **System folders** (``system_dir``): ``.trash``, ``.thumb`` and ``.preview`` must be real
  directories inside the project folder; a symlink or a file there raises
  ``SystemFolderUnsafe`` and is never followed.
- **No overwrite** (``move_no_replace`` for files, ``folder_rename`` for project folders): a
  rename that refuses an existing target, for files even one that appears between the check
  and the rename where the filesystem has hard links.
- **Atomic writes** (``write_atomic``): a temporary file in the target's folder, then one
  rename, so a reader sees the old file or the new one and a crash leaves no partial file.
- **Trash** (``trash_move``, ``trashed_at``): a file goes into ``.trash/`` under a free name,
  and its trashing time is read from its inode change time.
- **Unique names** (``unique_name`` for ``<base>~<n>.<ext>`` in the trash,
  ``numbered_names`` for ``<base>_duplicate<N>``).

This module knows no database and no photo layout beyond the names of the system folders; the
layout (where a project's files are, which files are photos) is ``photos.storage``.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from core.errors import ApplicationError

THUMB_DIR = ".thumb"
PREVIEW_DIR = ".preview"
TRASH_DIR = ".trash"
# The folders the system writes into; each must be a real directory inside the project folder.
SYSTEM_DIRS = (THUMB_DIR, PREVIEW_DIR, TRASH_DIR)

# Filesystems without hard links (some network shares, FAT) answer a link with one of these.
_NO_LINK_ERRNOS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}
)
# How many names ``trash_move`` tries when others keep taking them first.
_TRASH_ATTEMPTS = 100


class UnsafePath(ApplicationError):
    """A name or path that would leave its folder."""


class SystemFolderUnsafe(UnsafePath):
    """``.trash``, ``.thumb`` or ``.preview`` is a symlink or not a folder; nothing is moved."""


class DestinationExists(FileExistsError):
    """The target name is taken; nothing was moved."""


# --- names and containment ----------------------------------------------------------------


def split_name(filename: str) -> tuple[str, str]:
    """``"IMG_1.JPG"`` → ``("IMG_1", "JPG")``; the extension keeps its case.

    A name without a dot, or whose only dot leads (``.DS_Store``), has no extension.
    """
    base, dot, ext = filename.rpartition(".")
    if not dot or not base:
        return filename, ""
    return base, ext


def nfc(name: str) -> str:
    """``name`` in Unicode NFC: names are compared and stored in it (SPEC §4), so a file a Mac
    wrote as ``E`` + combining acute and one typed as ``É`` are one name."""
    return unicodedata.normalize("NFC", name)


def check_name(name: str, *, what: str = "file name") -> str:
    """Refuse a single path component that could escape its folder; return it unchanged."""
    if not name or name in {".", ".."}:
        raise UnsafePath(f"Invalid {what} {name!r}.")
    if "\x00" in name:
        raise UnsafePath(f"Invalid {what}: it contains a NUL byte.")
    if "/" in name or "\\" in name:
        raise UnsafePath(f"Invalid {what} {name!r}: path separators are not allowed.")
    if name.startswith(".."):
        raise UnsafePath(f"Invalid {what} {name!r}: '..' is not allowed.")
    return name


def ensure_inside(path: Path, root: Path) -> Path:
    """``path`` unchanged, refused unless it stays inside ``root`` once symlinks are resolved."""
    resolved_root = root.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise UnsafePath(f"Path {path} leaves {root}.")
    return path


def system_dir(folder: Path, name: str, *, create: bool = False) -> Path:
    """``folder/name`` for a system folder (``.trash``, ``.thumb``, ``.preview``), checked.

    The one check made before anything is moved or written into a system folder: it must be a
    real directory inside the project folder. A symlink (wherever it points: another folder of
    the share, outside ``PHOTOS_ROOT``) or a regular file raises ``SystemFolderUnsafe``, whose
    message names the folder relative to the project folder and never a server path. A
    missing one is created with ``create`` (``mkdir`` never follows a link), else returned.
    """
    if name not in SYSTEM_DIRS:
        raise ValueError(f"{name!r} is not a system folder")
    path = folder / name
    for _ in range(2):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            if not create:
                return path
            try:
                os.mkdir(path)
            except FileExistsError:
                continue  # Made meanwhile (or a link put there): check what it is.
            return path
        if stat.S_ISLNK(mode):
            raise SystemFolderUnsafe(
                f"'{name}' in the project folder is a symlink; it is never followed. "
                "Replace it with a real folder."
            )
        if not stat.S_ISDIR(mode):
            raise SystemFolderUnsafe(
                f"'{name}' in the project folder is not a folder. Move it away and retry."
            )
        return path
    raise SystemFolderUnsafe(f"'{name}' in the project folder keeps changing.")


# --- moving and writing -------------------------------------------------------------------


def move_no_replace(src: Path, dst: Path) -> None:
    """Rename the file ``src`` to ``dst`` unless ``dst`` exists (then ``DestinationExists``).

    A hard link claims the target atomically, so a file that appears at ``dst`` between any
    check and the move is never overwritten; the source is unlinked after. Where links are
    unsupported, fall back to check-then-rename, which leaves a tiny race. A file is always in
    its old place, its new place or, for a moment, both: a worker killed at any instant loses
    nothing. A source gone meanwhile raises ``FileNotFoundError``.
    """
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise DestinationExists(str(dst)) from None
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
        if os.path.lexists(dst):
            raise DestinationExists(str(dst)) from None
        os.replace(src, dst)
        return
    try:
        os.unlink(src)
    except FileNotFoundError:
        pass


def folder_rename(source: Path, target: Path) -> None:
    """Rename the folder ``source`` to ``target`` (same parent), never onto another entry.

    ``os.rename`` alone would replace an empty folder at ``target`` silently: any existing
    entry there raises ``DestinationExists``, unless it is ``source`` itself (a change of letter
    case on a case-insensitive filesystem). A case-only change goes through a hidden
    intermediate name, so it works on case-insensitive filesystems too. Folders have no
    hard-link claim: a folder made at ``target`` between the check and the rename is replaced
    only if empty (the kernel refuses a non-empty one), so nothing in it is lost.
    """
    if os.path.lexists(target) and not _same_entry(source, target):
        raise DestinationExists(str(target))
    if source.name.lower() == target.name.lower():
        step = source.with_name(f".{source.name}.renaming")
        os.rename(source, step)
        os.rename(step, target)
    else:
        os.rename(source, target)


def _same_entry(a: Path, b: Path) -> bool:
    try:
        first, second = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def temp_create(path: Path) -> tuple[int, Path]:
    """A new, empty hidden temporary file for ``path``, in its folder: ``(fd, temp path)``.

    The one rule for temporary names: ``.<name>.<8 random>.tmp``, hidden so scans never take
    it for a photo, counted in ``storage.BASENAME_MAX_BYTES``, created 0600 (``mkstemp``) and
    never over an existing entry. ``write_atomic`` and upload staging (``photos/staging.py``)
    both make theirs here; ``temp_publish`` gives it its name.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    return fd, Path(tmp_name)


def temp_publish(tmp: Path, path: Path, *, replace: bool = True, mode: int | None = None) -> None:
    """Give the written temporary file ``tmp`` (same folder) the name ``path``.

    ``mode``: the new file's permissions; by default those of the file it replaces, else 0644
    (``mkstemp`` creates 0600, and files here are served). ``replace=False`` publishes without
    replacing (``move_no_replace``): ``DestinationExists`` when the name was taken meanwhile.
    """
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    os.chmod(tmp, mode)
    if replace:
        os.replace(tmp, path)
    else:
        move_no_replace(tmp, path)


def write_atomic(
    path: Path,
    write: Callable[[IO[bytes]], object],
    *,
    durable: bool = False,
    replace: bool = True,
    mode: int | None = None,
) -> None:
    """Write ``path`` through a temporary file in its folder, then one rename.

    ``write`` fills the open temporary file (``temp_create``); if it (or anything after it)
    raises, the temporary file is removed and ``path`` is untouched, so no reader ever sees a
    partial file. ``durable`` fsyncs the data before the rename (originals and edit files: the
    only copy). ``replace`` and ``mode`` are ``temp_publish``'s.
    """
    fd, tmp = temp_create(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        temp_publish(tmp, path, replace=replace, mode=mode)
    finally:
        tmp.unlink(missing_ok=True)


# --- unique names -------------------------------------------------------------------------


def unique_name(folder: Path, name: str) -> str:
    """``name`` if free in ``folder``, else ``<base>~2.<ext>``, ``<base>~3.<ext>`` …

    A snapshot: take the name with ``move_no_replace`` and pick again when it was taken.
    """
    if not os.path.lexists(folder / name):
        return name
    base, ext = split_name(name)
    suffix = f".{ext}" if ext else ""
    n = 2
    while os.path.lexists(folder / f"{base}~{n}{suffix}"):
        n += 1
    return f"{base}~{n}{suffix}"


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that is at most ``max_bytes`` in UTF-8 (whole characters)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def numbered_names(base: str, suffix: str, *, max_bytes: int) -> Iterator[str]:
    """``<base><suffix>1``, ``<base><suffix>2`` …, each at most ``max_bytes`` in UTF-8.

    The base is shortened (whole characters) when the number would take the name over
    ``max_bytes``; the caller takes the first candidate that is free by its own rules and
    claims it with ``move_no_replace``.
    """
    n = 1
    while True:
        tail = f"{suffix}{n}"
        yield truncate_utf8(base, max_bytes - len(tail.encode())) + tail
        n += 1


# --- trash --------------------------------------------------------------------------------


def trash_move(folder: Path, name: str) -> str | None:
    """Move ``folder/name`` into ``folder/.trash/`` under a free name; return that name.

    Raises ``SystemFolderUnsafe`` when ``.trash`` is a symlink or a file (nothing is moved).
    Returns ``None`` when the file is already gone from the folder (a rerun after a crash: the
    earlier attempt trashed it). A name already in the trash is never overwritten: the file
    takes ``<base>~2.<ext>``, ``~3`` … The trash TTL counts from trashing (``trashed_at``);
    the mtime (capture time) is kept.
    """
    src = folder / check_name(name)
    if not os.path.lexists(src):
        return None
    trash = system_dir(folder, TRASH_DIR, create=True)
    for _ in range(_TRASH_ATTEMPTS):
        target = unique_name(trash, name)
        try:
            move_no_replace(src, trash / target)
        except DestinationExists:
            continue  # Taken between the check and the move: pick the next suffix.
        except FileNotFoundError:
            return None  # Gone meanwhile: someone else finished this file.
        _stamp_trash_time(trash / target)
        return target
    raise DestinationExists(f"No free name for {name} in {trash}.")


def _stamp_trash_time(path: Path) -> None:
    """Move the file's ctime to now and keep its mtime: a chmod to the same mode.

    A rename already sets ctime on Linux filesystems; this covers mounts that do not, and the
    hard-link route (a link keeps the inode, whose ctime the unlink then moves anyway).
    """
    try:
        if not os.path.islink(path):
            os.chmod(path, os.lstat(path).st_mode & 0o7777)
    except OSError:
        pass


def trashed_at(entry: os.stat_result) -> float:
    """When an entry was trashed: its inode change time.

    Not ``st_mtime``: a photo shot years ago keeps its old mtime through the move into the
    trash. ``st_ctime`` is set by the move (a rename or a hard link changes the inode;
    ``trash_move`` also stamps it with a same-mode chmod for mounts that do not) and any later
    metadata change only moves it later, so a file is never purged early; at worst it stays a
    little longer.
    """
    return entry.st_ctime


def unlink_quietly(path: Path) -> bool:
    """Remove a file if it exists; return whether it did."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
