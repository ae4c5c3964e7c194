"""Maintenance end to end: the real tasks through start_task + drain, and the commands."""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jobs.events import EventType
from jobs.models import Event, Job, JobStatus, TaskRun
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import storage
from photos.manifest import manifest_read
from photos.models import Photo
from photos.reconcile import trash
from projects.models import Project
from projects.services import project_archive, project_create, project_rename
from tests.factories import jpeg_bytes, make_photo, make_project, write_file

CHANGE_EVENTS = (
    EventType.ITEM,
    EventType.ITEM_REMOVED,
    EventType.ITEM_MOVED,
    EventType.MANIFEST_CHANGED,
    EventType.FOLDER_RENAMED,
    EventType.PROJECT_DISCOVERED,
    EventType.PROJECT_ARCHIVED,
    EventType.PROJECT_REMOVED,
)


def disk(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def change_events(since: int) -> list[tuple[str, dict]]:
    return list(
        Event.objects.filter(id__gt=since, type__in=CHANGE_EVENTS).values_list("type", "payload")
    )


def db_state() -> list[tuple]:
    photos = Photo.objects.order_by("pk").values_list(
        "pk",
        "project_id",
        "basename",
        "ext",
        "jpg_available",
        "raw_available",
        "other_available",
        "keep_jpg",
        "keep_raw",
    )
    projects = Project.objects.order_by("pk").values_list("pk", "uid", "name", "folder", "status")
    return [*photos, *projects]


def run_task(task_type: str, tenant, **kwargs) -> TaskRun:
    started = start_task(task_type, tenant, source="maintenance", **kwargs)
    drain()
    return TaskRun.objects.get(pk=started["task_id"])


def messy_tenant(tenant) -> list[Project]:
    """Three projects with one of each problem maintenance fixes (no orphan: that one is
    removed on the second run by design and has its own test)."""
    iceland = project_create(tenant=tenant, name="Iceland")
    rome = project_create(tenant=tenant, name="Rome")
    paris = make_project(tenant, "Paris", folder="paris-old")  # No manifest, misaligned.
    for i in range(3):
        make_photo(iceland, f"IMG_{i}", raw=True)
    make_photo(rome, "ROME_1")
    make_photo(rome, "GONE_1")  # Its file disappears: row removed.
    make_photo(paris, "PNG_ONLY", jpg=False, write=False, other_available=True)
    iceland_dir, rome_dir = storage.project_dir(iceland), storage.project_dir(rome)
    (storage.project_dir(rome) / "GONE_1.jpg").unlink()
    (iceland_dir / "IMG_0.jpg").unlink()  # RAW stays: availability changes.
    write_file(storage.project_dir(paris) / "PNG_ONLY.png", b"png")
    write_file(rome_dir / "IMG_1.jpg", jpeg_bytes())  # Belongs to Iceland: a duplicate.
    write_file(rome_dir / "NEW_1.jpg", jpeg_bytes())  # New: ingested.
    write_file(rome_dir / "notes.txt", b"x")  # Unaccepted: reported, never moved.
    write_file(rome_dir / ".DS_Store", b"finder")
    trashed = rome_dir / ".trash" / "OLD.jpg"
    write_file(trashed, b"old")
    project_rename(project=rome, name="Rome: day 1")  # Folder follows.
    Photo.objects.update(updated_at="2000-01-01T00:00:00Z")
    return [iceland, rome, paris]


def test_maintenance_global_converges_on_a_tenant_with_three_projects(tenant, settings):
    settings.PIPELINE_TRASH_TTL_SECONDS = 3600
    iceland, rome, paris = messy_tenant(tenant)
    root = storage.tenant_root(tenant)
    since = last_event_id()

    task = run_task("maintenance_global", tenant)

    assert task.status == "completed", list(task.jobs.values_list("type", "error_message"))
    assert [j.type for j in task.jobs.order_by("step_index")] == [
        "trash_maintenance",
        "export_expiry",
        "orphaned_project_cleanup",
        "duplicate_resolution",
        "folder_alignment",
        "manifest_check",
        "folder_check",
        "manifest_cleaning",
    ]
    first_changes = {t for t, _ in change_events(since)}
    assert first_changes >= {
        EventType.ITEM,
        EventType.ITEM_REMOVED,
        EventType.MANIFEST_CHANGED,
        EventType.FOLDER_RENAMED,
    }
    rome.refresh_from_db()
    assert rome.folder == "Rome- day 1"
    rome_dir = root / "Rome- day 1"
    assert sorted(Photo.objects.filter(project=rome).values_list("basename", flat=True)) == [
        "IMG_1_duplicate1",
        "NEW_1",
        "ROME_1",
    ]
    assert (rome_dir / "notes.txt").exists()
    assert (rome_dir / ".trash" / "OLD.jpg").exists()  # Trashed just now by our own hands.
    assert (rome_dir / ".DS_Store").exists()
    assert Photo.objects.get(project=paris).other_available
    img0 = Photo.objects.get(project=iceland, basename="IMG_0")
    assert (img0.jpg_available, img0.keep_jpg) == (False, True)
    for project in (iceland, rome, paris):
        project.refresh_from_db()
        assert manifest_read(storage.project_dir(project))["uid"] == str(project.uid)

    disk_after_first = disk(root)
    db_after_first = db_state()
    since = last_event_id()
    tasks_before = set(TaskRun.objects.values_list("pk", flat=True))

    second = run_task("maintenance_global", tenant)

    assert second.status == "completed"
    assert change_events(since) == []
    assert disk(root) == disk_after_first
    assert db_state() == db_after_first
    # Nothing new was ingested, so no follow-up post-processing was started.
    assert set(TaskRun.objects.values_list("pk", flat=True)) == tasks_before | {second.pk}


def test_ingested_rows_get_upload_postprocess(tenant):
    project = project_create(tenant=tenant, name="Drop zone")
    write_file(storage.project_dir(project) / "IMG_1.jpg", jpeg_bytes())
    run_task("maintenance", tenant, project=project)
    follow_up = TaskRun.objects.get(type="upload_postprocess")
    assert follow_up.project == project
    assert list(
        Job.objects.filter(task=follow_up, step_index=0).values_list("items__basename", flat=True)
    ) == ["IMG_1"]


def test_orphan_archived_by_one_run_and_removed_by_the_next(tenant):
    gone = project_create(tenant=tenant, name="Gone")
    make_photo(gone, "IMG_1")
    kept = project_create(tenant=tenant, name="Kept")
    shutil.rmtree(storage.project_dir(gone))

    run_task("maintenance_global", tenant)
    gone.refresh_from_db()
    assert gone.status == Project.Status.ARCHIVED
    assert Photo.objects.filter(project=gone).count() == 1

    run_task("maintenance_global", tenant)
    assert not Project.objects.filter(pk=gone.pk).exists()
    assert Event.objects.filter(type=EventType.PROJECT_REMOVED).count() == 1
    assert Project.objects.get(pk=kept.pk).status == Project.Status.ACTIVE
    assert storage.project_dir(kept).is_dir()


def test_trash_maintenance_job_purges_by_trash_time(tenant, settings):
    project = project_create(tenant=tenant, name="Trash")
    folder = storage.project_dir(project)
    old_by_mtime = write_file(folder / "IMG_1.jpg", jpeg_bytes())
    os.utime(old_by_mtime, (time.time() - 90 * 24 * 3600,) * 2)
    (folder / ".trash").mkdir()
    os.rename(old_by_mtime, folder / ".trash" / "IMG_1.jpg")
    settings.PIPELINE_TRASH_TTL_SECONDS = 1

    run_task("maintenance", tenant, project=project)
    assert (folder / ".trash" / "IMG_1.jpg").exists()

    time.sleep(1.2)
    run_task("maintenance", tenant, project=project)
    assert not (folder / ".trash" / "IMG_1.jpg").exists()


def test_maintenance_task_never_creates_a_missing_project_folder(tenant):
    project = make_project(tenant, "Never made", create_dir=False)
    task = run_task("maintenance", tenant, project=project)
    assert task.status == "completed"
    assert not storage.project_dir(project).exists()


def test_maintenance_of_an_archived_project_leaves_its_folder_alone(tenant):
    project = project_create(tenant=tenant, name="Being deleted")
    write_file(storage.project_dir(project) / "IMG_1.jpg", jpeg_bytes())
    write_file(storage.project_dir(project) / "notes.txt", b"x")
    project_archive(project=project, reason="deleted")

    task = run_task("maintenance", tenant, project=project)

    assert task.status == "completed"
    assert not Photo.objects.exists()
    assert (storage.project_dir(project) / "notes.txt").exists()


def test_folder_discovery_task_recreates_projects_and_reconciles_them(tenant):
    projects = [project_create(tenant=tenant, name=n) for n in ("One", "Two", "Three")]
    for project in projects:
        # Base names are unique in a tenant (uploads and duplicate resolution keep them so).
        make_photo(project, f"IMG_{project.name}", raw=True)
    root = storage.tenant_root(tenant)
    before = disk(root)
    uids = {str(p.uid) for p in projects}

    Project.objects.all().delete()
    task = run_task("folder_discovery", tenant)

    assert task.status == "completed"
    assert {str(u) for u in Project.objects.values_list("uid", flat=True)} == uids
    # Each discovered project got its own maintenance task, which ingested its photos.
    maintenance_tasks = TaskRun.objects.filter(type="maintenance", status="completed")
    assert maintenance_tasks.count() == 3
    assert Photo.objects.count() == 3
    after = disk(root)
    # No file deleted or renamed (derivatives may have been added; manifests carry new ids).
    assert set(before) <= set(after)
    for name, content in before.items():
        if not name.endswith(storage.MANIFEST_NAME):
            assert after[name] == content


def test_maintenance_job_stops_between_projects_when_canceled(tenant, monkeypatch):
    for name in ("A", "B", "C"):
        project_create(tenant=tenant, name=name)
    started = start_task("maintenance_global", tenant)
    seen = []
    purge = trash.trash_purge

    def purge_then_cancel(*, project, **kwargs):
        seen.append(project.pk)
        Job.objects.filter(pk=started["first_job_id"]).update(cancel_requested=True)
        time.sleep(1.1)  # The cancel flag is read at most once a second.
        return purge(project=project, **kwargs)

    monkeypatch.setattr(trash, "trash_purge", purge_then_cancel)
    drain()

    assert len(seen) == 1
    assert Job.objects.get(pk=started["first_job_id"]).status == JobStatus.CANCELED
    assert TaskRun.objects.get(pk=started["task_id"]).status == "canceled"


# --- commands ------------------------------------------------------------------------------


def call(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_maintenance_command_dry_run_prints_the_plan_and_changes_nothing(tenant):
    messy_tenant(tenant)
    root = storage.tenant_root(tenant)
    disk_before, db_before, since = disk(root), db_state(), last_event_id()

    output = call("maintenance", "--dry-run")

    assert "rename_duplicate IMG_1" in output
    assert "rename_folder Rome- day 1" in output
    assert "unaccepted_files 1 (notes.txt)" in output
    assert "nothing was changed" in output
    assert disk(root) == disk_before
    assert db_state() == db_before
    assert not Event.objects.filter(id__gt=since).exists()
    assert not TaskRun.objects.exists()


def test_maintenance_command_runs_the_global_task_in_the_foreground(tenant, other_tenant):
    iceland, rome, _ = messy_tenant(tenant)
    project_create(tenant=other_tenant, name="Elsewhere")

    output = call("maintenance", "--tenant", "acme")

    task = TaskRun.objects.get(type="maintenance_global")
    assert task.tenant == tenant
    assert task.status == "completed"
    assert f"acme: maintenance_global task {task.pk} completed" in output
    assert not TaskRun.objects.filter(tenant=other_tenant).exists()
    rome.refresh_from_db()
    assert rome.folder == "Rome- day 1"


def test_maintenance_command_for_one_project_and_enqueue(tenant):
    project = project_create(tenant=tenant, name="Solo")
    call("maintenance", "--project", str(project.pk), "--enqueue")
    task = TaskRun.objects.get()
    assert (task.type, task.project, task.status) == ("maintenance", project, "queued")
    with pytest.raises(CommandError, match="does not belong"):
        call("maintenance", "--project", str(project.pk), "--tenant", "nope")
    with pytest.raises(CommandError, match="cannot be combined"):
        call("maintenance", "--dry-run", "--enqueue")


def test_maintenance_command_refuses_an_archived_project_as_every_trigger_does(tenant):
    project = project_create(tenant=tenant, name="Gone")
    project_archive(project=project)
    with pytest.raises(CommandError, match=f"Project {project.pk} is archived."):
        call("maintenance", "--project", str(project.pk), "--enqueue")
    assert not TaskRun.objects.exists()


def test_maintenance_command_without_tenant_acts_on_every_tenant(tenant, other_tenant):
    call("maintenance", "--enqueue")
    assert set(TaskRun.objects.values_list("tenant__slug", "type")) == {
        ("acme", "maintenance_global"),
        ("globex", "maintenance_global"),
    }


def test_discover_folders_command_dry_run_then_for_real(tenant, other_tenant):
    root = storage.tenant_root(tenant)
    write_file(root / "Found" / "IMG_1.jpg", jpeg_bytes())
    before = disk(root)

    output = call("discover_folders", "--dry-run")

    assert "create_project Found" in output
    assert not Project.objects.exists()
    assert disk(root) == before

    output = call("discover_folders", "--tenant", "acme")
    project = Project.objects.get()
    assert project.folder == "Found"
    assert "folder_discovery task" in output
    assert (root / "Found" / "IMG_1.jpg").read_bytes() == before["Found/IMG_1.jpg"]


def test_a_tenant_wide_step_stores_its_progress_at_most_once_an_interval(tenant, monkeypatch):
    """An unchanged library's hourly run walks every project in milliseconds each: a progress
    write (a commit) per project would cost more than the checks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.handlers import maintenance as handlers

    monkeypatch.setattr(handlers, "PROGRESS_WRITE_SECONDS", 3600)
    for n in range(12):
        make_project(tenant, f"Shoot {n}")
    started = start_task("maintenance_global", tenant)
    with CaptureQueriesContext(connection) as ctx:
        drain(task_id=started["task_id"])
    job = Job.objects.get(task_id=started["task_id"], type="orphaned_project_cleanup")
    assert job.status == JobStatus.COMPLETED
    assert job.progress_done == job.progress_total == 12
    progress_writes = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith('UPDATE "jobs_job" SET "progress') and f'"id" = {job.pk}' in q["sql"]
    ]
    assert len(progress_writes) == 2  # the total, then the end of the loop
