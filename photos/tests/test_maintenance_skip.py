"""``maintenance_global`` skips a project unchanged since its last full check, and still finds
every change: a file added, removed or renamed, a row changed or deleted, trash falling due.

Folders are aged (``os.utime``) after each change: a folder changed within the last two
seconds always counts as changed, so a test that did not age it would prove nothing.
"""

from __future__ import annotations

import io
import os
import time
from collections import Counter
from pathlib import Path

import pytest

from jobs.models import Job
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.fsrules import trash_move
from photos.models import Photo
from photos.services import photos_keep_update
from photos.storage import project_dir
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, make_project, write_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scans(monkeypatch):
    counts: Counter[Path] = Counter()
    real = os.scandir

    def counting(path="."):  # type: ignore[no-untyped-def]
        if not isinstance(path, int):
            counts[Path(path).resolve()] += 1
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    return counts


_age = iter(range(100, 100_000))


def age(*projects) -> None:
    """Move the folders (and their manifests and trash) into the past, each time to a new
    moment, as if the last change happened long ago."""
    stamp = time.time() - next(_age)
    for project in projects:
        for path in (
            project_dir(project) / ".project.yaml",
            project_dir(project) / ".trash",
            project_dir(project),
        ):
            if path.exists():
                os.utime(path, (stamp, stamp), follow_symlinks=False)


def run(tenant, **payload) -> None:
    started = start_task("maintenance_global", tenant, payload=payload or None)
    drain(task_id=started["task_id"])
    assert set(Job.objects.filter(task_id=started["task_id"]).values_list("status", flat=True)) == {
        "completed"
    }


@pytest.fixture
def checked(tenant, project):
    """Two projects with photos, fully checked once and confirmed unchanged."""
    other = make_project(tenant, "Other")
    make_photo(project, "IMG_1")
    make_photo(project, "IMG_2")
    make_photo(other, "OTHER_1")
    run(tenant)  # writes the manifests
    age(project, other)
    run(tenant)  # a full check of an unchanged project: confirmed
    for p in (project, other):
        p.refresh_from_db()
        assert p.checked_fingerprint.get("checked"), p.checked_fingerprint
    return project, other


def test_an_unchanged_project_is_not_listed(tenant, checked, scans):
    project, other = checked
    run(tenant)
    assert scans[project_dir(project).resolve()] == 0
    assert scans[project_dir(other).resolve()] == 0


def test_full_checks_every_project(tenant, checked, scans):
    project, other = checked
    run(tenant, full=True)
    assert scans[project_dir(project).resolve()] > 0
    assert scans[project_dir(other).resolve()] > 0


def test_a_file_added_is_found_and_only_that_folder_is_listed(tenant, checked, scans):
    project, other = checked
    write_file(project_dir(project) / "NEW_1.jpg", jpeg_bytes())
    age(project)
    run(tenant)
    assert Photo.objects.filter(project=project, basename="NEW_1").exists()
    assert scans[project_dir(project).resolve()] > 0
    assert scans[project_dir(other).resolve()] == 0


def test_a_file_added_within_the_same_second_is_found(tenant, checked):
    project, _ = checked
    write_file(project_dir(project) / "NEW_2.jpg", jpeg_bytes())  # not aged: folder just changed
    run(tenant)
    assert Photo.objects.filter(project=project, basename="NEW_2").exists()


def test_a_file_removed_is_found(tenant, checked):
    project, _ = checked
    (project_dir(project) / "IMG_1.jpg").unlink()
    age(project)
    run(tenant)
    assert not Photo.objects.filter(project=project, basename="IMG_1").exists()


def test_a_file_renamed_is_found(tenant, checked):
    project, _ = checked
    (project_dir(project) / "IMG_2.jpg").rename(project_dir(project) / "IMG_9.jpg")
    age(project)
    run(tenant)
    bases = set(Photo.objects.filter(project=project).values_list("basename", flat=True))
    assert bases == {"IMG_1", "IMG_9"}


def test_a_row_changed_through_a_service_checks_the_project_again(user, tenant, checked, scans):
    project, other = checked
    photo = Photo.objects.get(project=project, basename="IMG_1")
    photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    run(tenant)
    assert scans[project_dir(project).resolve()] > 0
    assert scans[project_dir(other).resolve()] == 0


def test_a_deleted_row_checks_the_project_again_and_the_file_comes_back(tenant, checked):
    project, _ = checked
    Photo.objects.filter(project=project, basename="IMG_2").delete()
    run(tenant)
    assert Photo.objects.filter(project=project, basename="IMG_2").exists()


def test_trash_falling_due_is_purged_in_a_skipped_project(tenant, checked, settings, scans):
    project, _ = checked
    (project_dir(project) / "LOOSE.txt").write_bytes(b"x")
    trash_move(project_dir(project), "LOOSE.txt")
    age(project)
    run(tenant)  # sees the change, walks the trash: the entry is due in a day
    age(project)
    run(tenant)
    age(project)
    run(tenant)
    project.refresh_from_db()
    assert (project_dir(project) / ".trash" / "LOOSE.txt").exists()
    assert project.checked_fingerprint["trash"]["due"] > time.time()
    # The day passes.
    settings.PIPELINE_TRASH_TTL_SECONDS = 0
    fingerprint = project.checked_fingerprint
    fingerprint["trash"]["due"] = time.time() - 1
    Project.objects.filter(pk=project.pk).update(checked_fingerprint=fingerprint)
    scans.clear()
    run(tenant)
    assert not (project_dir(project) / ".trash" / "LOOSE.txt").exists()
    assert scans[project_dir(project).resolve()] == 0  # the project's own checks still skipped


def test_the_full_option_of_the_command_checks_every_project(tenant, checked, scans):
    from django.core.management import call_command

    project, other = checked
    call_command("maintenance", "--tenant", tenant.slug, "--full", stdout=io.StringIO())
    assert scans[project_dir(project).resolve()] > 0
    assert scans[project_dir(other).resolve()] > 0
