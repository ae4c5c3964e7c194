"""``folder_check`` repairs derivative statuses from the disk and removes stray derivatives
(issue 20 item 10: what a move racing derivative generation left behind)."""

from __future__ import annotations

import os

from PIL import Image

from jobs.models import TaskRun
from photos.models import Photo
from photos.reconcile.arrivals import folder_check
from photos.storage import project_dir
from tests.factories import jpeg_bytes, make_photo, write_file


def derivative(project, basename: str, *, age: float = 0.0) -> None:
    """A real thumbnail and preview of ``basename``, ``age`` seconds older than now."""
    for sub in (".thumb", ".preview"):
        path = project_dir(project) / sub / f"{basename}.webp"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (8, 6), (10, 20, 30)).save(path, "WEBP")
        if age:
            stat = path.stat()
            os.utime(path, (stat.st_atime - age, stat.st_mtime - age))


def statuses(photo) -> tuple[str, str]:
    photo.refresh_from_db()
    return photo.thumbnail_status, photo.preview_status


def test_folder_check_sets_statuses_from_the_derivatives_on_disk(project):
    # What a derivative job that raced a move left: "missing" though the files are there.
    moved = make_photo(
        project, "MOVED", thumbnail_status="missing", preview_status="missing", width=64
    )
    derivative(project, "MOVED")
    # "generated" whose files were deleted, and "missing" with its original back.
    lost = make_photo(project, "LOST", thumbnail_status="generated", preview_status="generated")
    back = make_photo(project, "BACK", thumbnail_status="missing", preview_status="missing")
    # A derivative older than its original is not its derivative.
    stale = make_photo(project, "STALE", thumbnail_status="generated", preview_status="pending")
    derivative(project, "STALE", age=3600)
    # Never changed: a verdict on the original, and a photo up to date.
    failed = make_photo(project, "BROKEN", thumbnail_status="failed", preview_status="failed")
    fine = make_photo(project, "FINE", thumbnail_status="generated", preview_status="generated")
    derivative(project, "FINE")

    report = folder_check(project=project, followup=False)

    assert statuses(moved) == ("generated", "generated")
    assert statuses(lost) == ("pending", "pending")
    assert statuses(back) == ("pending", "pending")
    assert statuses(stale) == ("pending", "pending")
    assert statuses(failed) == ("failed", "failed")
    assert statuses(fine) == ("generated", "generated")
    repaired = {c.target for c in report.changes if c.action == "repair_derivative_status"}
    assert repaired == {"MOVED", "LOST", "BACK", "STALE"}
    # Converges: a second run finds nothing to repair.
    again = folder_check(project=project, followup=False)
    assert [c for c in again.changes if c.action == "repair_derivative_status"] == []


def test_derivatives_present_for_a_row_never_read_are_left_to_a_job_to_adopt(project):
    photo = make_photo(project, "IMG_1", thumbnail_status="missing", preview_status="missing")
    derivative(project, "IMG_1")
    folder_check(project=project)
    # pending, and a job started for it: it adopts the files and reads the EXIF.
    assert statuses(photo) == ("pending", "pending")
    run = TaskRun.objects.get(type="upload_postprocess")
    assert run.project_id == project.pk


def test_folder_check_removes_derivatives_of_no_photo_and_nothing_else(project):
    derivative(project, "GONE")  # left by a job that wrote after its photo moved away
    kept_row = make_photo(project, "ROW_NO_FILE", write=False)  # manifest_cleaning's business
    derivative(project, "ROW_NO_FILE")
    write_file(project_dir(project) / "NEW.jpg", jpeg_bytes())  # arrives with its derivatives
    derivative(project, "NEW")
    write_file(project_dir(project) / ".thumb" / "notes.txt", b"not ours")
    write_file(project_dir(project) / "GONE.xmp", b"<x/>")  # a sidecar of no photo: the user's

    report = folder_check(project=project, followup=False)

    thumbs = sorted(p.name for p in (project_dir(project) / ".thumb").iterdir())
    previews = sorted(p.name for p in (project_dir(project) / ".preview").iterdir())
    assert thumbs == ["NEW.webp", "ROW_NO_FILE.webp", "notes.txt"]
    assert previews == ["NEW.webp", "ROW_NO_FILE.webp"]
    assert (project_dir(project) / "GONE.xmp").is_file()
    assert (project_dir(project) / "NEW.jpg").is_file()
    assert Photo.objects.filter(pk=kept_row.pk).exists()
    removed = {c.target for c in report.changes if c.action == "remove_stray_derivative"}
    assert removed == {".thumb/GONE.webp", ".preview/GONE.webp"}


def test_a_dry_run_reports_the_repairs_and_changes_nothing(project):
    photo = make_photo(project, "IMG_1", thumbnail_status="generated", preview_status="generated")
    derivative(project, "GONE")
    report = folder_check(project=project, dry_run=True)
    actions = sorted(c.action for c in report.changes)
    assert actions == [
        "remove_stray_derivative",
        "remove_stray_derivative",
        "repair_derivative_status",
    ]
    assert statuses(photo) == ("generated", "generated")
    assert (project_dir(project) / ".thumb" / "GONE.webp").is_file()
