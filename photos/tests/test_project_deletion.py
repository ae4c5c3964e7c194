"""Deleting a project end to end, and scavenging leftover folders of archived projects."""

import pytest

from core.errors import ApplicationError, NotFoundError
from jobs.enqueue import job_enqueue
from jobs.models import Event, Job, JobStatus, TaskRun
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.manifest import manifest_write
from photos.models import Photo, Tag
from photos.project_deletion import (
    LEGACY_TOMBSTONE_PREFIX,
    TOMBSTONE_PREFIX,
    project_delete,
    project_folder_remove,
    project_jobs_stop,
)
from photos.services import photos_tags_add
from photos.services.projects import project_archive
from photos.storage import project_dir
from projects.models import Project
from tests.factories import make_photo, make_project, write_file


def task_jobs(task_id) -> list[tuple[str, str]]:
    return list(
        Job.objects.filter(task_id=task_id).order_by("step_index").values_list("type", "status")
    )


def test_project_delete_end_to_end(user, tenant, project):
    keep = make_project(tenant, "Keep me")
    kept_photo = make_photo(keep, "K")
    a = make_photo(project, "A", raw=True)
    make_photo(project, "B")
    photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["gone"]}])
    write_file(project_dir(project) / ".thumb" / "A.webp", b"webp")
    queued = job_enqueue(tenant=tenant, type="test_noop", project=project)[0]

    task_id = project_delete(user=user, project=project)
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED  # at once, before any job ran
    assert Event.objects.filter(type="project_archived", project=project).exists()

    drain()
    assert task_jobs(task_id) == [
        ("project_stop_processes", "completed"),
        ("project_delete_files", "completed"),
        ("project_cleanup_db", "completed"),
    ]
    queued.refresh_from_db()
    assert queued.status == JobStatus.CANCELED
    assert not project_dir(project).exists()
    assert not list(project_dir(project).parent.glob(f"{TOMBSTONE_PREFIX}*"))
    assert not Photo.objects.filter(project=project).exists()
    assert not Tag.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED
    removed = Event.objects.get(type="project_removed", project=project)
    assert removed.payload["photos"] == 2
    # Another project is untouched.
    assert Photo.objects.filter(pk=kept_photo.pk).exists()
    assert (project_dir(keep) / "K.jpg").exists()


def test_project_delete_run_twice_leaves_the_same_state(user, project):
    make_photo(project, "A")
    first = project_delete(user=user, project=project)
    drain()
    again = start_task("project_delete", project.tenant, project=project)
    drain()
    assert first != again["task_id"]
    assert [s for _, s in task_jobs(again["task_id"])] == ["completed"] * 3
    assert not project_dir(project).exists()
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED
    assert Event.objects.filter(type="project_removed", project=project).count() == 1


def test_project_delete_while_one_is_running_returns_the_same_task(user, project):
    first = project_delete(user=user, project=project)
    second = project_delete(user=user, project=project)
    assert first == second
    assert TaskRun.objects.filter(type="project_delete").count() == 1


def test_project_delete_of_another_tenant_is_not_found(other_user, project):
    make_photo(project, "A")
    with pytest.raises(NotFoundError):
        project_delete(user=other_user, project=project)
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert (project_dir(project) / "A.jpg").exists()
    assert not TaskRun.objects.exists()


def test_stop_processes_spares_its_own_task_and_other_projects(tenant, project):
    other = make_project(tenant, "Other")
    mine = job_enqueue(tenant=tenant, type="test_noop", project=project)[0]
    theirs = job_enqueue(tenant=tenant, type="test_noop", project=other)[0]
    started = start_task("project_delete", tenant, project=project)
    project_archive(project=project, reason="deleted")
    stopped = project_jobs_stop(project=project, keep_task_id=started["task_id"], wait_seconds=0)
    assert stopped == [mine.pk]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (JobStatus.CANCELED, JobStatus.QUEUED)
    assert Job.objects.get(pk=started["first_job_id"]).status == JobStatus.QUEUED


def test_folder_of_an_active_project_is_never_deleted(project):
    make_photo(project, "A")
    with pytest.raises(ApplicationError, match="active"):
        project_folder_remove(project=project)
    assert (project_dir(project) / "A.jpg").exists()


def test_a_symlinked_project_folder_is_unlinked_not_followed(tenant, photos_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.jpg").write_bytes(b"not ours")
    project = make_project(tenant, "Linked", create_dir=False)
    project_dir(project).parent.mkdir(parents=True, exist_ok=True)
    project_dir(project).symlink_to(outside, target_is_directory=True)
    project_archive(project=project, reason="deleted")
    assert project_folder_remove(project=project) is True
    assert not project_dir(project).is_symlink()
    assert (outside / "precious.jpg").read_bytes() == b"not ours"


def test_a_folder_carrying_an_active_projects_manifest_is_refused(tenant, project):
    archived = make_project(tenant, "Old")
    manifest_write(project_dir(archived), project)  # a copy of an active project's folder
    project_archive(project=archived, reason="deleted")
    assert project_folder_remove(project=archived) is False
    assert (project_dir(archived).parent / "Old").is_dir()


def test_an_interrupted_delete_leaves_a_tombstone_the_rerun_removes(tenant, project):
    make_photo(project, "A")
    project_archive(project=project, reason="deleted")
    tomb = project_dir(project).parent / f"{LEGACY_TOMBSTONE_PREFIX}{project.uid}-deadbeef"
    project_dir(project).rename(tomb)  # killed after the rename, before the delete
    assert project_folder_remove(project=project) is True
    assert not tomb.exists()


# --- scavenging ---------------------------------------------------------------------------


def test_scavenge_global_removes_archived_leftovers_only(tenant, project, other_tenant):
    old = make_project(tenant, "Old shoot")
    manifest_write(project_dir(old), old)  # the proof that the folder is the deleted project's
    make_photo(old, "LEFT")
    project_archive(project=old, reason="deleted")
    make_photo(project, "ACTIVE")
    theirs = make_project(other_tenant, "Theirs")
    make_photo(theirs, "T")
    project_archive(project=theirs, reason="deleted")

    started = start_task("project_scavenge_global", tenant)
    drain()
    assert task_jobs(started["task_id"]) == [("project_scavenge", "completed")]
    assert not project_dir(old).exists()
    assert (project_dir(project) / "ACTIVE.jpg").exists()
    assert (project_dir(theirs) / "T.jpg").exists()  # another tenant's job never touches it

    again = start_task("project_scavenge_global", tenant)
    drain()
    assert task_jobs(again["task_id"]) == [("project_scavenge", "completed")]
    assert (project_dir(project) / "ACTIVE.jpg").exists()


def test_scavenge_of_one_project_skips_an_active_one(tenant, project):
    make_photo(project, "A")
    started = start_task("project_scavenge", tenant, project=project)
    drain()
    assert task_jobs(started["task_id"]) == [("project_scavenge", "completed")]
    assert (project_dir(project) / "A.jpg").exists()

    manifest_write(project_dir(project), project)
    project_archive(project=project, reason="deleted")
    start_task("project_scavenge", tenant, project=project)
    drain()
    assert not (project_dir(project).parent / "Iceland July 2025").exists()
    assert not list(project_dir(project).parent.glob(f"{TOMBSTONE_PREFIX}*"))


def test_scavenge_keeps_the_folder_of_a_project_archived_for_a_missing_folder(tenant, project):
    """A share that was unmounted (folder missing → archived) and came back keeps every file."""
    make_photo(project, "ONLY_COPY")
    project_archive(project=project, reason=Project.ArchiveReason.FOLDER_MISSING)
    started = start_task("project_scavenge_global", tenant)
    drain()
    assert task_jobs(started["task_id"]) == [("project_scavenge", "completed")]
    assert (project_dir(project) / "ONLY_COPY.jpg").exists()
    with pytest.raises(ApplicationError, match="not deleted"):
        project_folder_remove(project=project)
    assert (project_dir(project) / "ONLY_COPY.jpg").exists()


def test_deleting_an_orphan_archived_project_marks_it_deleted(tenant, project, user):
    project_archive(project=project, reason=Project.ArchiveReason.FOLDER_MISSING)
    assert project_archive(project=project, reason=Project.ArchiveReason.DELETED)
    project.refresh_from_db()
    assert project.archive_reason == "deleted"
