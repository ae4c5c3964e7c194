"""The job's folder index: each project folder listed once per job, not once per photo."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from photos import storage
from photos.storage import FolderIndex, files_for_basename
from tests.factories import write_file


def folder(project) -> Path:
    from django.conf import settings

    return Path(settings.PHOTOS_ROOT) / project.tenant.slug / project.folder


def visible(path: Path) -> list[str]:
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


@pytest.fixture
def scans(monkeypatch):
    """``os.scandir`` calls per folder (resolved), counted for the whole test."""
    counts: Counter[Path] = Counter()
    real = os.scandir

    def counting(path="."):  # type: ignore[no-untyped-def]
        if not isinstance(path, int):
            counts[Path(path).resolve()] += 1
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    return counts


def scans_of(counts: Counter[Path], project) -> int:
    return counts[folder(project).resolve()]


def mark_changed(path: Path) -> None:
    """Give the folder an mtime no earlier change had, after an outside change.

    On filesystems with coarse timestamps (Linux before 6.13: one jiffy) two changes within
    one tick share an mtime, which the index cannot tell apart (a documented limit); this
    keeps the tests independent of the kernel and filesystem they run on.
    """
    past = os.stat(path).st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(past, past))


def keep_mtime(path: Path):  # type: ignore[no-untyped-def]
    """Put a folder's mtime back after a change, as if nothing had changed it."""
    before = os.stat(path)

    def restore() -> None:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    return restore


# --- the index ----------------------------------------------------------------------------


def test_index_lists_what_files_for_basename_lists(tmp_path):
    for name in (
        "IMG_1.jpg",
        "IMG_1.JPG",
        "IMG_1.jpeg",
        "IMG_1.CR2",
        "IMG_1.png",
        "IMG_1.txt",  # not an accepted type
        "IMG_10.jpg",  # another base name sharing the prefix
        "IMG.1.jpg",  # base name 'IMG.1'
        ".IMG_1.jpg",  # hidden
    ):
        write_file(tmp_path / name, b"x")
    (tmp_path / "IMG_2.jpg").mkdir()  # a directory is no original
    (tmp_path / "IMG_3.jpg").symlink_to(tmp_path / "IMG_10.jpg")  # nor is a symlink
    index = FolderIndex()
    for base in ("IMG_1", "IMG_10", "IMG.1", "IMG_2", "IMG_3", "NONE"):
        got, want = index.files(tmp_path, base), files_for_basename(tmp_path, base)
        assert (sorted(got.jpg), sorted(got.raw), sorted(got.other)) == (
            sorted(want.jpg),
            sorted(want.raw),
            sorted(want.other),
        ), base
    assert sorted(index.files(tmp_path, "IMG_1").jpg) == ["IMG_1.JPG", "IMG_1.jpeg", "IMG_1.jpg"]
    assert index.files(tmp_path, "IMG_1").raw == ["IMG_1.CR2"]
    assert index.scans == 1


def test_a_file_gone_since_the_scan_is_never_returned(tmp_path):
    write_file(tmp_path / "A.jpg", b"x")
    write_file(tmp_path / "A.cr2", b"x")
    index = FolderIndex()
    assert sorted(index.files(tmp_path, "A").all) == ["A.cr2", "A.jpg"]
    restore = keep_mtime(tmp_path)
    (tmp_path / "A.cr2").unlink()
    restore()  # the folder looks unchanged: only the per-name check can notice
    assert index.files(tmp_path, "A").all == ["A.jpg"]
    assert index.scans == 1


def test_a_file_added_by_someone_else_is_seen_at_the_next_lookup(tmp_path):
    write_file(tmp_path / "A.jpg", b"x")
    index = FolderIndex()
    assert index.files(tmp_path, "B").all == []
    write_file(tmp_path / "B.JPG", b"x")
    mark_changed(tmp_path)
    assert index.files(tmp_path, "B").jpg == ["B.JPG"]
    assert index.scans == 2
    assert index.files(tmp_path, "A").jpg == ["A.jpg"]
    assert index.scans == 2


def test_the_jobs_own_changes_are_recorded_without_a_rescan(tmp_path):
    write_file(tmp_path / "A.jpg", b"x")
    write_file(tmp_path / "A.cr2", b"x")
    index = FolderIndex()
    assert len(index.files(tmp_path, "A").all) == 2
    (tmp_path / "A.cr2").rename(tmp_path / "B.cr2")
    index.record(tmp_path, removed=["A.cr2"], added=["B.cr2", "B.jpg", ".hidden.jpg"])
    assert index.files(tmp_path, "A").all == ["A.jpg"]
    assert index.files(tmp_path, "B").all == ["B.cr2"]  # B.jpg was named but never arrived
    assert index.scans == 1


def test_a_missing_folder_lists_nothing_until_it_appears(tmp_path):
    where = tmp_path / "later"
    index = FolderIndex()
    assert index.files(where, "A").all == []
    write_file(where / "A.jpg", b"x")
    assert index.files(where, "A").jpg == ["A.jpg"]


def test_the_index_keeps_a_few_folders_least_recently_used_out(tmp_path):
    index = FolderIndex(max_folders=2)
    folders = [tmp_path / name for name in ("one", "two", "three")]
    for where in folders:
        write_file(where / "A.jpg", b"x")
    for where in folders:
        index.files(where, "A")
    assert index.scans == 3
    index.files(folders[2], "A")
    index.files(folders[1], "A")
    assert index.scans == 3
    index.files(folders[0], "A")  # evicted: listed again
    assert index.scans == 4


def test_originals_without_an_index_scans_each_time(tmp_path, scans):
    write_file(tmp_path / "A.jpg", b"x")
    for _ in range(3):
        assert storage.originals(tmp_path, "A").jpg == ["A.jpg"]
    assert scans[tmp_path.resolve()] == 3
