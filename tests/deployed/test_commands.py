"""SPEC §12 as deployed: commands used while ``serve`` runs, and the console it prints."""

from __future__ import annotations

import hashlib
import time

import pytest

from photos.storage import project_dir
from tests.deployment import manage
from tests.factories import make_project
from tests.faults.disk import add_photos

pytestmark = [pytest.mark.deployed, pytest.mark.timeout(180)]


def test_console_prints_one_line_per_job_start_and_end(deployment):
    deployment.user("acme", "ana")
    host = deployment.start()
    status, body = deployment.api("POST", "tasks", {"task_type": "test_three_steps"})
    assert status == 202, body
    task_id = body["task"]["task_id"]
    deployment.wait_api(
        f"tasks/{task_id}",
        lambda task: task["status"] == "completed",
        timeout=60,
        what="the task",
    )
    status, jobs = deployment.api("GET", f"jobs?task={task_id}")
    log = host.log()
    for job in jobs["results"]:
        assert log.count(f"Job {job['id']} test_noop started") == 1, log
        assert log.count(f"Job {job['id']} test_noop completed in") == 1, log
    # django-q2 logs every wake-up message at INFO; by default the console does not show them.
    assert "processing" not in log, log
    assert "Processed" not in log, log


def test_maintenance_while_serve_runs_exits_0(deployment, tenant):
    deployment.user(tenant.slug, "ana")
    project = make_project(tenant, "Busy Week")
    add_photos(project, 3, raw=False)
    deployment.start()
    done = manage("maintenance", "--tenant", tenant.slug, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr, deployment.logs())
    status, body = deployment.api("GET", "tasks?type=maintenance_global")
    assert status == 200
    assert [t["status"] for t in body["results"]] == ["completed"], body


def test_dry_run_move_changes_nothing(deployment, tenant):
    deployment.user(tenant.slug, "ana")
    source = make_project(tenant, "Source")
    dest = make_project(tenant, "Destination")
    photos = add_photos(source, 3, raw=True)

    def disk() -> dict[str, str]:
        tenant_root = project_dir(source).parent
        return {
            str(p.relative_to(tenant_root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in (project_dir(source), project_dir(dest))
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    before = disk()
    deployment.start()
    status, body = deployment.api(
        "POST",
        "photos/move",
        {"items": [{"photo_id": p.pk} for p in photos], "dest_project": dest.pk, "dry_run": True},
    )
    assert status == 200, body
    assert "task_id" not in body, body
    assert body["dry_run"]["per_item"] == [
        {"photo_id": p.pk, "would_move": True} for p in photos
    ], body
    # Give the workers time to run anything a dry run might have queued by mistake.
    time.sleep(3)
    status, tasks = deployment.api("GET", "tasks?type=image_move")
    assert (status, tasks["count"]) == (200, 0), tasks
    for photo in photos:
        status, reply = deployment.api("GET", f"photos/{photo.pk}")
        assert (status, reply["project"]) == (200, source.pk), reply
    assert disk() == before
