"""File moves for commit, move and delete: never overwrite, never lose an original.

Every move is a rename inside one filesystem (``os.link`` + ``os.unlink``, else
``os.replace`` after an existence check), so a file is always in its old place, its new place
or, for a moment, both; a worker killed at any instant loses nothing and a rerun finishes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from photos.storage import TRASH_DIR, check_name, split_name, system_dir

# Filesystems without hard links (some network shares) answer with one of these.
_NO_LINK_ERRNOS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


class DestinationExists(FileExistsError):
    """The target name is taken; nothing was moved."""


def move_no_replace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` unless ``dst`` exists (then raise ``DestinationExists``).

    A hard link claims the target atomically, so a file that appears at ``dst`` meanwhile is
    never overwritten. Where links are unsupported, fall back to check-then-rename.
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


def unique_name(folder: Path, name: str) -> str:
    """``name`` if free in ``folder``, else ``<base>~2.<ext>``, ``<base>~3.<ext>`` …"""
    if not os.path.lexists(folder / name):
        return name
    base, ext = split_name(name)
    suffix = f".{ext}" if ext else ""
    n = 2
    while os.path.lexists(folder / f"{base}~{n}{suffix}"):
        n += 1
    return f"{base}~{n}{suffix}"


def trash_move(folder: Path, name: str) -> str | None:
    """Move ``folder/name`` into ``folder/.trash/`` under a free name; return that name.

    Raises ``storage.SystemFolderUnsafe`` when ``.trash`` is a symlink or a file (nothing is
    moved). Returns ``None`` when the file is already gone from the folder (a rerun after a crash:
    the earlier attempt trashed it). The trash TTL counts from trashing, read from the inode
    change time (``photos.reconcile.trashed_at``); the mtime (capture time) is kept.
    """
    src = folder / check_name(name)
    if not os.path.lexists(src):
        return None
    # Refuse a .trash that is a link or a file before anything moves (SystemFolderUnsafe).
    trash = system_dir(folder, TRASH_DIR, create=True)
    for _ in range(100):
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


def unlink_quietly(path: Path) -> bool:
    """Remove a file if it exists; return whether it did."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
