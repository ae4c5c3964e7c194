"""``GET /api/projects/{id}/trash`` and ``POST /api/photos/restore`` (SPEC §9)."""

import pytest

from jobs.models import JobItem
from jobs.runtime import drain
from photos.models import Label, Photo, Tag
from photos.services import photos_commit, photos_keep_update
from photos.storage import project_dir
from tests.factories import make_photo, make_user
from tests.urls import api_path


def commit_discarding(user, *photos) -> None:
    photos_keep_update(
        user=user, items=[{"photo_id": p.pk, "keep_jpg": False, "keep_raw": False} for p in photos]
    )
    photos_commit(user=user)
    drain()


@pytest.fixture
def trashed(user, project):
    photo = make_photo(project, "IMG_1", raw=True, rating=3, label=Label.RED)
    photo.tags.add(Tag.objects.create(project=project, name="bride"))
    commit_discarding(user, photo)
    return photo


@pytest.mark.parametrize("slash", ["", "/"])
def test_trash_lists_trashed_photos_with_files_and_purge_due(api_client, project, trashed, slash):
    reply = api_client.get(f"/api/projects/{project.pk}/trash{slash}")
    assert reply.status_code == 200
    (entry,) = reply.json()["results"]
    assert entry["id"] == trashed.pk
    assert entry["basename"] == "IMG_1"
    assert entry["tags"] == ["bride"]
    assert entry["trashed_at"] is not None
    assert entry["purge_due"] > entry["trashed_at"]
    assert sorted(f["name"] for f in entry["files"]) == ["IMG_1.cr2", "IMG_1.jpg"]


def test_trash_of_another_tenants_project_is_not_found(other_client, project, trashed):
    assert other_client.get(api_path("project-trash", pk=project.pk)).status_code == 404
    assert other_client.get(api_path("project-trash", pk=999999)).status_code == 404


def test_a_trashed_photos_thumbnail_is_served_for_the_trash_view(api_client, project, trashed):
    thumb = project_dir(project) / ".thumb" / "IMG_1.webp"
    thumb.parent.mkdir(exist_ok=True)
    thumb.write_bytes(b"RIFF0000WEBP")
    assert api_client.get(api_path("photo-thumbnail", pk=trashed.pk)).status_code == 200
    assert api_client.get(api_path("photo-detail", pk=trashed.pk)).status_code == 404


@pytest.mark.parametrize("slash", ["", "/"])
def test_restore_starts_a_task_and_brings_the_photo_back(api_client, project, trashed, slash):
    reply = api_client.post(
        f"/api/photos/restore{slash}", {"items": [{"photo_id": trashed.pk}]}, format="json"
    )
    assert reply.status_code == 202, reply.content
    body = reply.json()
    assert body["job_count"] == 1
    assert "errors" not in body
    drain()
    photo = api_client.get(api_path("photo-detail", pk=trashed.pk)).json()
    assert (photo["id"], photo["tags"], photo["rating"], photo["label"]) == (
        trashed.pk,
        ["bride"],
        3,
        "red",
    )
    assert api_client.get(api_path("project-trash", pk=project.pk)).json()["results"] == []


def test_restore_dry_run_reports_and_starts_nothing(api_client, trashed):
    reply = api_client.post(
        api_path("photo-restore"),
        {"items": [{"photo_id": trashed.pk}, {"photo_id": 999999}], "dry_run": True},
        format="json",
    )
    assert reply.status_code == 200
    assert reply.json()["dry_run"]["per_item"][0] == {"photo_id": trashed.pk, "would_restore": True}
    assert reply.json()["errors"] == [{"photo_id": 999999, "error": "Photo not found."}]
    assert not JobItem.objects.filter(job__type="photo_restore").exists()


def test_restore_of_another_tenants_photo_is_not_found(other_client, trashed):
    reply = other_client.post(
        api_path("photo-restore"), {"items": [{"photo_id": trashed.pk}]}, format="json"
    )
    assert reply.status_code == 400
    assert reply.json()["errors"] == [{"photo_id": trashed.pk, "error": "Photo not found."}]
    assert Photo.all_objects.get(pk=trashed.pk).trashed_at is not None


def test_restore_over_2000_items_is_refused(api_client):
    reply = api_client.post(
        api_path("photo-restore"), {"items": [{"photo_id": 1}] * 2001}, format="json"
    )
    assert reply.status_code == 400
    assert reply.json()["detail"] == "Payload contains 2001 items, exceeding maximum of 2000."


@pytest.mark.parametrize("role", ["viewer", "culler"])
def test_viewers_and_cullers_may_not_restore(client_for, tenant, trashed, role):
    client = client_for(make_user(tenant, role=role))
    reply = client.post(
        api_path("photo-restore"), {"items": [{"photo_id": trashed.pk}]}, format="json"
    )
    assert reply.status_code == 403
    assert "restore" in reply.json()["detail"]
    assert Photo.all_objects.get(pk=trashed.pk).trashed_at is not None
    # Reading the trash is reading photos: every member may.
    assert client.get(api_path("project-trash", pk=trashed.project_id)).status_code == 200


def test_an_editor_may_restore(client_for, tenant, trashed):
    client = client_for(make_user(tenant, role="editor"))
    reply = client.post(
        api_path("photo-restore"), {"items": [{"photo_id": trashed.pk}]}, format="json"
    )
    assert reply.status_code == 202


def test_restore_runs_a_fixed_number_of_queries(
    api_client, user, project, django_assert_max_num_queries
):
    photos = [make_photo(project, f"IMG_{n:03d}") for n in range(60)]
    commit_discarding(user, *photos)
    body = {"items": [{"photo_id": p.pk} for p in photos]}

    def queries_for(items) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            reply = api_client.post(
                api_path("photo-restore"), {"items": items, "dry_run": True}, format="json"
            )
        assert reply.status_code == 200
        return len(captured.captured_queries)

    assert queries_for(body["items"][:2]) == queries_for(body["items"])
    with django_assert_max_num_queries(30):
        reply = api_client.post(api_path("photo-restore"), body, format="json")
    assert reply.status_code == 202


def test_photo_restore_started_by_name_through_the_tasks_endpoint(api_client, trashed):
    reply = api_client.post(
        api_path("task-list"),
        {"task_type": "photo_restore", "items": [{"photo_id": trashed.pk}]},
        format="json",
    )
    assert reply.status_code == 202, reply.content
    drain()
    assert Photo.objects.filter(pk=trashed.pk).exists()
