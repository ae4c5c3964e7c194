"""Pending deletes, commit (file_removal through the real pipeline), revert and process."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from core.errors import ApplicationError, NotFoundError, NoValidItems
from jobs.enqueue import job_enqueue
from jobs.models import Event, Job, JobItem, JobStatus, TaskRun
from jobs.runtime import drain
from photos.models import DerivativeStatus, Photo
from photos.services import (
    photos_commit,
    photos_keep_update,
    photos_pending_deletes,
    photos_process,
    photos_revert,
    project_commit,
    project_process,
    project_revert,
)
from photos.services.results import (
    CommitStarted,
    NothingPending,
    ProcessStarted,
    ProjectPending,
    ProjectReverted,
    Reverted,
)
from photos.storage import project_dir
from tests.factories import image_bytes, jpeg_bytes, make_photo, make_project, write_file


def with_derivatives(project, basename: str) -> tuple[Path, Path]:
    paths = (
        project_dir(project) / ".thumb" / f"{basename}.webp",
        project_dir(project) / ".preview" / f"{basename}.webp",
    )
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (8, 6), (10, 20, 30)).save(path, "WEBP", quality=50)
    return paths


def file_removal_job(task_id: str) -> Job:
    return Job.objects.get(task_id=task_id, type="file_removal")


def rerun(job: Job) -> None:
    """Put a finished job back in the queue as if it had never run, and run it again."""
    JobItem.objects.filter(job=job).update(status="pending", message="")
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.QUEUED, attempts=0, finished_at=None, not_before=None, progress_done=0
    )
    drain()


def disk_state(*projects) -> dict[str, list[str]]:
    return {
        p.folder: sorted(
            str(path.relative_to(project_dir(p)))
            for path in project_dir(p).rglob("*")
            if path.is_file()
        )
        for p in projects
    }


def rows_state() -> list[tuple]:
    return list(
        Photo.objects.order_by("id").values_list(
            "id", "project_id", "jpg_available", "raw_available", "keep_jpg", "keep_raw"
        )
    )


# --- pending deletes ----------------------------------------------------------------------


def test_pending_deletes_counts_files_per_project(user, tenant, project, other_tenant):
    second = make_project(tenant, "Alpha")
    make_photo(project, "A", raw=True, keep_jpg=False, keep_raw=False)
    make_photo(project, "B", raw=True, keep_raw=False)
    make_photo(second, "C", keep_jpg=False)
    make_photo(second, "D")  # nothing pending
    make_photo(make_project(other_tenant, "Theirs"), "E", keep_jpg=False)
    summary = photos_pending_deletes(user=user)
    assert summary == {
        "jpg": 2,
        "raw": 2,
        "total": 4,
        "by_project": [
            {"project_id": second.pk, "name": "Alpha", "jpg": 1, "raw": 0, "total": 1},
            {"project_id": project.pk, "name": project.name, "jpg": 1, "raw": 2, "total": 3},
        ],
    }
    assert photos_pending_deletes(user=user, filters={"file_type": "raw"})["by_project"] == [
        {"project_id": project.pk, "name": project.name, "jpg": 0, "raw": 2, "total": 2}
    ]


def test_pending_deletes_filters_by_date_and_orientation(user, project):
    make_photo(
        project,
        "MAY",
        keep_jpg=False,
        taken_at=datetime(2025, 5, 31, 23, 0, tzinfo=UTC),
        width=60,
        height=40,
    )
    make_photo(
        project,
        "JUNE",
        keep_jpg=False,
        taken_at=datetime(2025, 6, 2, 8, 0, tzinfo=UTC),
        width=60,
        height=40,
        orientation=6,  # shown rotated: portrait
    )
    june = photos_pending_deletes(
        user=user, filters={"date_from": "2025-06-01", "date_to": "2025-06-30"}
    )
    assert june["jpg"] == 1
    may_day = photos_pending_deletes(
        user=user, filters={"date_from": "2025-05-31", "date_to": "2025-05-31"}
    )
    assert may_day["jpg"] == 1
    assert photos_pending_deletes(user=user, filters={"orientation": "landscape"})["jpg"] == 1
    assert photos_pending_deletes(user=user, filters={"orientation": "portrait"})["jpg"] == 1
    assert photos_pending_deletes(user=user, filters={"orientation": "square"})["jpg"] == 0
    with pytest.raises(ApplicationError):
        photos_pending_deletes(user=user, filters={"file_type": "png"})
    with pytest.raises(ApplicationError, match="date_from must be an ISO date"):
        photos_pending_deletes(user=user, filters={"date_from": "yesterday"})
    with pytest.raises(ApplicationError, match="orientation must be"):
        photos_pending_deletes(user=user, filters={"orientation": "²"})
    # A date-time bound is inclusive.
    assert (
        photos_pending_deletes(user=user, filters={"date_to": "2025-05-31T23:00:00+00:00"})["jpg"]
        == 1
    )


# --- commit: file_removal on real files ---------------------------------------------------


def test_commit_discarded_jpg_goes_to_trash_raw_stays(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    thumb, preview = with_derivatives(project, "IMG_1")
    photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    assert started.total_pending == 1
    drain()
    job = file_removal_job(started.task_id)
    assert job.status == JobStatus.COMPLETED
    assert list(job.items.values_list("status", flat=True)) == ["done"]
    root = project_dir(project)
    assert not (root / "IMG_1.jpg").exists()
    assert (root / ".trash" / "IMG_1.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert (root / "IMG_1.cr2").exists()
    assert not thumb.exists()
    assert not preview.exists()
    photo.refresh_from_db()
    assert (photo.jpg_available, photo.raw_available) == (False, True)
    assert (photo.keep_jpg, photo.keep_raw) == (False, True)
    assert photo.thumbnail_status == DerivativeStatus.NOT_SUPPORTED
    event = Event.objects.filter(type="item", photo=photo, job=job).get()
    assert event.payload["trashed"] == [{"file": "IMG_1.jpg", "trash": "IMG_1.jpg"}]
    pending = Event.objects.filter(type="pending_changes", job=job).get()
    assert pending.payload["total"] == 0


def test_commit_discarding_both_deletes_the_row(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    photos_keep_update(
        user=user, items=[{"photo_id": photo.pk, "keep_jpg": False, "keep_raw": False}]
    )
    started = project_commit(user=user, project=project)
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert sorted(p.name for p in (project_dir(project) / ".trash").iterdir()) == [
        "IMG_1.cr2",
        "IMG_1.jpg",
    ]
    removed = Event.objects.get(type="item_removed")
    assert removed.payload["photo_id"] == photo.pk


def test_commit_keeps_the_row_while_another_file_remains(user, project):
    photo = make_photo(project, "IMG_1", keep_jpg=False)
    write_file(project_dir(project) / "IMG_1.png", image_bytes("PNG"))
    Photo.objects.filter(pk=photo.pk).update(other_available=True)
    started = project_commit(user=user, project=project)
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    photo.refresh_from_db()
    assert (photo.jpg_available, photo.other_available, photo.ext) == (False, True, "png")
    # The derivatives went with the JPG; the commit task's last step makes them from the PNG.
    assert photo.thumbnail_status == DerivativeStatus.GENERATED
    assert (project_dir(project) / ".thumb" / "IMG_1.webp").is_file()


def test_commit_trashes_every_case_variant(user, project):
    photo = make_photo(project, "IMG_1", keep_jpg=False)
    write_file(project_dir(project) / "IMG_1.JPG", jpeg_bytes(color=(0, 0, 255)))
    write_file(project_dir(project) / "IMG_1.jpeg", jpeg_bytes(color=(0, 255, 0)))
    started = photos_commit(user=user)
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    trash = project_dir(project) / ".trash"
    assert sorted(p.name for p in trash.iterdir()) == ["IMG_1.JPG", "IMG_1.jpeg", "IMG_1.jpg"]
    assert not list(project_dir(project).glob("IMG_1.*"))
    assert not Photo.objects.filter(pk=photo.pk).exists()


def test_a_name_already_in_the_trash_is_never_overwritten(user, project):
    make_photo(project, "IMG_1", raw=True, keep_jpg=False)
    old = write_file(project_dir(project) / ".trash" / "IMG_1.jpg", b"an older discarded file")
    started = project_commit(user=user, project=project)
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    assert old.read_bytes() == b"an older discarded file"
    assert (project_dir(project) / ".trash" / "IMG_1~2.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_file_removal_honours_a_keep_flag_changed_after_the_commit(user, project):
    photo = make_photo(project, "IMG_1", keep_jpg=False)
    started = project_commit(user=user, project=project)
    photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": True}])
    drain()
    job = file_removal_job(started.task_id)
    assert list(job.items.values_list("status", flat=True)) == ["skipped"]
    assert (project_dir(project) / "IMG_1.jpg").exists()


def test_file_removal_touches_only_the_photos_named_by_the_job(tenant, project):
    named = make_photo(project, "NAMED", keep_jpg=False, raw=True)
    other = make_photo(project, "OTHER", keep_jpg=False, raw=True)
    job_enqueue(tenant=tenant, type="file_removal", project=project, items=[named.pk])
    job_enqueue(tenant=tenant, type="file_removal", project=project)  # no items: nothing
    drain()
    assert not (project_dir(project) / "NAMED.jpg").exists()
    assert (project_dir(project) / "OTHER.jpg").exists()
    other.refresh_from_db()
    assert other.jpg_available is True
    assert Job.objects.filter(type="file_removal", status=JobStatus.COMPLETED).count() == 2


def test_file_removal_run_twice_leaves_the_same_state(user, project):
    a = make_photo(project, "A", raw=True, keep_jpg=False)
    make_photo(project, "B", raw=True, keep_jpg=False, keep_raw=False)
    with_derivatives(project, "A")
    started = project_commit(user=user, project=project)
    drain()
    job = file_removal_job(started.task_id)
    disk, rows = disk_state(project), rows_state()
    rerun(job)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert disk_state(project) == disk
    assert rows_state() == rows
    assert rows == [(a.pk, project.pk, False, True, False, True)]


def test_file_removal_finishes_after_a_crash_between_two_files(user, project):
    """A worker killed after trashing one case variant: the rerun finishes the photo."""
    photo = make_photo(project, "IMG_1", keep_jpg=False, raw=True)
    write_file(project_dir(project) / "IMG_1.JPG", jpeg_bytes())
    (project_dir(project) / ".trash").mkdir()
    (project_dir(project) / "IMG_1.JPG").rename(project_dir(project) / ".trash" / "IMG_1.JPG")
    started = project_commit(user=user, project=project)
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    assert sorted(p.name for p in (project_dir(project) / ".trash").iterdir()) == [
        "IMG_1.JPG",
        "IMG_1.jpg",
    ]
    photo.refresh_from_db()
    assert (photo.jpg_available, photo.raw_available) == (False, True)


# --- commit: which photos, which projects -------------------------------------------------


def test_commit_across_projects_starts_one_task_naming_each_pending_photo_once(
    user, tenant, project
):
    second = make_project(tenant, "Second")
    quiet = make_project(tenant, "Quiet")
    p1 = make_photo(project, "A", raw=True, keep_jpg=False, keep_raw=False)
    p2 = make_photo(project, "B", raw=True, keep_raw=False)
    p3 = make_photo(second, "C", keep_jpg=False)
    make_photo(quiet, "D")
    started = photos_commit(user=user, project_ids=[project.pk, second.pk, quiet.pk, 99_999])
    assert isinstance(started, CommitStarted)
    assert started.missing == [99_999]
    assert started.total_pending == 3
    assert (started.task["job_count"], started.task["chunked"]) == (1, False)
    assert sorted(started.projects, key=lambda p: p.project_id) == [
        ProjectPending(project_id=project.pk, name=project.name, pending=2),
        ProjectPending(project_id=second.pk, name="Second", pending=1),
    ]
    task = TaskRun.objects.get(pk=started.task_id)
    assert (task.type, task.scope) == ("change_commit_all", "photo_set")
    assert sorted(task.payload["project_ids"]) == sorted([project.pk, second.pk])
    assert TaskRun.objects.count() == 1
    items = list(JobItem.objects.filter(job__task=task).values_list("photo_id", flat=True))
    assert sorted(items) == sorted([p1.pk, p2.pk, p3.pk])
    drain()
    assert file_removal_job(started.task_id).status == JobStatus.COMPLETED
    assert not (project_dir(second) / "C.jpg").exists()
    assert not (project_dir(project) / "B.cr2").exists()


def test_commit_reads_its_pending_photos_once_and_names_their_projects_in_the_items(
    user, tenant, project
):
    """The items carry each photo's project: starting the task reads no photo again."""
    second = make_project(tenant, "Second")
    make_photo(project, "A", keep_jpg=False)
    make_photo(second, "B", keep_jpg=False)
    with CaptureQueriesContext(connection) as queries:
        started = photos_commit(user=user)
    assert isinstance(started, CommitStarted)
    photo_reads = [q["sql"] for q in queries if 'FROM "photos_photo"' in q["sql"]]
    assert len(photo_reads) == 1, photo_reads
    task = TaskRun.objects.get(pk=started.task_id)
    assert task.payload["project_ids"] == sorted([project.pk, second.pk])


def test_commit_unknown_ids_are_never_widened_to_all_projects(user, tenant, project, other_tenant):
    make_photo(project, "A", keep_jpg=False)
    foreign = make_project(other_tenant, "Theirs")
    make_photo(foreign, "X", keep_jpg=False)
    result = photos_commit(user=user, project_ids=[foreign.pk, 424242, "nope"])
    assert result == NothingPending(missing=[foreign.pk, 424242, "nope"])
    assert not TaskRun.objects.exists()
    assert photos_commit(user=user, project_ids=[]) == NothingPending()
    assert not TaskRun.objects.exists()


def test_commit_with_nothing_pending_returns_nothing_pending(user, project):
    make_photo(project, "A")
    assert photos_commit(user=user) == NothingPending()
    assert project_commit(user=user, project=project) == NothingPending()
    assert not TaskRun.objects.exists()


def test_commit_chunks_more_than_2000_pending_photos(user, project):
    Photo.objects.bulk_create(
        [
            Photo(project=project, basename=f"IMG_{i:05d}", jpg_available=True, keep_jpg=False)
            for i in range(2001)
        ]
    )
    started = photos_commit(user=user)
    assert isinstance(started, CommitStarted)
    assert (started.task["chunked"], started.task["job_count"]) == (True, 2)
    assert started.total_pending == 2001
    assert JobItem.objects.count() == 2001


def test_project_commit_of_another_tenant_is_not_found(other_user, project):
    make_photo(project, "A", keep_jpg=False)
    with pytest.raises(NotFoundError, match=f"Project {project.pk} not found."):
        project_commit(user=other_user, project=project)
    with pytest.raises(NotFoundError):
        project_revert(user=other_user, project=project)
    with pytest.raises(NotFoundError):
        project_process(user=other_user, project=project)
    assert photos_commit(user=other_user) == NothingPending()


def test_project_commit_starts_a_project_scoped_change_commit(user, tenant, project):
    mine = make_photo(project, "A", keep_jpg=False)
    make_photo(make_project(tenant, "Elsewhere"), "B", keep_jpg=False)
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    task = TaskRun.objects.get(pk=started.task_id)
    assert (task.type, task.scope, task.project_id) == ("change_commit", "project", project.pk)
    assert list(JobItem.objects.filter(job__task=task).values_list("photo_id", flat=True)) == [
        mine.pk
    ]


# --- revert -------------------------------------------------------------------------------


def test_revert_sets_keep_flags_back_to_availability(user, tenant, project):
    second = make_project(tenant, "Second")
    a = make_photo(project, "A", raw=True, keep_jpg=False, keep_raw=False)
    b = make_photo(project, "B", raw=True)
    c = make_photo(second, "C", keep_jpg=False)
    ghost = make_photo(second, "GHOST", jpg=False, write=False, keep_jpg=True)  # mismatch too
    reply = photos_revert(user=user, project_ids=[project.pk, 77_777])
    assert reply == Reverted(
        projects=[ProjectReverted(project_id=project.pk, name=project.name, updated=1)],
        missing=[77_777],
    )
    a.refresh_from_db()
    assert (a.keep_jpg, a.keep_raw) == (True, True)
    c.refresh_from_db()
    assert c.keep_jpg is False  # another project, not named
    event = Event.objects.get(type="item", photo=a)
    assert event.payload == {
        "photo_id": a.pk,
        "project_id": project.pk,
        "keep_jpg": True,
        "keep_raw": True,
    }
    assert Event.objects.get(type="pending_changes", project=project).payload["total"] == 0
    assert not Event.objects.filter(photo=b).exists()

    reply = photos_revert(user=user)
    assert reply.projects == [ProjectReverted(project_id=second.pk, name="Second", updated=2)]
    ghost.refresh_from_db()
    assert ghost.keep_jpg is False
    assert photos_revert(user=user) == Reverted(projects=[])


def test_project_revert_touches_one_project(user, tenant, project):
    a = make_photo(project, "A", keep_jpg=False)
    b = make_photo(make_project(tenant, "Other"), "B", keep_jpg=False)
    reply = project_revert(user=user, project=project)
    assert (len(reply.projects), reply.photo_count) == (1, 1)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.keep_jpg, b.keep_jpg) == (True, False)


def test_revert_ignores_another_tenants_projects(user, other_tenant):
    foreign = make_project(other_tenant, "Theirs")
    photo = make_photo(foreign, "X", keep_jpg=False)
    reply = photos_revert(user=user, project_ids=[foreign.pk])
    assert reply == Reverted(projects=[], missing=[foreign.pk])
    photo.refresh_from_db()
    assert photo.keep_jpg is False


# --- process ------------------------------------------------------------------------------


def test_process_starts_one_generate_derivatives_task_across_projects(
    user, tenant, project, other_tenant
):
    second = make_project(tenant, "Second")
    a, b = make_photo(project, "A"), make_photo(second, "B")
    foreign = make_photo(make_project(other_tenant, "Theirs"), "X")
    started = photos_process(
        user=user,
        items=[
            {"photo_id": a.pk},
            {"photo_id": b.pk},
            {"photo_id": foreign.pk},
            {"photo_id": a.pk},
        ],
        force=True,
    )
    assert isinstance(started, ProcessStarted)
    assert started.errors == [{"photo_id": foreign.pk, "error": "Photo not found."}]
    assert (started.task["job_count"], started.task["chunked"]) == (1, False)
    job = Job.objects.get(pk=started.task["job_ids"][0])
    assert (job.type, job.scope, job.payload["force"]) == (
        "generate_derivatives",
        "photo_set",
        True,
    )
    assert sorted(job.items.values_list("photo_id", flat=True)) == sorted([a.pk, b.pk])


def test_process_without_a_valid_item_raises_and_starts_nothing(user, other_tenant):
    foreign = make_photo(make_project(other_tenant, "Theirs"), "X")
    with pytest.raises(NoValidItems, match="No valid photos to process.") as refused:
        photos_process(user=user, items=[{"photo_id": foreign.pk}, {}])
    assert len(refused.value.errors) == 2
    assert not TaskRun.objects.exists()


def test_project_process_starts_a_project_scoped_task(user, project):
    started = project_process(user=user, project=project)
    job = Job.objects.get(pk=started.task["job_ids"][0])
    assert (job.type, job.scope, job.project_id, job.payload["force"]) == (
        "generate_derivatives",
        "project",
        project.pk,
        False,
    )


def test_a_file_that_cannot_be_trashed_fails_its_photo_not_the_commit(user, project, monkeypatch):
    from photos.services import removal as commit_module

    stuck = make_photo(project, "STUCK", keep_jpg=False)
    fine = make_photo(project, "FINE", keep_jpg=False, raw=True)
    real_trash_move = commit_module.trash_move

    def refuses_stuck(where, name):
        if name.startswith("STUCK"):
            raise PermissionError(13, "Permission denied", name)
        return real_trash_move(where, name)

    monkeypatch.setattr(commit_module, "trash_move", refuses_stuck)
    started = project_commit(user=user, project=project)
    drain()
    job = file_removal_job(started.task_id)
    assert job.status == JobStatus.COMPLETED
    statuses = dict(job.items.values_list("photo_id", "status"))
    assert statuses == {stuck.pk: "failed", fine.pk: "done"}
    assert "Permission denied" in job.items.get(photo_id=stuck.pk).message
    assert (project_dir(project) / "STUCK.jpg").exists()
    stuck.refresh_from_db()
    assert stuck.pending_delete
    fine.refresh_from_db()
    assert fine.jpg_available is False


def test_a_missing_project_folder_never_deletes_rows(user, project):
    import shutil

    photo = make_photo(project, "IMG_1", keep_jpg=False)
    started = project_commit(user=user, project=project)
    shutil.rmtree(project_dir(project))  # an unmounted share looks like this
    drain()
    item = file_removal_job(started.task_id).items.get()
    assert item.status == "failed"
    assert Photo.objects.filter(pk=photo.pk).exists()
