"""Per-project reconciliation on real folders: trash, manifest, folder check, cleaning, duplicates."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from jobs.events import EventType
from jobs.models import Event, Job, TaskRun
from photos import fsrules, storage
from photos.fsrules import trash_move
from photos.manifest import manifest_data, manifest_read, manifest_write
from photos.models import Photo
from photos.reconcile import duplicates
from photos.reconcile.arrivals import folder_check
from photos.reconcile.availability import manifest_check
from photos.reconcile.cleaning import manifest_cleaning
from photos.reconcile.duplicates import duplicates_resolve
from photos.reconcile.scan import FolderScan
from photos.reconcile.trash import trash_purge
from tests.factories import jpeg_bytes, make_photo, make_project, write_file

DAY = 24 * 3600


def folder_of(project) -> Path:
    return storage.project_dir(project)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def change_events(since: int = 0) -> list[Event]:
    return list(Event.objects.filter(id__gt=since).exclude(type__startswith="job_"))


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- trash ---------------------------------------------------------------------------------


def trash_file(project, name: str, *, mtime: float | None = None) -> Path:
    """Put a file into the project, then move it to the trash the way file_removal does."""
    folder = folder_of(project)
    path = write_file(folder / name, jpeg_bytes())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    trashed = folder / fsrules.TRASH_DIR / name
    trashed.parent.mkdir(exist_ok=True)
    os.rename(path, trashed)
    return trashed


def test_trash_keeps_file_trashed_just_now_even_if_its_mtime_is_old(project):
    old = time.time() - 30 * DAY
    trashed = trash_file(project, "IMG_OLD.jpg", mtime=old)
    assert trashed.stat().st_mtime == pytest.approx(old)

    # A minute after trashing, with the default 24 h TTL.
    trash_purge(project=project, now=time.time() + 60)

    assert trashed.exists()


def test_trash_purges_file_trashed_longer_ago_than_the_ttl(project):
    trashed = trash_file(project, "IMG_1.jpg")
    kept = trash_file(project, "IMG_2.jpg", mtime=time.time() - 30 * DAY)

    report = trash_purge(project=project, now=trashed.stat().st_ctime + DAY + 1, ttl_seconds=DAY)

    assert not trashed.exists()
    assert not kept.exists()
    assert report.counts["purge"] == 2


def test_trash_purges_by_trash_time_with_a_tiny_ttl(project, settings):
    settings.PIPELINE_TRASH_TTL_SECONDS = 1
    trashed = trash_file(project, "IMG_1.jpg", mtime=time.time() - 30 * DAY)
    trash_purge(project=project)
    assert trashed.exists()
    trash_purge(project=project, now=time.time() + 1.2)
    assert not trashed.exists()


def test_trash_dry_run_reports_and_keeps(project):
    trashed = trash_file(project, "IMG_1.jpg")
    report = trash_purge(project=project, now=time.time() + 2 * DAY, dry_run=True)
    assert trashed.exists()
    assert [c.action for c in report.changes] == ["purge"]


def test_trash_move_keeps_the_trash_time_and_never_overwrites(project):
    folder = folder_of(project)
    for content in (b"first", b"second"):
        path = write_file(folder / "IMG_1.cr2", content)
        os.utime(path, (1_000_000, 1_000_000))
        trash_move(folder, "IMG_1.cr2")
    trash = folder / fsrules.TRASH_DIR
    assert sorted(p.read_bytes() for p in trash.iterdir()) == [b"first", b"second"]
    for path in trash.iterdir():
        stat = path.stat()
        assert stat.st_mtime == 1_000_000  # The file's own time is kept…
        assert fsrules.trashed_at(stat) > time.time() - 60  # …and the trash time is now.
    # Trashed just now, so a purge keeps both although their mtime is decades old.
    trash_purge(project=project)
    assert len(list(trash.iterdir())) == 2


def test_trash_maintenance_never_creates_a_missing_project_folder(tenant):
    project = make_project(tenant, "Gone", create_dir=False)
    trash_purge(project=project, now=time.time() + 10 * DAY)
    assert not folder_of(project).exists()


# --- manifest_check ------------------------------------------------------------------------


def test_manifest_check_writes_missing_manifest_once(project):
    since = last_event_id()
    manifest_check(project=project)
    assert manifest_read(folder_of(project)) == manifest_data(project)
    assert [e.type for e in change_events(since)] == [EventType.MANIFEST_CHANGED]

    since = last_event_id()
    report = manifest_check(project=project)
    assert report.total == 0
    assert change_events(since) == []


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff not yaml: [", b"- just\n- a list\n", b"uid: someone-else\nname: Other\n"],
)
def test_manifest_check_rewrites_unreadable_or_wrong_manifest(project, content):
    (folder_of(project) / storage.MANIFEST_NAME).write_bytes(content)
    manifest_check(project=project)
    assert yaml.safe_load((folder_of(project) / storage.MANIFEST_NAME).read_text()) == (
        manifest_data(project)
    )


def test_manifest_check_rewrites_manifest_after_rename(project):
    manifest_write(folder_of(project), project)
    project.name = "Iceland, the sequel"
    project.save()
    manifest_check(project=project)
    assert manifest_read(folder_of(project))["name"] == "Iceland, the sequel"


def test_manifest_check_updates_availability_and_never_keep_flags(project):
    gone_jpg = make_photo(project, "IMG_1", jpg=True, raw=True)
    culled = make_photo(project, "IMG_2", jpg=True, raw=True, keep_jpg=False)
    new_raw = make_photo(project, "IMG_3", jpg=True)
    folder = folder_of(project)
    (folder / "IMG_1.jpg").unlink()
    (folder / "IMG_2.jpg").unlink()
    write_file(folder / "IMG_3.CR2", b"raw")
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")

    manifest_check(project=project)

    gone_jpg.refresh_from_db()
    assert (gone_jpg.jpg_available, gone_jpg.raw_available) == (False, True)
    assert (gone_jpg.keep_jpg, gone_jpg.keep_raw) == (True, True)
    assert gone_jpg.ext == "cr2"
    culled.refresh_from_db()
    assert (culled.jpg_available, culled.keep_jpg, culled.keep_raw) == (False, False, True)
    new_raw.refresh_from_db()
    assert (new_raw.jpg_available, new_raw.raw_available) == (True, True)
    assert (new_raw.keep_jpg, new_raw.keep_raw) == (True, False)
    item_events = Event.objects.filter(type=EventType.ITEM, photo=gone_jpg)
    assert item_events.get().payload["changes"] == {"jpg_available": False, "ext": "cr2"}


def test_manifest_check_queues_derivatives_when_an_image_arrives(project):
    raw_only = make_photo(
        project,
        "IMG_1",
        jpg=False,
        raw=True,
        thumbnail_status="not_supported",
        preview_status="not_supported",
    )
    untouched = make_photo(project, "IMG_2", thumbnail_status="generated")
    write_file(folder_of(project) / "IMG_1.JPG", jpeg_bytes())
    write_file(folder_of(project) / "IMG_2.png", b"png")  # The JPG stays the source.
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")

    manifest_check(project=project)

    raw_only.refresh_from_db()
    assert (raw_only.jpg_available, raw_only.keep_jpg, raw_only.ext) == (True, False, "jpg")
    assert (raw_only.thumbnail_status, raw_only.preview_status) == ("pending", "pending")
    untouched.refresh_from_db()
    assert (untouched.other_available, untouched.thumbnail_status) == (True, "generated")
    task = TaskRun.objects.get(type="upload_postprocess")
    assert list(Job.objects.get(task=task).items.values_list("photo_id", flat=True)) == [
        raw_only.pk
    ]


def test_manifest_check_pages_through_rows_in_chunks(project, settings):
    settings.PIPELINE_MANIFEST_CHUNK = 3
    photos = [make_photo(project, f"IMG_{i:02d}") for i in range(10)]
    for photo in photos[::2]:
        (folder_of(project) / f"{photo.basename}.jpg").unlink()
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")

    report = manifest_check(project=project)

    assert report.counts["update_availability"] == 5
    assert sorted(Photo.objects.filter(jpg_available=False).values_list("basename", flat=True)) == [
        p.basename for p in photos[::2]
    ]


def test_manifest_check_leaves_rows_changed_during_the_scan(project, monkeypatch):
    photo = make_photo(project, "IMG_1")
    (folder_of(project) / "IMG_1.jpg").unlink()
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    scan_of = FolderScan.of

    def scan_while_a_commit_updates_the_row(folder):
        scan = scan_of(folder)
        Photo.objects.filter(pk=photo.pk).update(updated_at=timezone.now())
        return scan

    monkeypatch.setattr(FolderScan, "of", scan_while_a_commit_updates_the_row)
    manifest_check(project=project)
    photo.refresh_from_db()
    assert photo.jpg_available  # Left for the next run…

    monkeypatch.setattr(FolderScan, "of", scan_of)
    manifest_check(project=project)
    photo.refresh_from_db()
    assert not photo.jpg_available  # …which fixes it.


def test_manifest_check_dry_run_changes_nothing(project):
    make_photo(project, "IMG_1")
    (folder_of(project) / "IMG_1.jpg").unlink()
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    since = last_event_id()

    report = manifest_check(project=project, dry_run=True)

    assert {c.action for c in report.changes} == {"write_manifest", "update_availability"}
    assert not (folder_of(project) / storage.MANIFEST_NAME).exists()
    assert Photo.objects.get().jpg_available
    assert change_events(since) == []


def test_reconcile_leaves_a_folder_carrying_another_projects_manifest_alone(tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(second, "IMG_1")
    manifest_write(folder_of(first), first)
    # Folders swapped on disk by hand: Second's folder now holds First's manifest.
    manifest_write(folder_of(second), first)
    (folder_of(second) / "IMG_1.jpg").unlink()
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")

    for step in (manifest_check, folder_check, manifest_cleaning):
        report = step(project=second)
        assert report.counts["skipped_manifest_conflict"] == 1

    assert manifest_read(folder_of(second))["uid"] == str(first.uid)
    assert Photo.objects.get(project=second).jpg_available


# --- folder_check --------------------------------------------------------------------------


def test_folder_check_creates_rows_for_new_files_and_starts_postprocess(project):
    folder = folder_of(project)
    make_photo(project, "IMG_0")
    write_file(folder / "IMG_1.JPG", jpeg_bytes())
    write_file(folder / "IMG_1.cr2", b"raw")
    write_file(folder / "IMG_2.nef", b"raw")
    write_file(folder / "scan.png", b"png")

    folder_check(project=project)

    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert sorted(rows) == ["IMG_0", "IMG_1", "IMG_2", "scan"]
    one = rows["IMG_1"]
    assert (one.jpg_available, one.raw_available, one.keep_jpg, one.keep_raw) == (
        True,
        True,
        True,
        True,
    )
    assert one.ext == "jpg"
    assert (rows["IMG_2"].ext, rows["IMG_2"].keep_jpg, rows["IMG_2"].keep_raw) == (
        "nef",
        False,
        True,
    )
    assert rows["scan"].other_available
    task = TaskRun.objects.get(type="upload_postprocess")
    assert task.project == project
    items = set(Job.objects.get(task=task).items.values_list("photo__basename", flat=True))
    assert items == {"IMG_1", "IMG_2", "scan"}


def test_folder_check_reports_unaccepted_files_and_moves_nothing(project):
    folder = folder_of(project)
    manifest_write(folder, project)
    write_file(folder / ".DS_Store", b"finder")
    write_file(folder / "notes.txt", b"the client's notes")
    write_file(folder / "IMG_1", b"no extension")
    write_file(folder / ".thumb" / "IMG_9.webp", b"thumb")
    write_file(folder / ".thumb" / "notes.txt", b"not a derivative")
    write_file(folder / "extras" / "readme.txt", b"a sub-folder is the user's")
    before = tree(folder)

    folder_check(project=project)

    # Only the derivative of no photo goes (a stray, test_derivative_repair.py); every file
    # of the user's stays.
    del before[".thumb/IMG_9.webp"]
    assert tree(folder) == before
    assert not (folder / ".trash").exists()
    project.refresh_from_db()
    assert project.unaccepted_files == 2
    event = Event.objects.get(type="unaccepted_files", project=project)
    assert event.payload == {"project_id": project.pk, "count": 2, "files": ["IMG_1", "notes.txt"]}
    assert not Photo.objects.exists()
    assert not TaskRun.objects.exists()  # Nothing new: no post-processing started.

    # The count follows the folder: once the user tidies up, it goes back to zero.
    (folder / "notes.txt").unlink()
    (folder / "IMG_1").unlink()
    folder_check(project=project)
    project.refresh_from_db()
    assert project.unaccepted_files == 0
    assert Event.objects.filter(type="unaccepted_files", project=project).count() == 2


def test_folder_check_is_idempotent(project):
    write_file(folder_of(project) / "IMG_1.jpg", jpeg_bytes())
    write_file(folder_of(project) / "junk.doc", b"x")
    folder_check(project=project)
    since = last_event_id()
    report = folder_check(project=project)
    assert report.total == 0
    assert change_events(since) == []
    assert TaskRun.objects.count() == 1


def test_folder_check_chunks_postprocess_past_2000_photos(project):
    folder = folder_of(project)
    for i in range(2001):
        (folder / f"IMG_{i:05d}.jpg").touch()
    folder_check(project=project)
    assert Photo.objects.filter(project=project).count() == 2001
    task = TaskRun.objects.get(type="upload_postprocess")
    assert sorted(Job.objects.filter(task=task).values_list("total_chunks", flat=True)) == [2, 2]
    assert sum(job.items.count() for job in Job.objects.filter(task=task)) == 2001


def test_folder_check_dry_run_changes_nothing(project):
    folder = folder_of(project)
    write_file(folder / "IMG_1.jpg", jpeg_bytes())
    write_file(folder / "notes.txt", b"x")
    before = tree(folder)
    report = folder_check(project=project, dry_run=True)
    assert sorted((c.action, c.target) for c in report.changes) == [
        ("create_row", "IMG_1"),
        ("unaccepted_files", "1"),
    ]
    assert tree(folder) == before
    assert not Photo.objects.exists()
    assert not TaskRun.objects.exists()


# --- manifest_cleaning ---------------------------------------------------------------------


def test_manifest_cleaning_deletes_rows_without_files_and_keeps_png_only_photo(project):
    folder = folder_of(project)
    gone = make_photo(project, "IMG_GONE")
    (folder / "IMG_GONE.jpg").unlink()
    png = make_photo(project, "PNG_ONLY", jpg=False, write=False, other_available=True)
    write_file(folder / "PNG_ONLY.png", b"png")
    raw_only = make_photo(project, "RAW_ONLY", jpg=False, raw=True)
    keeper = make_photo(project, "IMG_OK")
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    since = last_event_id()

    manifest_cleaning(project=project)

    assert set(Photo.objects.values_list("pk", flat=True)) == {png.pk, raw_only.pk, keeper.pk}
    removed = Event.objects.get(id__gt=since, type=EventType.ITEM_REMOVED)
    assert removed.payload["photo_id"] == gone.pk
    assert removed.payload["basename"] == "IMG_GONE"


def test_manifest_cleaning_removes_the_derivatives_of_deleted_rows(project):
    folder = folder_of(project)
    make_photo(project, "IMG_GONE", write=False)
    make_photo(project, "IMG_OK")
    for base in ("IMG_GONE", "IMG_OK"):
        write_file(storage.thumbnail_path(project, base), b"thumb")
        write_file(storage.preview_path(project, base), b"preview")
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")

    manifest_cleaning(project=project)

    assert sorted(os.listdir(folder / ".thumb")) == ["IMG_OK.webp"]
    assert sorted(os.listdir(folder / ".preview")) == ["IMG_OK.webp"]


def test_png_only_photo_survives_manifest_check_then_cleaning(project):
    make_photo(project, "PNG_ONLY", jpg=False, write=False)  # Flags say nothing is there.
    write_file(folder_of(project) / "PNG_ONLY.png", b"png")
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    manifest_check(project=project)
    manifest_cleaning(project=project)
    photo = Photo.objects.get()
    assert photo.other_available
    assert (photo.jpg_available, photo.raw_available) == (False, False)


def test_manifest_cleaning_keeps_rows_of_a_missing_folder(tenant):
    project = make_project(tenant, "Unplugged")
    make_photo(project, "IMG_1", write=False)
    folder_of(project).rmdir()
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    report = manifest_cleaning(project=project)
    assert Photo.objects.count() == 1
    assert report.counts["skipped_folder_missing"] == 1


def test_manifest_cleaning_keeps_rows_created_during_the_run(project, monkeypatch):
    scan_of = FolderScan.of

    def scan_while_an_upload_lands(folder):
        scan = scan_of(folder)
        # The upload writes its file after our scan, then creates its row.
        make_photo(project, "IMG_UPLOADING")
        return scan

    monkeypatch.setattr(FolderScan, "of", scan_while_an_upload_lands)
    manifest_cleaning(project=project)
    assert Photo.objects.get().basename == "IMG_UPLOADING"


def test_manifest_cleaning_confirms_a_candidate_before_deleting_it(project, monkeypatch):
    make_photo(project, "IMG_MOVED_IN", write=False)
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    scan_of = FolderScan.of

    def scan_then_file_arrives(folder):
        scan = scan_of(folder)
        write_file(folder / "IMG_MOVED_IN.jpg", jpeg_bytes())
        return scan

    monkeypatch.setattr(FolderScan, "of", scan_then_file_arrives)
    manifest_cleaning(project=project)
    assert Photo.objects.count() == 1


def test_manifest_cleaning_dry_run_changes_nothing(project):
    make_photo(project, "IMG_GONE", write=False)
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    report = manifest_cleaning(project=project, dry_run=True)
    assert report.counts["delete_row"] == 1
    assert Photo.objects.count() == 1


# --- duplicate_resolution ------------------------------------------------------------------


def test_duplicates_become_duplicate1_then_duplicate2(tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(first, "IMG_1", raw=True)
    folder = folder_of(second)
    write_file(folder / "IMG_1.JPG", jpeg_bytes(color=(1, 2, 3)))
    write_file(folder / "IMG_1.cr2", b"raw one")

    duplicates_resolve(project=second)

    assert sorted(os.listdir(folder)) == ["IMG_1_duplicate1.JPG", "IMG_1_duplicate1.cr2"]
    row = Photo.objects.get(project=second)
    assert (row.basename, row.jpg_available, row.raw_available) == ("IMG_1_duplicate1", True, True)
    assert TaskRun.objects.filter(type="upload_postprocess", project=second).count() == 1

    write_file(folder / "IMG_1.jpg", jpeg_bytes(color=(4, 5, 6)))
    duplicates_resolve(project=second)

    assert sorted(os.listdir(folder)) == [
        "IMG_1_duplicate1.JPG",
        "IMG_1_duplicate1.cr2",
        "IMG_1_duplicate2.jpg",
    ]
    assert sorted(Photo.objects.filter(project=second).values_list("basename", flat=True)) == [
        "IMG_1_duplicate1",
        "IMG_1_duplicate2",
    ]
    # The original project is untouched.
    assert sorted(os.listdir(folder_of(first))) == ["IMG_1.cr2", "IMG_1.jpg"]


def test_a_failed_duplicate_rename_is_undone(tenant, monkeypatch):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(first, "IMG_1")
    folder = folder_of(second)
    write_file(folder / "IMG_1.jpg", jpeg_bytes())
    write_file(folder / "IMG_1.cr2", b"raw")
    move = duplicates.move_no_replace
    calls = []

    def second_move_fails(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise FileExistsError(target)  # A file appeared at the target meanwhile.
        move(source, target)

    monkeypatch.setattr(duplicates, "move_no_replace", second_move_fails)
    report = duplicates_resolve(project=second)

    assert sorted(os.listdir(folder)) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert report.counts["error"] == 1
    assert not Photo.objects.filter(project=second).exists()


def test_duplicate_skips_a_free_looking_n_taken_by_a_row_elsewhere(tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(first, "IMG_1")
    make_photo(first, "IMG_1_duplicate1")
    write_file(folder_of(second) / "IMG_1.jpg", jpeg_bytes())
    duplicates_resolve(project=second)
    assert os.listdir(folder_of(second)) == ["IMG_1_duplicate2.jpg"]


def test_duplicate_resolution_leaves_ingested_photos_and_other_tenants_alone(tenant, other_tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    foreign = make_project(other_tenant, "Foreign")
    make_photo(first, "IMG_1")
    make_photo(second, "IMG_1")  # Already this project's photo: never renamed.
    make_photo(foreign, "IMG_2")
    write_file(folder_of(second) / "IMG_2.jpg", jpeg_bytes())  # Same name, other tenant.

    report = duplicates_resolve(project=second)

    assert report.total == 0
    assert sorted(os.listdir(folder_of(second))) == ["IMG_1.jpg", "IMG_2.jpg"]


def test_folder_check_resolves_duplicates_before_ingesting(tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(first, "IMG_1")
    write_file(folder_of(second) / "IMG_1.jpg", jpeg_bytes())
    write_file(folder_of(second) / "IMG_2.jpg", jpeg_bytes())

    folder_check(project=second)

    assert sorted(Photo.objects.filter(project=second).values_list("basename", flat=True)) == [
        "IMG_1_duplicate1",
        "IMG_2",
    ]


def test_duplicate_dry_run_plans_successive_numbers_and_changes_nothing(tenant):
    first = make_project(tenant, "First")
    second = make_project(tenant, "Second")
    make_photo(first, "IMG_1")
    make_photo(first, "IMG_1_duplicate1")
    write_file(folder_of(second) / "IMG_1.jpg", jpeg_bytes())
    before = tree(folder_of(second))

    report = duplicates_resolve(project=second, dry_run=True)

    assert [(c.action, c.target) for c in report.changes] == [
        ("rename_duplicate", "IMG_1"),
        ("create_row", "IMG_1_duplicate2"),
    ]
    assert tree(folder_of(second)) == before
    assert not Photo.objects.filter(project=second).exists()


# --- the scan ------------------------------------------------------------------------------


def test_folder_scan_matches_storage_scan(project):
    folder = folder_of(project)
    for name in ["A.JPG", "A.jpg", "A.cr2", "B.NEF", "B.png", "C.tif", "D.CR3", "x.txt", ".h.jpg"]:
        write_file(folder / name, b"x")
    os.symlink(folder / "A.jpg", folder / "L.jpg")
    groups = {b: f for b, f in storage.folder_files(folder).items() if f.all}
    rejected = [
        e.name
        for e in storage.folder_entries(folder)
        if e.kind in (storage.EntryKind.SIDECAR, storage.EntryKind.UNACCEPTED)
    ]
    listing = FolderScan.of(folder)
    assert sorted(listing.bases()) == sorted(groups)
    assert listing.rejected == rejected == ["x.txt"]
    for base, files in groups.items():
        assert listing.ext(base) == files.ext
        bits = listing.bits(base)
        assert (bool(bits & 1), bool(bits & 2), bool(bits & 4)) == (
            bool(files.jpg),
            bool(files.raw),
            bool(files.other),
        )
