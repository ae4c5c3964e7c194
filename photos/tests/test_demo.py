"""The ``demo`` command: a tenant, a staff user and sample projects that went through the pipeline."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from PIL import Image

from jobs.models import Event, JobStatus, TaskRun
from photos.models import DerivativeStatus, Photo
from photos.storage import file_path, thumbnail_path
from projects.models import Project, Tenant


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_demo_builds_a_living_system_in_the_foreground(db):
    output = run_demo("--password", "demo-pass-123", "--photos", "3")
    tenant = Tenant.objects.get(slug="demo")
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff
    assert user.check_password("demo-pass-123")
    assert user.has_perm("jobs.change_job")
    # Lanes are shared by every tenant: the demo's staff user sees them but cannot pause them.
    assert not user.has_perm("jobs.change_lanestate")
    assert user.membership.tenant_id == tenant.pk
    assert output.rstrip().endswith("Password:  demo-pass-123")

    projects = list(Project.objects.filter(tenant=tenant))
    assert len(projects) == 3
    photos = Photo.objects.filter(project__tenant=tenant)
    assert photos.count() == 9
    photo = photos.first()
    with Image.open(file_path(photo.project, f"{photo.basename}.jpg")) as image:
        assert image.format == "JPEG"
        assert image.size == (1200, 800)
    # The upload tasks ran through the real handlers: thumbnails exist, EXIF was read.
    assert set(TaskRun.objects.filter(tenant=tenant).values_list("status", flat=True)) == {
        JobStatus.COMPLETED
    }
    assert set(photos.values_list("thumbnail_status", flat=True)) == {DerivativeStatus.GENERATED}
    assert thumbnail_path(photo.project, photo.basename).is_file()
    assert photos.exclude(taken_at=None).count() == 9
    # Culled and tagged through the services, so there is something to commit and a history.
    assert photos.pending_delete().count() == 3
    assert Event.objects.filter(tenant=tenant, actor=user, type="item").exists()
    assert photos.filter(tags__isnull=False).exists()


def test_demo_is_idempotent_and_resets_the_password(db):
    run_demo("--password", "first-pass-123", "--photos", "2", "--enqueue")
    output = run_demo("--password", "second-pass-456", "--photos", "2", "--enqueue")
    assert "already has photos" in output
    assert Project.objects.filter(tenant__slug="demo").count() == 3
    assert Photo.objects.filter(project__tenant__slug="demo").count() == 6
    assert get_user_model().objects.get(username="demo").check_password("second-pass-456")


def test_demo_with_enqueue_leaves_the_work_to_the_workers(db):
    run_demo("--photos", "2", "--enqueue")
    tasks = TaskRun.objects.filter(tenant__slug="demo")
    assert tasks.count() == 3
    assert set(tasks.values_list("status", flat=True)) == {JobStatus.QUEUED}


def test_demo_refuses_a_user_of_another_tenant(db):
    other = Tenant.objects.create(slug="other", name="Other")
    user = get_user_model().objects.create_user(username="demo", password="x")
    from projects.models import Membership

    Membership.objects.create(user=user, tenant=other)
    with pytest.raises(CommandError, match="belongs to tenant other"):
        run_demo("--photos", "1", "--enqueue")


def test_demo_if_no_users_does_nothing_once_a_user_exists(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    get_user_model().objects.create_user("someone")
    assert run_demo("--if-no-users", "--photos", "1") == ""
    assert not Tenant.objects.filter(slug="demo").exists()
    assert not (tmp_path / "demo-login.json").exists()


def test_quiet_demo_prints_nothing_and_leaves_the_login_for_serve(db, settings, tmp_path):
    import json

    settings.VAR_DIR = tmp_path
    output = run_demo("--if-no-users", "--verbosity", "0", "--photos", "1", "--enqueue")
    assert output == ""
    login = tmp_path / "demo-login.json"
    assert login.stat().st_mode & 0o777 == 0o600
    saved = json.loads(login.read_text())
    assert saved["username"] == "demo"
    assert get_user_model().objects.get(username="demo").check_password(saved["password"])
