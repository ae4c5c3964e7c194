"""Tasks have human titles from their definitions (issue 22, item 3): the API, job events, the
admin lists and the dashboard say "Moving 4 photos to Wedding", not ``image_move``."""

from __future__ import annotations

import re

from django.urls import reverse

from jobs.dashboard import dashboard_snapshot
from jobs.definitions import TASK_DEFINITIONS, task_definitions_public, task_title
from jobs.models import Event, Job
from jobs.tasks import start_task
from tests.factories import make_photo, make_project
from tests.urls import api_path

BUILT_IN = (
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
)


def move_four(tenant, project):
    wedding = make_project(tenant, "Wedding")
    photos = [make_photo(project) for _ in range(4)]
    started = start_task(
        "image_move",
        tenant,
        project=project,
        items=[{"photo_id": p.pk} for p in photos],
        payload={"dest_project_id": wedding.pk},
    )
    return started


def test_every_built_in_task_has_a_title_template():
    for task_type in BUILT_IN:
        assert TASK_DEFINITIONS[task_type].title, task_type
    assert {d["type"]: d["title"] for d in task_definitions_public()}["image_move"] == (
        "Moving {photos} to {destination}"
    )


def test_titles_count_in_words():
    definition = TASK_DEFINITIONS["upload_postprocess"]
    assert task_title(definition, task_type="x", items=25) == "Importing 25 photos"
    assert task_title(definition, task_type="x", items=1) == "Importing 1 photo"
    assert task_title(definition, task_type="x") == "Importing photos"
    commit_all = TASK_DEFINITIONS["change_commit_all"]
    assert task_title(commit_all, task_type="x", projects=3) == "Committing changes in 3 projects"
    assert task_title(None, task_type="folder_discovery") == "Folder discovery"


def test_task_api_and_job_events_carry_the_title(api_client, tenant, project):
    started = move_four(tenant, project)

    task = api_client.get(api_path("task-detail", task_id=started["task_id"])).json()
    assert task["title"] == "Moving 4 photos to Wedding"
    listed = api_client.get(api_path("task-list")).json()["results"]
    assert listed[0]["title"] == "Moving 4 photos to Wedding"
    job = api_client.get(api_path("job-detail", pk=started["first_job_id"])).json()
    assert job["task_title"] == "Moving 4 photos to Wedding"
    queued = Event.objects.get(job_id=started["first_job_id"], type="job_queued")
    assert queued.payload["task_title"] == "Moving 4 photos to Wedding"


def test_a_task_cannot_be_given_a_title_through_its_payload(api_client, tenant, project):
    started = start_task("maintenance", tenant, project=project, payload={"title": "<b>x</b>"})
    task = api_client.get(api_path("task-detail", task_id=started["task_id"])).json()
    assert task["title"] == f"Maintenance of {project.name}"


def test_admin_lists_and_dashboard_show_titles_and_human_times(staff_client, tenant, project):
    started = move_four(tenant, project)

    jobs = staff_client.get(reverse("admin:jobs_job_changelist")).content.decode()
    assert "Moving 4 photos to Wedding" in jobs
    tasks = staff_client.get(reverse("admin:jobs_taskrun_changelist")).content.decode()
    assert "Moving 4 photos to Wedding" in tasks
    task_page = staff_client.get(
        reverse("admin:jobs_taskrun_change", args=[started["task_id"]])
    ).content.decode()
    assert "Moving 4 photos to Wedding" in task_page

    dashboard = staff_client.get(reverse("admin:jobs_job_dashboard")).content.decode()
    updated = re.search(
        r'<time id="dash-updated" datetime="([^"]+)" title="\1">([^<]+)</time>', dashboard
    )
    assert updated, dashboard
    assert "T" in updated.group(1)  # the ISO time on hover
    assert re.fullmatch(r"\d\d:\d\d:\d\d", updated.group(2))  # the time of day on the page
    assert "+00:00</span>" not in dashboard


def test_dashboard_jobs_are_named_by_their_task(staff, tenant, project):
    started = move_four(tenant, project)
    Job.objects.filter(pk=started["first_job_id"]).update(priority=95)
    snapshot = dashboard_snapshot(user=staff)
    oldest = next(lane["oldest_waiting"] for lane in snapshot["lanes"] if lane["oldest_waiting"])
    assert oldest["title"] == "Moving 4 photos to Wedding"
    assert not re.search(r"\d{4}-\d\d-\d\dT", snapshot["generated_at_display"])


def test_registered_definitions_title_their_tasks_too(api_client, tenant, project):
    photos = [make_photo(project) for _ in range(3)]
    titled = start_task("test_chunked", tenant, items=[{"photo_id": p.pk} for p in photos])
    untitled = start_task("test_slow", tenant)
    assert api_client.get(api_path("task-detail", task_id=titled["task_id"])).json()["title"] == (
        "Recording 3 photos"
    )
    # A definition without a title reads as its type in words.
    assert (
        api_client.get(api_path("task-detail", task_id=untitled["task_id"])).json()["title"]
        == "Test slow"
    )
