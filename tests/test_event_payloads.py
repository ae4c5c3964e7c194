"""What events carry for the clients that render them (issue 21 item 5, docs/WORKSPACE.md).

Job events name their step within the task and the task's type, so the tray never re-reads a
job; ``pending_changes`` carries the project's totals; the ``X-Request-ID`` a client sends is
echoed into every event its request writes, and only there.
"""

from __future__ import annotations

from jobs.definitions import TASK_DEFINITIONS
from jobs.events import request_id_scope
from jobs.models import Event
from jobs.tasks import start_task
from tests.factories import make_photo
from tests.urls import api_path


def test_job_events_carry_step_and_steps_total_and_task_type(tenant, project):
    started = start_task("maintenance", tenant, project=project)
    queued = Event.objects.filter(type="job_queued", job__task_id=started["task_id"]).first()
    assert queued is not None
    payload = queued.payload
    assert payload["task_type"] == "maintenance"
    assert payload["step_index"] == 0
    assert payload["steps_total"] == len(TASK_DEFINITIONS["maintenance"].steps)
    assert payload["steps_total"] >= 1


def test_keep_change_echoes_the_request_id_into_item_and_pending_events(api_client, project):
    photo = make_photo(project, "A", jpg=True, raw=True)
    response = api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": photo.pk, "keep_raw": False}]},
        format="json",
        HTTP_X_REQUEST_ID="tab-1.42",
    )
    assert response.status_code == 200, response.content
    item = Event.objects.get(type="item", photo=photo)
    assert item.payload["request_id"] == "tab-1.42"
    assert item.payload["photo_id"] == photo.pk
    assert item.payload["project_id"] == project.pk
    pending = Event.objects.get(type="pending_changes", project=project)
    assert pending.payload == {
        "project_id": project.pk,
        "jpg": 0,
        "raw": 1,
        "total": 1,
        "photos": 1,
        "request_id": "tab-1.42",
    }


def test_events_of_a_request_without_the_header_carry_no_request_id(api_client, project):
    photo = make_photo(project, "A", jpg=True, raw=True)
    api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": photo.pk, "keep_raw": False}]},
        format="json",
    )
    assert "request_id" not in Event.objects.get(type="item", photo=photo).payload


def test_a_malformed_request_id_is_not_echoed(api_client, project):
    photo = make_photo(project, "A", jpg=True, raw=True)
    api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": photo.pk, "keep_raw": False}]},
        format="json",
        HTTP_X_REQUEST_ID="<script>" + "x" * 100,
    )
    assert "request_id" not in Event.objects.get(type="item", photo=photo).payload


def test_the_request_id_ends_with_its_scope(tenant, project):
    with request_id_scope("first"):
        start_task("maintenance", tenant, project=project)
    start_task("maintenance", tenant, project=project)
    ids = [e.payload.get("request_id") for e in Event.objects.filter(type="job_queued")]
    assert ids == ["first", None]
