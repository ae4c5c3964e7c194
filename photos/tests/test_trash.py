"""The trash and undoing a commit (SPEC §3 ``trashed_at``, §4 sidecars, §6 purge, §9 restore).

Commits run through the real pipeline (``drain``) on real files in a temporary PHOTOS_ROOT.
"""

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from core.errors import NoValidItems, PayloadTooLarge
from jobs.models import Event, Job, JobItem
from jobs.runtime import drain
from photos.models import DerivativeStatus, Label, Photo, ProjectPhotoCounts, Tag, TrashedFile
from photos.reconcile import cleaning, trash
from photos.services import pending_totals, photos_commit, photos_keep_update
from photos.services.restore import (
    RestoreStarted,
    photo_restore_files,
    photos_restore,
    project_trash_queryset,
    trash_entries,
)
from photos.services.results import DryRunReport
from photos.storage import project_dir
from tests.factories import make_photo, write_file
from tests.urls import api_path


def with_derivatives(project, basename: str) -> tuple[Path, Path]:
    paths = (
        project_dir(project) / ".thumb" / f"{basename}.webp",
        project_dir(project) / ".preview" / f"{basename}.webp",
    )
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (8, 6), (10, 20, 30)).save(path, "WEBP", quality=50)
    Photo.objects.filter(project=project, basename=basename).update(
        thumbnail_status=DerivativeStatus.GENERATED, preview_status=DerivativeStatus.GENERATED
    )
    return paths


def discard_and_commit(user, photos, *, jpg=True, raw=True) -> str:
    items = [{"photo_id": p.pk} for p in photos]
    if jpg:
        items = [{**i, "keep_jpg": False} for i in items]
    if raw:
        items = [{**i, "keep_raw": False} for i in items]
    photos_keep_update(user=user, items=items)
    started = photos_commit(user=user)
    drain()
    return started.task_id


def restore(user, photos) -> RestoreStarted:
    started = photos_restore(user=user, items=[{"photo_id": p.pk} for p in photos])
    assert isinstance(started, RestoreStarted)
    drain()
    return started


def restore_items(task_id: str) -> list[JobItem]:
    return list(JobItem.objects.filter(job__task_id=task_id, job__type="photo_restore"))


def tagged(photo, *names):
    for name in names:
        tag, _ = Tag.objects.get_or_create(project=photo.project, name=name)
        photo.tags.add(tag)


# --- commit keeps the row, trashed --------------------------------------------------------


def test_commit_trashes_the_row_instead_of_deleting_it_and_records_its_files(user, project):
    photo = make_photo(project, "IMG_1", raw=True, rating=4, label=Label.GREEN)
    write_file(project_dir(project) / "IMG_1.xmp", b"<x/>")
    thumb, preview = with_derivatives(project, "IMG_1")
    discard_and_commit(user, [photo])

    row = Photo.all_objects.get(pk=photo.pk)
    assert row.trashed_at is not None
    assert (row.jpg_available, row.raw_available, row.keep_jpg, row.keep_raw) == (
        False,
        False,
        False,
        False,
    )
    assert not Photo.objects.filter(pk=photo.pk).exists()
    records = sorted(TrashedFile.objects.filter(photo=row).values_list("name", "trash_name"))
    assert records == [
        ("IMG_1.cr2", "IMG_1.cr2"),
        ("IMG_1.jpg", "IMG_1.jpg"),
        ("IMG_1.xmp", "IMG_1.xmp"),
    ]
    # The derivatives stay until the purge, so the trash can show the photo.
    assert thumb.is_file()
    assert preview.is_file()
    removed = Event.objects.get(type="item_removed", photo_id=photo.pk)
    assert removed.payload["reason"] == "trashed"


def test_trashed_rows_are_hidden_from_lists_counts_and_pending_totals(user, project, api_client):
    keep = make_photo(project, "KEEP")
    gone = make_photo(project, "GONE")
    discard_and_commit(user, [gone])

    assert list(Photo.objects.filter(project=project)) == [keep]
    assert list(project.photos.all()) == [keep]
    assert ProjectPhotoCounts.objects.get(project=project).photo_count == 1
    assert pending_totals([project.pk])[project.pk]["photos"] == 0
    listed = api_client.get(api_path("photo-list"), {"project": project.pk}).json()["results"]
    assert [p["id"] for p in listed] == [keep.pk]
    assert api_client.get(api_path("photo-detail", pk=gone.pk)).status_code == 404
    projects = api_client.get(api_path("project-list")).json()["results"]
    assert [p.get("photo_count") for p in projects if p["id"] == project.pk] == [1]


def test_a_new_photo_may_take_a_trashed_photos_name_then_restoring_it_is_an_item_error(
    user, project
):
    photo = make_photo(project, "IMG_1")
    tagged(photo, "bride")
    discard_and_commit(user, [photo])
    newcomer = make_photo(project, "IMG_1")  # an upload of the same name: a new live row

    result = photos_restore(user=user, items=[{"photo_id": photo.pk}], dry_run=True)
    assert isinstance(result, DryRunReport)
    assert "already exists" in result.errors[0]["error"]
    with pytest.raises(NoValidItems):
        photos_restore(user=user, items=[{"photo_id": photo.pk}])
    assert (project_dir(project) / ".trash" / "IMG_1.jpg").is_file()
    assert Photo.objects.get(project=project, basename="IMG_1") == newcomer


def test_manifest_cleaning_never_deletes_a_trashed_row(user, project):
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    cleaning.manifest_cleaning(project=project)
    assert Photo.all_objects.filter(pk=photo.pk).exists()


# --- restore ------------------------------------------------------------------------------


def test_restore_brings_back_the_same_row_with_tags_rating_label_and_sidecars(user, project):
    photo = make_photo(project, "IMG_1", raw=True, rating=4, label=Label.GREEN)
    write_file(project_dir(project) / "IMG_1.CR2.xmp", b"<x/>")
    tagged(photo, "bride", "ceremony")
    thumb, _ = with_derivatives(project, "IMG_1")
    jpg_bytes = (project_dir(project) / "IMG_1.jpg").read_bytes()
    discard_and_commit(user, [photo])

    started = restore(user, [photo])

    row = Photo.objects.get(pk=photo.pk)
    assert row.trashed_at is None
    assert (row.rating, row.label) == (4, Label.GREEN)
    assert sorted(t.name for t in row.tags.all()) == ["bride", "ceremony"]
    assert (row.jpg_available, row.raw_available, row.keep_jpg, row.keep_raw) == (
        True,
        True,
        True,
        True,
    )
    assert (project_dir(project) / "IMG_1.jpg").read_bytes() == jpg_bytes
    assert (project_dir(project) / "IMG_1.cr2").is_file()
    assert (project_dir(project) / "IMG_1.CR2.xmp").read_bytes() == b"<x/>"
    assert list((project_dir(project) / ".trash").iterdir()) == []
    assert not TrashedFile.objects.exists()
    assert thumb.is_file()
    assert row.thumbnail_status == DerivativeStatus.GENERATED  # nothing to remake
    assert [i.status for i in restore_items(started.task_id)] == ["done"]
    assert Job.objects.get(task_id=started.task_id, type="photo_restore").status == "completed"
    assert ProjectPhotoCounts.objects.get(project=project).photo_count == 1
    event = Event.objects.filter(type="item", photo_id=photo.pk).latest("id")
    assert event.payload["trashed_at"] is None
    assert sorted(event.payload["restored"]) == ["IMG_1.CR2.xmp", "IMG_1.cr2", "IMG_1.jpg"]


def test_restore_uses_the_trash_name_a_clash_in_the_trash_gave(user, project):
    (project_dir(project) / ".trash").mkdir(parents=True, exist_ok=True)
    write_file(project_dir(project) / ".trash" / "IMG_1.jpg", b"an older trashed file")
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    assert TrashedFile.objects.get(photo=photo).trash_name == "IMG_1~2.jpg"

    restore(user, [photo])

    assert (project_dir(project) / "IMG_1.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert (project_dir(project) / ".trash" / "IMG_1.jpg").read_bytes() == b"an older trashed file"


def test_a_name_taken_on_disk_fails_the_item_and_nothing_is_overwritten_or_moved(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    discard_and_commit(user, [photo])
    started = photos_restore(user=user, items=[{"photo_id": photo.pk}])
    # A stranger's file of that name arrives before the task runs (not a photo row yet).
    write_file(project_dir(project) / "IMG_1.cr2", b"someone else's raw")
    drain()

    (item,) = restore_items(started.task_id)
    assert item.status == "failed"
    assert "IMG_1.cr2" in item.message
    assert (project_dir(project) / "IMG_1.cr2").read_bytes() == b"someone else's raw"
    assert not (project_dir(project) / "IMG_1.jpg").exists()  # nothing of the photo moved
    assert sorted(p.name for p in (project_dir(project) / ".trash").iterdir()) == [
        "IMG_1.cr2",
        "IMG_1.jpg",
    ]
    assert Photo.all_objects.get(pk=photo.pk).trashed_at is not None


def test_a_live_photo_created_after_the_request_fails_the_item(user, project):
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    started = photos_restore(user=user, items=[{"photo_id": photo.pk}])
    make_photo(project, "IMG_1", write=False)
    drain()
    (item,) = restore_items(started.task_id)
    assert item.status == "failed"
    assert "already exists" in item.message
    assert (project_dir(project) / ".trash" / "IMG_1.jpg").is_file()


def test_partial_trash_restore_puts_the_jpg_back_and_keeps_it(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    with_derivatives(project, "IMG_1")
    discard_and_commit(user, [photo], raw=False)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.jpg_available, row.raw_available, row.trashed_at) == (False, True, None)
    assert TrashedFile.objects.filter(photo=row).count() == 1
    assert list(Photo.all_objects.restorable()) == [row]

    started = restore(user, [photo])

    row.refresh_from_db()
    assert (row.jpg_available, row.keep_jpg, row.raw_available, row.keep_raw) == (
        True,
        True,
        True,
        True,
    )
    assert (project_dir(project) / "IMG_1.jpg").is_file()
    assert not TrashedFile.objects.exists()
    # The derivatives were made from the RAW meanwhile: remade from the restored JPG.
    steps = list(
        Job.objects.filter(task_id=started.task_id).order_by("id").values_list("type", flat=True)
    )
    assert steps == ["photo_restore", "generate_derivatives"]


def test_restore_is_idempotent_and_resumes_after_files_moved_but_before_the_row(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    discard_and_commit(user, [photo])
    names: list[str] = []
    # The files go back, then the worker dies before the row is written: simulate by
    # moving them with the plan recorded and no row change.
    trash_dir = project_dir(project) / ".trash"
    for record in TrashedFile.objects.filter(photo=photo):
        os.rename(trash_dir / record.trash_name, project_dir(project) / record.name)
        names.append(record.name)

    message = photo_restore_files(tenant_id=project.tenant_id, photo_id=photo.pk, journal=names)

    assert message == "Restored 2 file(s)."
    assert Photo.objects.get(pk=photo.pk).raw_available
    # Once more: nothing left to do, nothing fails.
    again = photo_restore_files(tenant_id=project.tenant_id, photo_id=photo.pk)
    assert again == "Nothing in the trash: already restored."


def test_without_the_journal_a_file_back_in_the_folder_is_a_name_taken(user, project):
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    record = TrashedFile.objects.get(photo=photo)
    os.rename(
        project_dir(project) / ".trash" / record.trash_name, project_dir(project) / record.name
    )
    from jobs.exceptions import ItemFailed

    with pytest.raises(ItemFailed, match="already exists"):
        photo_restore_files(tenant_id=project.tenant_id, photo_id=photo.pk)


def test_restore_request_errors_per_item(user, project, other_project):
    live = make_photo(project, "LIVE")
    gone = make_photo(project, "GONE")
    foreign = make_photo(other_project, "FOREIGN")
    discard_and_commit(user, [gone])

    result = photos_restore(
        user=user,
        items=[
            {"photo_id": gone.pk},
            {"photo_id": live.pk},
            {"photo_id": foreign.pk},
            {"photo_id": "x"},
            {},
        ],
        dry_run=True,
    )
    assert isinstance(result, DryRunReport)
    assert result.per_item[0] == {"photo_id": gone.pk, "would_restore": True}
    assert [e["error"] for e in result.errors] == [
        "The photo has no file in the trash.",
        "Photo not found.",
        "photo_id must be an integer.",
        "photo_id is required.",
    ]
    assert not Job.objects.filter(type="photo_restore").exists()
    with pytest.raises(PayloadTooLarge):
        photos_restore(user=user, items=[{"photo_id": 1}] * 2001)


# --- purge --------------------------------------------------------------------------------


def test_purge_deletes_the_trashed_row_only_with_its_files(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    thumb, _ = with_derivatives(project, "IMG_1")
    discard_and_commit(user, [photo])

    trash.trash_purge(project=project, ttl_seconds=3600)  # nothing due yet
    assert Photo.all_objects.filter(pk=photo.pk).exists()
    assert TrashedFile.objects.filter(photo_id=photo.pk).count() == 2

    trash.trash_purge(project=project, ttl_seconds=0, now=time.time() + 5)
    assert list((project_dir(project) / ".trash").iterdir()) == []
    assert not Photo.all_objects.filter(pk=photo.pk).exists()
    assert not TrashedFile.objects.exists()
    assert not thumb.exists()
    assert Event.objects.filter(type="item_removed", payload__reason="purged").count() == 1


def test_purge_keeps_a_row_whose_files_are_still_in_the_trash(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    discard_and_commit(user, [photo])
    # The row is older than the TTL, but its files were trashed later (stamped now): they
    # are not due, and the row stays with them.
    Photo.all_objects.filter(pk=photo.pk).update(
        trashed_at=Photo.all_objects.get(pk=photo.pk).trashed_at.replace(year=2000)
    )
    trash.trash_purge(project=project, ttl_seconds=3600)
    assert Photo.all_objects.filter(pk=photo.pk).exists()


def test_purge_keeps_the_derivatives_a_live_photo_of_the_same_name_took_over(user, project):
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    make_photo(project, "IMG_1")
    thumb, _ = with_derivatives(project, "IMG_1")
    trash.trash_purge(project=project, ttl_seconds=0, now=time.time() + 5)
    assert not Photo.all_objects.filter(pk=photo.pk).exists()
    assert thumb.is_file()


def test_trash_list_shows_files_and_purge_due(user, project, settings):
    settings.PIPELINE_TRASH_TTL_SECONDS = 3600
    photo = make_photo(project, "IMG_1", raw=True)
    partial = make_photo(project, "IMG_2", raw=True)
    discard_and_commit(user, [photo])
    discard_and_commit(user, [partial], raw=False)

    entries = {
        e.photo.pk: e
        for e in trash_entries(list(project_trash_queryset(user=user, project=project)))
    }
    assert set(entries) == {photo.pk, partial.pk}
    whole = entries[photo.pk]
    assert whole.trashed_at is not None
    assert sorted(f.name for f in whole.files) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert all(f.present for f in whole.files)
    delta = (whole.purge_due - whole.trashed_at).total_seconds()
    assert 3590 < delta < 3610
    assert entries[partial.pk].trashed_at is None
    assert [f.name for f in entries[partial.pk].files] == ["IMG_2.jpg"]


def test_restore_resumes_after_the_worker_dies_between_two_files(user, project, monkeypatch):
    """The worker dies after moving the first file back; the retry finishes the photo."""
    from photos.services import restore as restore_module

    photo = make_photo(project, "IMG_1", raw=True)
    tagged(photo, "bride")
    discard_and_commit(user, [photo])
    real_move = restore_module.move_no_replace
    calls = {"n": 0}

    def dies_after_first(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        real_move(src, dst)

    monkeypatch.setattr(restore_module, "move_no_replace", dies_after_first)
    started = restore(user, [photo])

    job = Job.objects.get(task_id=started.task_id, type="photo_restore")
    assert job.status == "completed"
    assert job.attempts == 2
    originals = sorted(p.name for p in project_dir(project).glob("IMG_1*"))
    assert originals == ["IMG_1.cr2", "IMG_1.jpg"]
    assert list((project_dir(project) / ".trash").iterdir()) == []
    row = Photo.objects.get(pk=photo.pk)
    assert [t.name for t in row.tags.all()] == ["bride"]
    assert (row.jpg_available, row.raw_available) == (True, True)


def test_a_file_of_a_trashed_photos_name_found_on_disk_is_a_new_photo(user, project):
    from jobs.tasks import start_task

    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    write_file(
        project_dir(project) / "IMG_1.jpg",
        (project_dir(project) / ".trash" / "IMG_1.jpg").read_bytes(),
    )
    start_task("maintenance", project.tenant, project=project, source="user")
    drain()

    live = Photo.objects.get(project=project, basename="IMG_1")
    assert live.pk != photo.pk
    assert Photo.all_objects.get(pk=photo.pk).trashed_at is not None
    assert ProjectPhotoCounts.objects.get(project=project).photo_count == 1


def test_restore_finishes_a_move_killed_between_the_link_and_the_unlink(user, project):
    photo = make_photo(project, "IMG_1")
    discard_and_commit(user, [photo])
    # move_no_replace links the target, then unlinks the source: killed in between, the file
    # is in both places (one inode).
    os.link(project_dir(project) / ".trash" / "IMG_1.jpg", project_dir(project) / "IMG_1.jpg")

    photo_restore_files(tenant_id=project.tenant_id, photo_id=photo.pk, journal=["IMG_1.jpg"])

    assert list((project_dir(project) / ".trash").iterdir()) == []
    assert Photo.objects.get(pk=photo.pk).jpg_available


def test_files_trashed_by_a_killed_commit_attempt_stay_restorable(user, project, monkeypatch):
    """The worker dies after trashing the RAW and before the batch's rows (and records) are
    written; the retry finds the RAW in the trash and records it with the JPG."""
    from photos.services import removal as commit_module

    photo = make_photo(project, "IMG_1", raw=True)
    tagged(photo, "bride")
    real_trash_move = commit_module.trash_move
    calls = {"n": 0}

    def dies_after_first(folder_, name):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_trash_move(folder_, name)

    monkeypatch.setattr(commit_module, "trash_move", dies_after_first)
    discard_and_commit(user, [photo])

    job = Job.objects.get(type="file_removal")
    assert (job.status, job.attempts) == ("completed", 2)
    records = sorted(TrashedFile.objects.filter(photo=photo).values_list("name", "trash_name"))
    assert records == [("IMG_1.cr2", "IMG_1.cr2"), ("IMG_1.jpg", "IMG_1.jpg")]

    restore(user, [photo])
    assert sorted(p.name for p in project_dir(project).glob("IMG_1*")) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert [t.name for t in Photo.objects.get(pk=photo.pk).tags.all()] == ["bride"]
