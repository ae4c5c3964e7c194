"""The operator commands of SPEC §12 (serve has its own test with real processes)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from jobs.enqueue import job_enqueue
from jobs.lifecycle import job_claim
from jobs.models import Job, LaneState, TaskRun
from jobs.registry import item_source
from projects.models import Membership, Project, Tenant


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_tenant_user_creates_both_and_prints_the_token_last(db):
    out = run("tenant_user", "studio", "ann", "--password", "s3cret-pass", "--staff")
    user = get_user_model().objects.get(username="ann")
    assert out.strip().splitlines()[-1] == Token.objects.get(user=user).key
    assert Membership.objects.get(user=user).tenant.slug == "studio"
    assert user.is_staff
    assert user.check_password("s3cret-pass")
    assert user.has_perm("jobs.change_job")


def test_tenant_user_is_idempotent(db):
    first = run("tenant_user", "studio", "ann").strip()
    second = run("tenant_user", "studio", "ann").strip()
    assert first == second
    assert Tenant.objects.filter(slug="studio").count() == 1
    assert get_user_model().objects.filter(username="ann").count() == 1


def test_tenant_user_refuses_moving_a_user_and_bad_slugs(db):
    run("tenant_user", "studio", "ann")
    with pytest.raises(CommandError, match="already belongs"):
        run("tenant_user", "other", "ann")
    with pytest.raises(CommandError, match="Invalid tenant slug"):
        run("tenant_user", "../evil", "bob")


def test_start_task_runs_in_the_foreground(tenant):
    out = run("start_task", "test_three_steps", "--tenant", tenant.slug)
    task = TaskRun.objects.get(type="test_three_steps")
    assert task.status == "completed"
    assert f"task {task.pk} completed" in out


def test_start_task_refuses_project_delete_which_only_deleting_the_project_starts(project):
    # A project_delete started by name would skip archiving and freeing the folder name.
    with pytest.raises(CommandError, match="only by deleting its project"):
        run("start_task", "project_delete", "--project", str(project.pk), "--enqueue")
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert not TaskRun.objects.exists()


def test_start_task_refuses_new_work_on_an_archived_project(tenant, project):
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ARCHIVED)
    with pytest.raises(CommandError, match=f"Project {project.pk} is archived."):
        run("start_task", "test_three_steps", "--project", str(project.pk), "--enqueue")
    assert not TaskRun.objects.exists()


def test_start_task_enqueue_only_queues(tenant):
    run("start_task", "test_three_steps", "--tenant", tenant.slug, "--enqueue")
    assert TaskRun.objects.get().status == "queued"
    assert Job.objects.get().status == "queued"


def test_start_task_runs_only_its_own_jobs(tenant):
    other = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    run("start_task", "test_three_steps", "--tenant", tenant.slug)
    other.refresh_from_db()
    assert other.status == "queued"


def test_start_task_errors_are_clear(tenant, project):
    with pytest.raises(CommandError, match="Unknown task type"):
        run("start_task", "nope", "--tenant", tenant.slug)
    with pytest.raises(CommandError, match="does not exist"):
        run("start_task", "maintenance", "--project", "999999")
    with pytest.raises(CommandError, match=f"{item_source().noun[0]} ids"):
        run("start_task", "generate_derivatives", "--tenant", tenant.slug, "--items", "1,x")


def test_jobs_prints_lanes_and_jobs(tenant):
    job_enqueue(tenant=tenant, type="test_noop", priority=95)
    job_enqueue(tenant=tenant, type="test_noop", priority=10)
    job_claim(worker_id="w", min_priority=90)
    out = run("jobs")
    lines = out.splitlines()
    priority = next(line for line in lines if line.startswith("priority"))
    default = next(line for line in lines if line.startswith("default"))
    assert priority.split()[2:] == ["0", "1"]
    assert default.split()[2:] == ["1", "0"]
    assert sum("test_noop" in line for line in lines) == 2


def test_pause_and_resume_lane(db):
    assert "paused" in run("pause_lane", "default")
    assert LaneState.objects.get(lane="default").paused
    assert "resumed" in run("resume_lane", "default")
    assert not LaneState.objects.get(lane="default").paused
    with pytest.raises(CommandError, match="Unknown lane"):
        run("pause_lane", "fast")


def test_sweep_requeues_stale_jobs(tenant):
    from datetime import timedelta

    from django.utils import timezone

    job = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    job_claim(worker_id="dead")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    out = run("sweep")
    assert f"requeued 1 stale job(s) ({job.pk})" in out
    job.refresh_from_db()
    assert job.status == "queued"
