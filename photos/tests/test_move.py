"""Moving photos between projects: the service checks and image_move_files on real files."""

from pathlib import Path

import pytest
from PIL import Image

from core.errors import ApplicationError, NotFoundError, NoValidItems
from jobs.models import Event, Job, JobItem, JobStatus, TaskRun
from jobs.runtime import drain
from photos.models import Photo, Tag
from photos.services import move as move_module
from photos.services import photos_move, photos_tags_add
from photos.services.projects import project_archive
from photos.services.results import MoveStarted
from photos.storage import project_dir
from tests.factories import make_photo, make_project, write_file


def with_derivatives(project, basename: str) -> None:
    for sub in (".thumb", ".preview"):
        path = project_dir(project) / sub / f"{basename}.webp"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (8, 6), (10, 20, 30)).save(path, "WEBP")


def move_job(task_id: str) -> Job:
    return Job.objects.get(task_id=task_id, type="image_move_files")


def rerun(job: Job) -> None:
    JobItem.objects.filter(job=job).update(status="pending")
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.QUEUED, attempts=0, finished_at=None, not_before=None, progress_done=0
    )
    drain()


def names(path: Path) -> list[str]:
    """Visible files of a folder (the manifest written by manifest_check is left out)."""
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def test_move_keeps_id_tags_flags_visibility_and_derivatives(user, project, dest):
    photo = make_photo(project, "IMG_1", raw=True, keep_raw=False, visibility="public")
    with_derivatives(project, "IMG_1")
    photos_tags_add(user=user, items=[{"photo_id": photo.pk, "tags": ["iceland", "best"]}])
    started = photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=dest.pk)
    assert isinstance(started, MoveStarted)
    assert started.destination_project == dest.pk
    assert started.task["job_count"] == 1
    task = TaskRun.objects.get(pk=started.task_id)
    assert (task.type, task.scope, task.payload["dest_project_id"]) == (
        "image_move",
        "photo_set",
        dest.pk,
    )
    drain()
    job = move_job(started.task_id)
    assert job.status == JobStatus.COMPLETED
    assert list(job.items.values_list("status", flat=True)) == ["done"]

    moved = Photo.objects.get(pk=photo.pk)
    assert moved.project_id == dest.pk
    assert (moved.keep_jpg, moved.keep_raw, moved.visibility) == (True, False, "public")
    assert sorted(moved.tags.values_list("name", "project_id")) == [
        ("best", dest.pk),
        ("iceland", dest.pk),
    ]
    assert Tag.objects.filter(project=project, name="iceland").exists()  # source vocabulary
    assert names(project_dir(dest)) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert names(project_dir(project)) == []
    assert names(project_dir(dest) / ".thumb") == ["IMG_1.webp"]
    assert names(project_dir(dest) / ".preview") == ["IMG_1.webp"]
    assert names(project_dir(project) / ".thumb") == []
    event = Event.objects.get(type="item_moved")
    assert event.payload["from_project_id"] == project.pk
    assert event.payload["to_project_id"] == dest.pk


def test_move_onto_an_existing_base_name_is_an_item_error(user, project, dest):
    clash = make_photo(project, "SAME")
    free = make_photo(project, "FREE")
    make_photo(dest, "SAME")
    on_disk = make_photo(project, "DISK")
    write_file(project_dir(dest) / "DISK.cr2", b"a file with no row yet")
    started = photos_move(
        user=user,
        items=[{"photo_id": clash.pk}, {"photo_id": free.pk}, {"photo_id": on_disk.pk}],
        dest_project_id=dest.pk,
    )
    assert isinstance(started, MoveStarted)
    assert started.errors == [
        {
            "photo_id": clash.pk,
            "error": "A photo named 'SAME' already exists in the destination project.",
        },
        {
            "photo_id": on_disk.pk,
            "error": "A photo named 'DISK' already exists in the destination project.",
        },
    ]
    job = Job.objects.get(pk=started.task["job_ids"][0])
    assert list(job.items.values_list("photo_id", flat=True)) == [free.pk]


def test_a_clash_appearing_after_the_start_fails_the_item_and_moves_nothing(user, project, dest):
    photo = make_photo(project, "IMG_1", raw=True)
    with_derivatives(project, "IMG_1")
    other = make_photo(project, "IMG_2")
    started = photos_move(
        user=user, items=[{"photo_id": photo.pk}, {"photo_id": other.pk}], dest_project_id=dest.pk
    )
    write_file(project_dir(dest) / "IMG_1.JPG", b"dropped in meanwhile")
    drain()
    job = move_job(started.task_id)
    assert job.status == JobStatus.COMPLETED
    statuses = dict(job.items.values_list("photo_id", "status"))
    assert statuses == {photo.pk: "failed", other.pk: "done"}
    assert names(project_dir(project)) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert names(project_dir(project) / ".thumb") == ["IMG_1.webp"]
    assert names(project_dir(dest)) == ["IMG_1.JPG", "IMG_2.jpg"]
    assert Photo.objects.get(pk=photo.pk).project_id == project.pk


def test_a_move_failing_halfway_puts_back_what_moved(user, project, dest):
    photo = make_photo(project, "IMG_1", raw=True)
    with_derivatives(project, "IMG_1")
    # A directory where the preview should land makes the last rename fail.
    (project_dir(dest) / ".preview" / "IMG_1.webp").mkdir(parents=True)
    started = photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=dest.pk)
    drain()
    item = move_job(started.task_id).items.get()
    assert item.status == "failed"
    assert "Nothing was moved" in item.message
    assert names(project_dir(project)) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert names(project_dir(project) / ".thumb") == ["IMG_1.webp"]
    assert names(project_dir(project) / ".preview") == ["IMG_1.webp"]
    assert names(project_dir(dest)) == []
    assert names(project_dir(dest) / ".thumb") == []
    assert Photo.objects.get(pk=photo.pk).project_id == project.pk


def test_move_resumes_after_a_crash_between_two_files(user, project, dest, monkeypatch):
    """The worker dies after moving the JPG; the retry recognises it and moves the RAW."""
    photo = make_photo(project, "IMG_1", raw=True)
    real_move = move_module.move_no_replace
    calls = {"n": 0}

    def dies_after_first(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        real_move(src, dst)

    monkeypatch.setattr(move_module, "move_no_replace", dies_after_first)
    started = photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=dest.pk)
    drain()
    job = move_job(started.task_id)
    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 2
    assert names(project_dir(dest)) == ["IMG_1.cr2", "IMG_1.jpg"]
    assert names(project_dir(project)) == []
    assert Photo.objects.get(pk=photo.pk).project_id == dest.pk


def test_image_move_files_run_twice_leaves_the_same_state(user, project, dest):
    a = make_photo(project, "A", raw=True)
    b = make_photo(project, "B")
    with_derivatives(project, "A")
    started = photos_move(
        user=user, items=[{"photo_id": a.pk}, {"photo_id": b.pk}], dest_project_id=dest.pk
    )
    drain()
    job = move_job(started.task_id)
    before = (
        names(project_dir(dest)),
        names(project_dir(dest) / ".thumb"),
        names(project_dir(project)),
    )
    rows = list(Photo.objects.order_by("id").values_list("id", "project_id", "basename"))
    rerun(job)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert (
        names(project_dir(dest)),
        names(project_dir(dest) / ".thumb"),
        names(project_dir(project)),
    ) == before
    assert list(Photo.objects.order_by("id").values_list("id", "project_id", "basename")) == rows
    assert Event.objects.filter(type="item_moved").count() == 2


def test_move_to_another_tenants_project_is_not_found(user, project, other_tenant):
    photo = make_photo(project, "IMG_1")
    foreign = make_project(other_tenant, "Theirs")
    with pytest.raises(NotFoundError, match="Destination project not found."):
        photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=foreign.pk)
    with pytest.raises(NotFoundError):
        photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=987_654)
    assert not TaskRun.objects.exists()


def test_moving_another_tenants_photo_reports_not_found(user, dest, other_tenant):
    foreign = make_photo(make_project(other_tenant, "Theirs"), "X")
    with pytest.raises(NoValidItems, match="No photos can be moved.") as refused:
        photos_move(user=user, items=[{"photo_id": foreign.pk}], dest_project_id=dest.pk)
    assert refused.value.errors == [{"photo_id": foreign.pk, "error": "Photo not found."}]
    assert not TaskRun.objects.exists()


def test_move_checks_same_project_duplicates_and_archived_destination(user, tenant, project, dest):
    second = make_project(tenant, "Second")
    a = make_photo(project, "X")
    b = make_photo(second, "X")
    here = make_photo(dest, "HERE")
    started = photos_move(
        user=user,
        items=[{"photo_id": a.pk}, {"photo_id": b.pk}, {"photo_id": here.pk}],
        dest_project_id=dest.pk,
    )
    assert isinstance(started, MoveStarted)
    assert [e["photo_id"] for e in started.errors] == [b.pk, here.pk]
    project_archive(project=dest)
    with pytest.raises(ApplicationError, match="archived"):
        photos_move(user=user, items=[{"photo_id": a.pk}], dest_project_id=dest.pk)
