"""Tenant-level maintenance on real folder trees: orphans, alignment, discovery."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from jobs.events import EventType
from jobs.models import Event
from photos import project_maintenance as maintenance
from photos import storage
from photos.manifest import manifest_read, manifest_write
from photos.models import Photo
from photos.reconcile.plan import maintenance_plan
from photos.services.projects import project_archive, project_create, project_rename
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, make_project, write_file


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def events(type: str, since: int = 0) -> list[Event]:
    return list(Event.objects.filter(type=type, id__gt=since))


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def later():
    return timezone.now() + timedelta(seconds=1)


# --- orphans -------------------------------------------------------------------------------


def test_orphan_is_archived_first_then_removed_on_a_later_run(tenant):
    project = make_project(tenant, "Gone")
    make_photo(project, "IMG_1")
    keeper = make_project(tenant, "Here")
    shutil.rmtree(storage.project_dir(project))

    maintenance.orphan_cleanup(project=project, archived_before=timezone.now())
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED
    assert events(EventType.PROJECT_ARCHIVED)[0].payload["reason"] == maintenance.ORPHAN_REASON
    assert Photo.objects.filter(project=project).count() == 1

    # The same run (archived_before = when it began) never removes what it just archived.
    maintenance.orphan_cleanup(project=project, archived_before=project.archived_at)
    assert Project.objects.filter(pk=project.pk).exists()

    maintenance.orphan_cleanup(project=project, archived_before=later())
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Photo.objects.filter(project_id=project.pk).exists()
    removed = events(EventType.PROJECT_REMOVED)
    assert [e.payload["project_id"] for e in removed] == [project.pk]
    assert Project.objects.get(pk=keeper.pk).status == Project.Status.ACTIVE


def test_orphan_removal_stops_when_the_folder_comes_back_meanwhile(tenant):
    project = make_project(tenant, "Gone")
    make_photo(project, "IMG_1")
    folder = storage.project_dir(project)
    shutil.rmtree(folder)
    maintenance.orphan_cleanup(project=project)

    maintenance.orphan_cleanup(
        project=project, archived_before=later(), checkpoint=lambda: folder.mkdir(exist_ok=True)
    )

    assert Project.objects.filter(pk=project.pk).exists()
    assert Photo.objects.filter(project=project).count() == 1
    assert events(EventType.PROJECT_REMOVED) == []


def test_orphan_rule_never_touches_a_project_whose_folder_exists(tenant):
    active = make_project(tenant, "Active")
    archived = make_project(tenant, "Archived")
    project_archive(project=archived, reason=maintenance.ORPHAN_REASON)
    for project in (active, archived):
        report = maintenance.orphan_cleanup(project=project, archived_before=later())
        assert report.total == 0
    assert Project.objects.get(pk=active.pk).status == Project.Status.ACTIVE
    assert Project.objects.filter(pk=archived.pk).exists()


def test_a_project_that_needs_nothing_is_decided_without_a_query(tenant, django_assert_num_queries):
    """The hourly run checks every project of the tenant: a folder that exists (orphans) or
    is its name's first choice (alignment) is decided on the row as listed."""
    make_project(tenant, "Iceland")
    project = Project.objects.select_related("tenant").get(name="Iceland")
    with django_assert_num_queries(0):
        assert maintenance.orphan_cleanup(project=project, archived_before=later()).total == 0
        assert maintenance.folder_align(project=project) is False


def test_a_project_renamed_after_listing_is_aligned_by_the_next_run(tenant):
    """The row as listed is aligned; the project was renamed meanwhile: this run does
    nothing for it (doing nothing is always safe), the next run, listing it again, aligns."""
    project = make_project(tenant, "Iceland")
    stale = Project.objects.select_related("tenant").get(pk=project.pk)
    Project.objects.filter(pk=project.pk).update(name="Norway")
    assert maintenance.folder_align(project=stale) is False
    assert Project.objects.get(pk=project.pk).folder == "Iceland"
    fresh = Project.objects.get(pk=project.pk)
    assert maintenance.folder_align(project=fresh) is True
    assert Project.objects.get(pk=project.pk).folder == "Norway"
    assert (storage.tenant_root(tenant.slug) / "Norway").is_dir()


def test_orphan_rule_leaves_projects_archived_for_another_reason(tenant):
    project = make_project(tenant, "Deleted by its owner", create_dir=False)
    project_archive(project=project, reason="deleted")
    maintenance.orphan_cleanup(project=project, archived_before=later())
    assert Project.objects.filter(pk=project.pk).exists()


def test_orphan_rule_does_nothing_while_the_tenant_root_is_missing(tenant, photos_root):
    project = make_project(tenant, "Unmounted")
    shutil.rmtree(photos_root / tenant.slug)
    report = maintenance.orphan_cleanup(project=project, archived_before=later())
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert report.total == 0


def test_orphan_dry_run_changes_nothing(tenant):
    project = make_project(tenant, "Gone", create_dir=False)
    (storage.tenant_root(tenant)).mkdir(parents=True, exist_ok=True)
    report = maintenance.orphan_cleanup(project=project, dry_run=True)
    assert [c.action for c in report.changes] == ["archive_project"]
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE


# --- alignment -----------------------------------------------------------------------------


def test_alignment_converges_and_never_suffixes_an_aligned_project(tenant):
    aligned = make_project(tenant, "Iceland")
    renamed = make_project(tenant, "Norway")
    project_rename(project=renamed, name="Iceland")
    odd = make_project(tenant, "Paris Day 1", folder="old-folder")
    make_photo(odd, "IMG_1")
    project_rename(project=odd, name="Paris: Day  1")
    projects = list(Project.objects.order_by("id"))

    report = maintenance.folders_align(projects=projects)

    folders = dict(Project.objects.values_list("pk", "folder"))
    assert folders == {aligned.pk: "Iceland", renamed.pk: "Iceland (2)", odd.pk: "Paris- Day 1"}
    root = storage.tenant_root(tenant)
    assert sorted(os.listdir(root)) == ["Iceland", "Iceland (2)", "Paris- Day 1"]
    assert (root / "Paris- Day 1" / "IMG_1.jpg").exists()
    assert report.counts["rename_folder"] == 2
    assert len(events(EventType.FOLDER_RENAMED)) == 2

    since = last_event_id()
    for _ in range(2):
        report = maintenance.folders_align(projects=list(Project.objects.order_by("id")))
        assert report.total == 0
    assert events(EventType.FOLDER_RENAMED, since) == []
    assert dict(Project.objects.values_list("pk", "folder")) == folders


def test_alignment_leaves_an_existing_target_alone(tenant):
    project = make_project(tenant, "Old name")
    project_rename(project=project, name="Taken")
    stray = storage.tenant_root(tenant) / "Taken"
    stray.mkdir()
    write_file(stray / "IMG_9.jpg", jpeg_bytes())

    maintenance.folders_align(projects=[project])

    project.refresh_from_db()
    # "Taken" exists on disk, so the unique folder is "Taken (2)"; the stray folder is untouched.
    assert project.folder == "Taken (2)"
    assert (stray / "IMG_9.jpg").exists()


def test_alignment_logs_and_skips_a_target_that_appears(tenant, monkeypatch):
    project = make_project(tenant, "Old name")
    project_rename(project=project, name="New name")
    (storage.tenant_root(tenant) / "New name").mkdir()
    # A folder created between the choice and the rename (a race) blocks it.
    monkeypatch.setattr(maintenance, "project_folder_for", lambda **kw: "New name")

    report = maintenance.folder_align(project=project)

    assert report is False
    project.refresh_from_db()
    assert project.folder == "Old name"
    assert (storage.tenant_root(tenant) / "Old name").is_dir()


def test_alignment_of_swapped_names_converges_in_one_run(tenant):
    a = make_project(tenant, "A")
    b = make_project(tenant, "B")
    project_rename(project=a, name="B")
    project_rename(project=b, name="A")

    maintenance.folders_align(projects=[a, b])
    first = dict(Project.objects.values_list("pk", "folder"))
    report = maintenance.folders_align(projects=[a, b])

    assert report.total == 0
    assert first == {a.pk: "B", b.pk: "A"}


def test_alignment_skips_a_project_whose_folder_is_missing(tenant):
    project = make_project(tenant, "Gone", create_dir=False)
    project_rename(project=project, name="Elsewhere")
    assert maintenance.folder_align(project=project) is False
    assert not (storage.tenant_root(tenant) / "Elsewhere").exists()


def test_alignment_dry_run_changes_nothing(tenant):
    project = make_project(tenant, "Old")
    project_rename(project=project, name="New")
    report = maintenance.folders_align(projects=[project], dry_run=True)
    assert [(c.action, c.target) for c in report.changes] == [("rename_folder", "New")]
    project.refresh_from_db()
    assert project.folder == "Old"
    assert (storage.tenant_root(tenant) / "Old").is_dir()


# --- discovery -----------------------------------------------------------------------------


def test_discovery_creates_projects_for_new_folders_and_ignores_hidden_ones(tenant):
    root = storage.tenant_root(tenant)
    write_file(root / "Wedding 2024" / "IMG_1.jpg", jpeg_bytes())
    write_file(root / ".deleting-abc" / "IMG_2.jpg", jpeg_bytes())
    write_file(root / "stray-file.jpg", jpeg_bytes())

    touched = maintenance.folders_discover(tenant=tenant)

    project = Project.objects.get()
    assert touched == [project]
    assert (project.name, project.folder) == ("Wedding 2024", "Wedding 2024")
    assert manifest_read(root / "Wedding 2024")["uid"] == str(project.uid)
    assert events(EventType.PROJECT_DISCOVERED)[0].project_id == project.pk
    assert (root / ".deleting-abc" / "IMG_2.jpg").exists()

    since = last_event_id()
    assert maintenance.folders_discover(tenant=tenant) == []
    assert Event.objects.filter(id__gt=since).count() == 0


def test_discovery_recreates_every_project_after_the_database_is_wiped(tenant):
    created = [project_create(tenant=tenant, name=n) for n in ("Iceland", "Iceland", "Rome: day 1")]
    for project in created:
        make_photo(project, "IMG_1", raw=True)
        write_file(storage.project_dir(project) / ".thumb" / "IMG_1.webp", b"thumb")
    before = {(str(p.uid), p.name, p.folder, p.created_at) for p in created}
    root = storage.tenant_root(tenant)
    disk_before = tree(root)

    Project.objects.all().delete()
    maintenance.folders_discover(tenant=tenant)

    after = {(str(p.uid), p.name, p.folder, p.created_at) for p in Project.objects.all()}
    assert after == before
    assert tree(root) == disk_before
    for project in Project.objects.all():
        assert manifest_read(storage.project_dir(project))["id"] == project.pk


def test_discovery_finds_a_renamed_folder_by_its_manifest(tenant):
    project = project_create(tenant=tenant, name="Shoot")
    make_photo(project, "IMG_1")
    root = storage.tenant_root(tenant)
    os.rename(root / "Shoot", root / "Shoot renamed by hand")

    maintenance.folders_discover(tenant=tenant)

    project.refresh_from_db()
    assert Project.objects.count() == 1
    assert project.folder == "Shoot renamed by hand"
    assert Photo.objects.get().project == project
    renamed = events(EventType.FOLDER_RENAMED)[0]
    assert renamed.payload["old_folder"] == "Shoot"


def test_discovery_gives_a_copied_folder_a_new_uid_and_never_merges_it(tenant):
    project = project_create(tenant=tenant, name="Shoot")
    make_photo(project, "IMG_1")
    root = storage.tenant_root(tenant)
    shutil.copytree(root / "Shoot", root / "Shoot copy")

    maintenance.folders_discover(tenant=tenant)

    copy = Project.objects.exclude(pk=project.pk).get()
    assert (copy.folder, copy.name) == ("Shoot copy", "Shoot copy")
    assert copy.uid != project.uid
    assert manifest_read(root / "Shoot copy")["uid"] == str(copy.uid)
    assert manifest_read(root / "Shoot")["uid"] == str(project.uid)
    project.refresh_from_db()
    assert project.folder == "Shoot"


def test_discovery_never_maps_two_folders_to_one_project(tenant):
    project = project_create(tenant=tenant, name="Shoot")
    root = storage.tenant_root(tenant)
    shutil.copytree(root / "Shoot", root / "Shoot A")
    os.rename(root / "Shoot", root / "Shoot B")

    maintenance.folders_discover(tenant=tenant)

    project.refresh_from_db()
    assert project.folder == "Shoot A"  # The first in name order adopts it…
    other = Project.objects.exclude(pk=project.pk).get()
    assert other.folder == "Shoot B"  # …the second is a new project with a new uid.
    assert other.uid != project.uid
    assert manifest_read(root / "Shoot B")["uid"] == str(other.uid)


def test_discovery_keeps_a_uid_unknown_to_the_database(tenant, other_tenant):
    root = storage.tenant_root(tenant)
    ghost = Project(tenant=tenant, name="From a backup", folder="Backup")
    write_file(root / "Backup" / "IMG_1.jpg", jpeg_bytes())
    manifest_write(root / "Backup", ghost)

    maintenance.folders_discover(tenant=tenant)

    project = Project.objects.get()
    assert (project.uid, project.name, project.folder) == (ghost.uid, "From a backup", "Backup")


def test_discovery_never_adopts_another_tenants_project(tenant, other_tenant):
    theirs = project_create(tenant=other_tenant, name="Theirs")
    shutil.rmtree(storage.project_dir(theirs))
    folder = storage.tenant_root(tenant) / "Looks like theirs"
    folder.mkdir(parents=True)
    manifest_write(folder, theirs)

    maintenance.folders_discover(tenant=tenant)

    theirs.refresh_from_db()
    assert theirs.folder == "Theirs"
    mine = Project.objects.get(tenant=tenant)
    assert mine.uid != theirs.uid


def test_discovery_restores_an_orphan_whose_folder_is_back(tenant):
    project = project_create(tenant=tenant, name="Away")
    away = storage.tenant_root(tenant) / "Away"
    os.rename(away, away.with_name(".parked"))
    maintenance.orphan_cleanup(project=project)
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED

    os.rename(away.with_name(".parked"), away)
    maintenance.folders_discover(tenant=tenant)

    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert project.archived_at is None


def test_discovery_adopts_and_reactivates_an_orphan_found_under_a_new_name(tenant):
    project = project_create(tenant=tenant, name="Away")
    root = storage.tenant_root(tenant)
    os.rename(root / "Away", root / ".parked")
    maintenance.orphan_cleanup(project=project)
    os.rename(root / ".parked", root / "Back again")

    maintenance.folders_discover(tenant=tenant)

    project.refresh_from_db()
    assert (project.status, project.folder) == (Project.Status.ACTIVE, "Back again")


def test_discovery_leaves_the_folder_of_a_user_deleted_project_alone(tenant):
    project = project_create(tenant=tenant, name="Deleted")
    project_archive(project=project, reason="deleted")
    maintenance.folders_discover(tenant=tenant)
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED
    assert Project.objects.count() == 1


def test_discovery_dry_run_changes_nothing(tenant):
    root = storage.tenant_root(tenant)
    write_file(root / "New" / "IMG_1.jpg", jpeg_bytes())
    before = tree(root)
    report = maintenance.Report(dry_run=True)
    maintenance.folders_discover(tenant=tenant, dry_run=True, report=report)
    assert [(c.action, c.where) for c in report.changes] == [("create_project", "acme/New")]
    assert not Project.objects.exists()
    assert tree(root) == before


def test_discovery_without_a_tenant_root_does_nothing(tenant):
    assert maintenance.folders_discover(tenant=tenant) == []
    assert not storage.tenant_root(tenant).exists()


# --- the plan of a whole task --------------------------------------------------------------


def test_maintenance_plan_lists_every_step_and_changes_nothing(tenant):
    first = project_create(tenant=tenant, name="First")
    second = project_create(tenant=tenant, name="Second")
    make_photo(first, "IMG_1")
    write_file(storage.project_dir(second) / "IMG_1.jpg", jpeg_bytes())
    write_file(storage.project_dir(second) / "notes.txt", b"x")
    project_rename(project=second, name="Second, renamed")
    root = storage.tenant_root(tenant)
    disk_before = tree(root)
    since = last_event_id()

    report = maintenance_plan(tenant=tenant)

    assert {c.action for c in report.changes} >= {
        "rename_duplicate",
        "rename_folder",
        "write_manifest",
        "unaccepted_files",
        "create_row",
    }
    assert tree(root) == disk_before
    assert Event.objects.filter(id__gt=since).count() == 0
    assert Photo.objects.count() == 1
