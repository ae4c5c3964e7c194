"""The jobs, tasks and maintenance API (SPEC §9)."""

from __future__ import annotations

import uuid

import pytest

from core.limits import MAX_ITEMS_PER_JOB
from jobs.definitions import TASK_DEFINITIONS
from jobs.enqueue import job_enqueue
from jobs.models import ITEM_FIELD, ITEM_ID, Job, JobItem, JobStatus, Scope, TaskRun
from jobs.runtime import drain
from tests.factories import make_item, make_project
from tests.urls import api_path

SPEC_TASK_TYPES = {
    "upload_postprocess",
    "change_commit",
    "change_commit_all",
    "generate_derivatives",
    "image_move",
    "maintenance",
    "maintenance_global",
    "project_scavenge",
    "project_scavenge_global",
    "project_delete",
    "folder_discovery",
}


def enqueue(tenant, type="test_noop", **kw):
    return job_enqueue(tenant=tenant, type=type, **kw)[0]


def start(api_client, **body):
    response = api_client.post(api_path("task-list"), body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["task"]


def set_rate(settings, scope, rate):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


# --- jobs ---------------------------------------------------------------------------------


def test_job_list_is_scoped_and_filtered(api_client, tenant, other_tenant, project):
    mine = enqueue(tenant, project=project)
    bare = enqueue(tenant, type="test_sleep", priority=95)
    enqueue(other_tenant)
    task = start(api_client, task_type="test_three_steps")

    def ids(query=""):
        response = api_client.get(api_path("job-list") + query)
        assert response.status_code == 200, response.content
        return {j["id"] for j in response.json()["results"]}

    first_step = Job.objects.get(task_id=task["task_id"]).pk
    assert ids() == {mine.pk, bare.pk, first_step}
    assert ids(f"?project={project.pk}") == {mine.pk}
    assert ids("?type=test_sleep") == {bare.pk}
    assert ids("?scope=global") == {bare.pk, first_step}
    assert ids(f"?task={task['task_id']}") == {first_step}
    assert ids("?status=queued") == {mine.pk, bare.pk, first_step}
    assert ids("?status=completed") == set()
    assert api_client.get(api_path("job-list") + "?status=bogus").status_code == 400
    assert api_client.get(api_path("job-list") + "?task=not-a-uuid").status_code == 400
    row = api_client.get(api_path("job-detail", pk=bare.pk)).json()
    assert (row["lane"], row["scope"], row["status"]) == ("priority", "global", "queued")


def test_job_detail_has_items_summary(api_client, tenant, project):
    items = [make_item(project, f"P{i}") for i in range(3)]
    job = enqueue(tenant, type="test_record_items", items=items)
    JobItem.objects.filter(job=job, **{ITEM_FIELD: items[0]}).update(status="done")
    JobItem.objects.filter(job=job, **{ITEM_FIELD: items[1]}).update(status="failed", message="bad")
    body = api_client.get(api_path("job-detail", pk=job.pk)).json()
    assert body["total_items"] == 3
    assert body["items_summary"] == {
        "pending": 1,
        "running": 0,
        "done": 1,
        "skipped": 0,
        "failed": 1,
    }


def test_job_items_are_paginated_and_filtered(api_client, tenant, project):
    items = [make_item(project, f"P{i}") for i in range(5)]
    job = enqueue(tenant, type="test_record_items", items=items)
    JobItem.objects.filter(job=job, **{ITEM_FIELD: items[4]}).update(status="failed")
    page = api_client.get(api_path("job-items", pk=job.pk) + "?page_size=2").json()
    assert page["count"] == 5
    assert [i["basename"] for i in page["results"]] == ["P0", "P1"]
    failed = api_client.get(api_path("job-items", pk=job.pk) + "?status=failed").json()["results"]
    # The item's key is the item field's name (the API predates the registry).
    assert [i[ITEM_FIELD] for i in failed] == [items[4].pk]


def test_items_summary_after_a_real_run(api_client, tenant, project):
    items = [make_item(project, f"P{i}") for i in range(4)]
    task = start(api_client, task_type="test_chunked", items=[i.pk for i in items])
    drain(task_id=task["task_id"])
    job = Job.objects.get(task_id=task["task_id"], step_index=0)
    body = api_client.get(api_path("job-detail", pk=job.pk)).json()
    assert body["status"] == "completed"
    assert body["items_summary"]["done"] == 4
    detail = api_client.get(api_path("task-detail", task_id=task["task_id"])).json()
    assert detail["status"] == "completed"
    assert [j["step_index"] for j in detail["jobs"]] == [0, 1]
    assert detail["progress"]["jobs_completed"] == 2


def test_cancel_queued_job(api_client, tenant):
    job = enqueue(tenant)
    response = api_client.post(api_path("job-cancel", pk=job.pk))
    assert response.status_code == 202
    assert response.json()["status"] == "canceled"
    again = api_client.post(api_path("job-cancel", pk=job.pk) + "/")
    assert again.status_code == 409
    assert "already canceled" in again.json()["detail"]


def test_cancel_running_job_requests_cancellation(api_client, tenant):
    job = enqueue(tenant)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    response = api_client.post(api_path("job-cancel", pk=job.pk))
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True


def test_retry_failed_job_and_refuse_queued(api_client, tenant):
    job = enqueue(tenant, type="test_always_fails", max_attempts=1)
    drain()
    job.refresh_from_db()
    assert job.status == "failed"
    response = api_client.post(api_path("job-retry", pk=job.pk))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    conflict = api_client.post(api_path("job-retry", pk=job.pk) + "/")
    assert conflict.status_code == 409
    assert "detail" in conflict.json()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/items"), ("post", "/cancel"), ("post", "/retry")],
)
def test_other_tenants_job_is_404(api_client, other_tenant, method, suffix):
    job = enqueue(other_tenant)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    foreign = getattr(api_client, method)(f"/api/jobs/{job.pk}{suffix}")
    missing = getattr(api_client, method)(f"/api/jobs/999999{suffix}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    job.refresh_from_db()
    assert job.status == "failed"


def test_job_list_runs_a_fixed_number_of_queries(api_client, tenant, django_assert_max_num_queries):
    for _ in range(30):
        enqueue(tenant)
    with django_assert_max_num_queries(5):
        response = api_client.get(api_path("job-list") + "?page_size=100")
    assert len(response.json()["results"]) == 30


# --- tasks --------------------------------------------------------------------------------


def test_task_definitions(api_client, tenant):
    response = api_client.get(api_path("task-definitions"))
    assert response.status_code == 200
    types = {d["type"]: d for d in response.json()}
    assert SPEC_TASK_TYPES <= set(types) <= set(TASK_DEFINITIONS)
    commit = types["change_commit"]
    assert [s["type"] for s in commit["steps"]][0] == "file_removal"
    assert commit["steps"][0]["priority"] == 100
    assert types["maintenance_global"]["scope"] == "global"


def test_start_task_with_project_and_items(api_client, project):
    item = make_item(project, "A")
    task = start(api_client, task_type="generate_derivatives", items=[{ITEM_ID: item.pk}])
    assert task["scope"] == Scope.ITEM_SET
    assert task["job_count"] == 1
    assert task["status"] == "queued"
    run = TaskRun.objects.get(pk=task["task_id"])
    assert run.source == "user"
    assert run.payload["project_ids"] == [project.pk]
    task = start(api_client, task_type="maintenance", project=project.pk)
    assert (task["scope"], task["project"]) == ("project", project.pk)


def test_start_task_payload_cannot_overwrite_reserved_keys(api_client, tenant):
    task = start(
        api_client,
        task_type="test_three_steps",
        payload={"task_id": "x", "source": "scheduler", "note": "hi"},
    )
    run = TaskRun.objects.get(pk=task["task_id"])
    assert run.payload["task_id"] == task["task_id"]
    assert run.payload["source"] == "user"
    assert run.payload["note"] == "hi"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"task_type": "make_coffee"}, "Unknown task type 'make_coffee'."),
        ({"task_type": "maintenance"}, "A project-scoped job needs a project."),
        ({"task_type": "project_delete"}, "Use DELETE /api/projects/{id}/ to delete a project."),
    ],
)
def test_start_task_refusals(api_client, tenant, body, detail):
    response = api_client.post(api_path("task-list"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert not TaskRun.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"task_type": ["maintenance"]},
        {"task_type": "generate_derivatives", "items": "all"},
        {"task_type": "generate_derivatives", "items": ["x"]},
        {"task_type": "generate_derivatives", "items": [{"id": 1}]},
        {"task_type": "test_three_steps", "payload": [1, 2]},
        {"task_type": "test_three_steps", "scope": "galaxy"},
        {"task_type": "test_three_steps", "project": "abc"},
    ],
)
def test_start_task_wrong_types_are_400(api_client, tenant, body):
    response = api_client.post(api_path("task-list"), body, format="json")
    assert response.status_code == 400, response.content
    assert not TaskRun.objects.exists()


def test_start_task_with_more_than_2000_items_is_400(api_client, tenant):
    items = list(range(1, MAX_ITEMS_PER_JOB + 2))
    response = api_client.post(
        api_path("task-list"), {"task_type": "generate_derivatives", "items": items}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Payload contains 2001 items, exceeding maximum of 2000."}


def test_start_task_with_other_tenants_ids(api_client, other_tenant):
    foreign = make_project(other_tenant, "Foreign")
    foreign_item = make_item(foreign, "F")
    response = api_client.post(
        api_path("task-list"), {"task_type": "maintenance", "project": foreign.pk}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"Project {foreign.pk} not found."}
    response = api_client.post(
        api_path("task-list"),
        {"task_type": "generate_derivatives", "items": [foreign_item.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert not TaskRun.objects.exists()


def test_task_detail_and_list_are_scoped(api_client, other_client, tenant):
    task = start(api_client, task_type="test_three_steps")
    body = api_client.get(api_path("task-detail", task_id=task["task_id"])).json()
    assert body["id"] == task["task_id"]
    assert body["progress"]["steps_total"] == 3
    assert len(body["jobs"]) == 1
    assert other_client.get(api_path("task-detail", task_id=task["task_id"])).status_code == 404
    assert other_client.get(api_path("task-list")).json()["results"] == []
    assert [t["id"] for t in api_client.get(api_path("task-list")).json()["results"]] == [
        task["task_id"]
    ]
    assert api_client.get(api_path("task-detail", task_id=uuid.uuid4())).status_code == 404
    assert api_client.get("/api/tasks/not-a-uuid/").status_code == 404


def test_user_without_tenant_cannot_start_global_tasks(client_for, db):
    from tests.factories import make_user

    loner = client_for(make_user(None, "loner"))
    response = loner.post(api_path("task-list"), {"task_type": "test_three_steps"}, format="json")
    # Without a membership there is no role, and no role may do anything (SPEC §14).
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You are not a member of a studio, so you may not start tasks."
    }
    assert loner.get(api_path("job-list")).status_code == 403


# --- maintenance --------------------------------------------------------------------------


def test_maintenance_run_is_single_flight(api_client, other_client, tenant, other_tenant):
    response = api_client.post(api_path("maintenance-run"), {}, format="json")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert TaskRun.objects.get(pk=task_id).type == "maintenance_global"
    again = api_client.post(api_path("maintenance-run") + "/")
    assert again.status_code == 409
    assert again.json()["task_id"] == task_id
    assert task_id in again.json()["detail"]
    # Another tenant's maintenance is theirs alone.
    assert other_client.post(api_path("maintenance-run")).status_code == 202


def test_maintenance_of_one_project(api_client, project, other_tenant):
    response = api_client.post(api_path("maintenance-run"), {"project": project.pk}, format="json")
    assert response.status_code == 202
    run = TaskRun.objects.get(pk=response.json()["task_id"])
    assert (run.type, run.project_id) == ("maintenance", project.pk)
    foreign = make_project(other_tenant, "Foreign")
    response = api_client.post(api_path("maintenance-run"), {"project": foreign.pk}, format="json")
    assert response.status_code == 404
    assert TaskRun.objects.count() == 1


def test_maintenance_discover(api_client, project):
    response = api_client.post(api_path("maintenance-discover"))
    assert response.status_code == 202
    assert TaskRun.objects.get(pk=response.json()["task_id"]).type == "folder_discovery"
    assert api_client.post(api_path("maintenance-discover") + "/").status_code == 409
    with_project = api_client.post(
        api_path("maintenance-discover"), {"project": project.pk}, format="json"
    )
    assert with_project.status_code == 400


def test_maintenance_bad_body_is_400(api_client, tenant):
    response = api_client.post(api_path("maintenance-run"), {"project": "abc"}, format="json")
    assert response.status_code == 400
    assert "project" in response.json()


def test_maintenance_triggers_are_throttled(api_client, tenant, settings):
    set_rate(settings, "maintenance", "1/10min")
    assert api_client.post(api_path("maintenance-discover")).status_code == 202
    response = api_client.post(api_path("maintenance-run"))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert not TaskRun.objects.filter(type="maintenance_global").exists()


def test_throttle_rate_parsing():
    from core.api.throttling import parse_rate

    assert parse_rate("10/5min") == (10, 300)
    assert parse_rate("5/10min") == (5, 600)
    assert parse_rate("120/min") == (120, 60)
    assert parse_rate("2/30s") == (2, 30)
    assert parse_rate("100/day") == (100, 86400)
    assert parse_rate("3/2hours") == (3, 7200)
    assert parse_rate(None) == (None, None)
    from django.core.exceptions import ImproperlyConfigured

    for bad in ("ten/min", "10/5fortnights", "10", "10/0min"):
        with pytest.raises(ImproperlyConfigured):
            parse_rate(bad)
