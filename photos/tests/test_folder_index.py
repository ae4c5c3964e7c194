"""The job's folder index: each project folder listed once per job, not once per photo.

The index itself (what it lists, when it lists again), each service with and without one, and
whole tasks over many photos counting the ``os.scandir`` calls on the project folder.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.models import Job, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import storage
from photos.models import DerivativeStatus, Photo
from photos.services import photo_file_removal, photo_move_files, photos_move, project_commit
from photos.services.results import CommitStarted, MoveStarted
from photos.storage import FolderIndex, files_for_basename, project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import jpeg_bytes, make_photo, make_project, write_file


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
    return counts[project_dir(project).resolve()]


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


# --- services with and without an index --------------------------------------------------


@pytest.mark.parametrize("with_index", [True, False], ids=["index", "no-index"])
def test_file_removal_with_and_without_an_index(project, with_index):
    half = make_photo(project, "HALF", raw=True, keep_jpg=False)
    gone = make_photo(project, "GONE", raw=True, keep_jpg=False, keep_raw=False)
    write_file(project_dir(project) / "GONE.JPG", jpeg_bytes())
    index = FolderIndex() if with_index else None
    for photo in (half, gone):
        photo_file_removal(
            tenant_id=project.tenant_id, photo_id=photo.pk, project_id=project.pk, index=index
        )
    assert visible(project_dir(project)) == ["HALF.cr2"]
    assert visible(project_dir(project) / ".trash") == [
        "GONE.JPG",
        "GONE.cr2",
        "GONE.jpg",
        "HALF.jpg",
    ]
    half.refresh_from_db()
    assert (half.jpg_available, half.raw_available, half.ext) == (False, True, "cr2")
    assert not Photo.objects.filter(pk=gone.pk).exists()
    if index is not None:
        assert index.scans == 1
        assert index.files(project_dir(project), "HALF").all == ["HALF.cr2"]
        assert index.files(project_dir(project), "GONE").all == []


def test_file_removal_finds_a_file_that_arrived_after_the_jobs_scan(project):
    first = make_photo(project, "FIRST", keep_jpg=False)
    later = make_photo(project, "LATER", keep_jpg=False, keep_raw=False, write=False)
    Photo.objects.filter(pk=later.pk).update(raw_available=True)
    index = FolderIndex()
    photo_file_removal(tenant_id=project.tenant_id, photo_id=first.pk, index=index)
    # A concurrent move brings LATER's files into the folder after the index listed it.
    write_file(project_dir(project) / "LATER.jpg", jpeg_bytes())
    write_file(project_dir(project) / "LATER.nef", b"raw")
    mark_changed(project_dir(project))
    message, _ = photo_file_removal(tenant_id=project.tenant_id, photo_id=later.pk, index=index)
    assert message.startswith("Trashed 2 file(s)")
    assert visible(project_dir(project) / ".trash") == ["FIRST.jpg", "LATER.jpg", "LATER.nef"]
    assert index.scans == 2


@pytest.mark.parametrize("with_index", [True, False], ids=["index", "no-index"])
def test_move_files_with_and_without_an_index(tenant, project, with_index):
    dest = make_project(tenant, "Destination")
    photos = [make_photo(project, f"M_{i}", raw=True) for i in range(3)]
    index = FolderIndex() if with_index else None
    for photo in photos:
        photo_move_files(
            tenant_id=tenant.pk, photo_id=photo.pk, dest_project_id=dest.pk, index=index
        )
    assert visible(project_dir(project)) == []
    assert visible(project_dir(dest)) == sorted(
        f"M_{i}.{e}" for i in range(3) for e in ("cr2", "jpg")
    )
    assert set(Photo.objects.values_list("project_id", flat=True)) == {dest.pk}
    if index is not None:
        assert index.scans == 2  # the source and the destination, once each
        assert sorted(index.files(project_dir(dest), "M_1").all) == ["M_1.cr2", "M_1.jpg"]
        assert index.files(project_dir(project), "M_1").all == []


def test_move_with_an_index_refuses_a_clash_that_appeared_after_the_scan(tenant, project):
    dest = make_project(tenant, "Destination")
    first = make_photo(project, "IMG_1")
    second = make_photo(project, "IMG_2", raw=True)
    index = FolderIndex()
    photo_move_files(tenant_id=tenant.pk, photo_id=first.pk, dest_project_id=dest.pk, index=index)
    write_file(project_dir(dest) / "IMG_2.JPG", b"dropped in meanwhile")
    mark_changed(project_dir(dest))
    with pytest.raises(ItemFailed, match="already exists"):
        photo_move_files(
            tenant_id=tenant.pk, photo_id=second.pk, dest_project_id=dest.pk, index=index
        )
    assert visible(project_dir(project)) == ["IMG_2.cr2", "IMG_2.jpg"]
    assert visible(project_dir(dest)) == ["IMG_1.jpg", "IMG_2.JPG"]
    assert (project_dir(dest) / "IMG_2.JPG").read_bytes() == b"dropped in meanwhile"


def test_a_failed_move_leaves_the_index_true_to_the_disk(tenant, project):
    dest = make_project(tenant, "Destination")
    photo = make_photo(project, "IMG_1", raw=True)
    # A directory where the RAW should land makes the second rename fail: the JPG goes back.
    (project_dir(dest) / "IMG_1.cr2").mkdir()
    index = FolderIndex()
    with pytest.raises(ItemFailed, match="Nothing was moved"):
        photo_move_files(
            tenant_id=tenant.pk, photo_id=photo.pk, dest_project_id=dest.pk, index=index
        )
    assert sorted(index.files(project_dir(project), "IMG_1").all) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert index.files(project_dir(dest), "IMG_1").all == []
    assert visible(project_dir(project)) == ["IMG_1.cr2", "IMG_1.jpg"]


@pytest.mark.parametrize("with_index", [True, False], ids=["index", "no-index"])
def test_derivatives_with_and_without_an_index(project, with_index):
    photos = [make_photo(project, f"D_{i}") for i in range(3)]
    raw_only = make_photo(project, "R", jpg=False, raw=True)
    index = FolderIndex() if with_index else None
    for photo in photos:
        photo_derivatives_generate(photo=photo, index=index)
    with pytest.raises(ItemSkipped, match="not supported"):
        photo_derivatives_generate(photo=raw_only, index=index)
    assert visible(project_dir(project) / ".thumb") == ["D_0.webp", "D_1.webp", "D_2.webp"]
    assert all(
        p.thumbnail_status == DerivativeStatus.GENERATED
        for p in Photo.objects.filter(pk__in=[p.pk for p in photos])
    )
    if index is not None:
        # The first photo creates .thumb and .preview in the folder: one more listing.
        assert index.scans <= 2


def test_derivatives_with_an_index_see_a_photo_uploaded_during_the_job(project):
    first = make_photo(project, "FIRST")
    index = FolderIndex()
    photo_derivatives_generate(photo=first, index=index)
    late = make_photo(project, "LATE")  # after the index listed the folder
    mark_changed(project_dir(project))
    message = photo_derivatives_generate(photo=late, index=index)
    assert message.startswith("LATE.jpg:")
    late.refresh_from_db()
    assert late.thumbnail_status == DerivativeStatus.GENERATED


# --- whole tasks: a bounded number of scans ----------------------------------------------

MANY = 300


def test_a_commit_over_many_photos_lists_the_folder_a_few_times(user, project, scans):
    for i in range(MANY):
        make_photo(project, f"C_{i:04d}", raw=True, keep_raw=False)
    scans.clear()
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    drain(task_id=started.task_id)
    job = Job.objects.get(task_id=started.task_id, type="file_removal")
    assert job.status == JobStatus.COMPLETED
    assert len(visible(project_dir(project) / ".trash")) == MANY
    assert not Photo.objects.filter(project=project, raw_available=True).exists()
    # file_removal once, then manifest_check, folder_check, manifest_cleaning and the
    # derivatives step (these rows never had derivatives, so it runs), each a listing or two
    # per job: not 2 × 300.
    assert scans_of(scans, project) <= 7, scans


def test_a_move_over_many_photos_lists_each_folder_a_few_times(user, tenant, project, scans):
    dest = make_project(tenant, "Destination")
    photos = [make_photo(project, f"M_{i:04d}", raw=True) for i in range(MANY)]
    scans.clear()
    started = photos_move(
        user=user, items=[{"photo_id": p.pk} for p in photos], dest_project_id=dest.pk
    )
    assert isinstance(started, MoveStarted)
    drain(task_id=started.task_id)
    assert Job.objects.get(task_id=started.task_id, type="image_move_files").status == "completed"
    assert len(visible(project_dir(dest))) == 2 * MANY
    assert visible(project_dir(project)) == []
    # The request (destination), image_move_files and manifest_check (both folders), then
    # generate_derivatives for the moved photos (destination; once more after it creates
    # .thumb and .preview there): not 300 per folder.
    assert scans_of(scans, project) <= 3, scans
    assert scans_of(scans, dest) <= 5, scans


def test_derivatives_over_many_photos_list_the_folder_a_few_times(tenant, project, scans):
    for i in range(MANY):
        make_photo(project, f"D_{i:04d}", thumbnail_status=DerivativeStatus.PENDING)
    scans.clear()
    started = start_task("generate_derivatives", tenant, project=project)
    drain()
    job = Job.objects.get(pk=started["first_job_id"])
    assert job.status == JobStatus.COMPLETED
    assert job.progress_done == 2 * MANY  # every thumbnail, then every preview
    assert len(visible(project_dir(project) / ".thumb")) == MANY
    assert scans_of(scans, project) <= 3, scans


def test_originals_without_an_index_scans_each_time(tmp_path, scans):
    write_file(tmp_path / "A.jpg", b"x")
    for _ in range(3):
        assert storage.originals(tmp_path, "A").jpg == ["A.jpg"]
    assert scans[tmp_path.resolve()] == 3
