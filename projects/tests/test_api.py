"""The projects API (SPEC §9): CRUD, upload, per-project commit/revert/process, project jobs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from jobs.models import Job, TaskRun
from photos.models import Photo
from photos.storage import project_dir
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, make_project, make_user
from tests.urls import api_path


def tenant_dir(photos_root, project):
    return photos_root / project.tenant.slug / project.folder


# --- auth and slashes ---------------------------------------------------------------------


def test_anonymous_is_refused(db):
    response = APIClient().get(api_path("project-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()
    bad = APIClient(HTTP_AUTHORIZATION="Token not-a-key").get(api_path("project-list"))
    assert bad.status_code == 401


def test_token_auth_lists_own_projects(api_client, project, other_tenant):
    make_project(other_tenant, "Globex secret")
    response = api_client.get(api_path("project-list"))
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["Iceland July 2025"]


def test_session_auth_works(user, project):
    client = APIClient()
    # The login throttle (django-axes) checks every password login against its request.
    assert client.login(
        request=RequestFactory().post("/"), username="alice", password="pw-for-tests-1"
    )
    response = client.get(api_path("project-detail", pk=project.pk))
    assert response.status_code == 200
    assert response.json()["folder"] == "Iceland July 2025"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_paths_answer_with_and_without_trailing_slash(api_client, project, suffix):
    assert api_client.get(f"/api/projects{suffix}").status_code == 200
    assert api_client.get(f"/api/projects/{project.pk}{suffix}").status_code == 200
    assert api_client.get(f"/api/projects/{project.pk}/jobs{suffix}").status_code == 200


# --- list and detail ----------------------------------------------------------------------


def test_list_carries_counts(api_client, project, tenant):
    make_photo(project, "A")
    make_photo(project, "B", keep_jpg=False)
    make_photo(project, "C", jpg=True, raw=True, keep_raw=False)
    empty = make_project(tenant, "Empty")
    rows = {p["id"]: p for p in api_client.get(api_path("project-list")).json()["results"]}
    assert rows[project.pk]["photo_count"] == 3
    assert rows[project.pk]["pending_delete_count"] == 2
    assert rows[empty.pk]["photo_count"] == 0
    assert set(rows[project.pk]) >= {"id", "name", "folder", "status"}


def test_list_runs_a_fixed_number_of_queries(api_client, tenant):
    for i in range(3):
        make_photo(make_project(tenant, f"P{i}"), f"X{i}")
    with CaptureQueriesContext(connection) as few:
        api_client.get(api_path("project-list"))
    for i in range(3, 15):
        make_photo(make_project(tenant, f"P{i}"), f"X{i}")
    with CaptureQueriesContext(connection) as many:
        response = api_client.get(api_path("project-list"))
    assert len(response.json()["results"]) == 15
    assert len(many) == len(few)


def test_list_hides_archived_unless_asked(api_client, project, tenant):
    gone = make_project(tenant, "Gone")
    Project.objects.filter(pk=gone.pk).update(status="archived", archived_at="2025-01-01T00:00Z")
    names = [p["name"] for p in api_client.get(api_path("project-list")).json()["results"]]
    assert names == ["Iceland July 2025"]
    archived = api_client.get(api_path("project-list") + "?status=archived").json()["results"]
    assert [p["name"] for p in archived] == ["Gone"]
    assert len(api_client.get(api_path("project-list") + "?status=all").json()["results"]) == 2
    assert api_client.get(api_path("project-list") + "?status=bogus").status_code == 400


def test_page_size_is_capped(api_client, tenant):
    for i in range(3):
        make_project(tenant, f"P{i}")
    body = api_client.get(api_path("project-list") + "?page_size=2").json()
    assert len(body["results"]) == 2
    assert body["count"] == 3


def test_other_tenants_project_is_a_404_like_a_missing_one(api_client, other_tenant):
    foreign = make_project(other_tenant, "Foreign")
    foreign_reply = api_client.get(api_path("project-detail", pk=foreign.pk))
    missing_reply = api_client.get(api_path("project-detail", pk=999999))
    assert foreign_reply.status_code == missing_reply.status_code == 404
    assert foreign_reply.json() == missing_reply.json()


# --- create, rename, delete ---------------------------------------------------------------


def test_create_makes_folder_and_manifest(api_client, photos_root, tenant):
    response = api_client.post(api_path("project-list"), {"name": "Wedding: A/B"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["folder"] == "Wedding- A-B"
    assert body["photo_count"] == 0
    assert (photos_root / "acme" / "Wedding- A-B" / ".project.yaml").is_file()
    assert Project.objects.get(pk=body["id"]).tenant == tenant


@pytest.mark.parametrize(
    "payload",
    [{"name": ""}, {"name": "   "}, {}, {"name": ["x"]}],
)
def test_create_refuses_bad_names(api_client, payload, tenant):
    response = api_client.post(api_path("project-list"), payload, format="json")
    assert response.status_code == 400
    assert Project.objects.count() == 0


def test_malformed_json_is_a_400(api_client, tenant):
    response = api_client.post(
        api_path("project-list"), data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_json_array_body_is_a_400(api_client, tenant):
    response = api_client.post(
        api_path("project-list"), data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_rename_changes_name_not_folder(api_client, project):
    response = api_client.patch(
        api_path("project-detail", pk=project.pk), {"name": "Iceland"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Iceland"
    assert response.json()["folder"] == "Iceland July 2025"
    project.refresh_from_db()
    assert project.name == "Iceland"


def test_patch_archives_a_project_and_keeps_its_folder_and_photos(api_client, project):
    from jobs.models import Event

    photo = make_photo(project, "A")
    folder = project_dir(project)
    response = api_client.patch(
        api_path("project-detail", pk=project.pk), {"status": "archived"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["name"]) == ("archived", project.name)
    project.refresh_from_db()
    assert (project.status, project.archive_reason) == ("archived", "")
    assert (folder / "A.jpg").is_file()
    assert Photo.objects.filter(pk=photo.pk).exists()
    event = Event.objects.get(type="project_archived", project=project)
    assert event.payload["project_id"] == project.pk
    assert project.pk not in [
        p["id"] for p in api_client.get(api_path("project-list")).json()["results"]
    ]
    # Archived: no more renames (new work on an archived project is refused).
    again = api_client.patch(
        api_path("project-detail", pk=project.pk), {"name": "Later"}, format="json"
    )
    assert again.status_code == 400


def test_patch_refuses_an_empty_body_and_an_unknown_status(api_client, project):
    empty = api_client.patch(api_path("project-detail", pk=project.pk), {}, format="json")
    assert (empty.status_code, empty.json()) == (400, {"name": ["This field is required."]})
    active = api_client.patch(
        api_path("project-detail", pk=project.pk), {"status": "active"}, format="json"
    )
    assert active.status_code == 400
    project.refresh_from_db()
    assert project.status == "active"


def test_put_is_not_allowed(api_client, project):
    response = api_client.put(
        api_path("project-detail", pk=project.pk), {"name": "x"}, format="json"
    )
    assert response.status_code == 405


def test_rename_of_other_tenants_project_is_404(api_client, other_tenant):
    foreign = make_project(other_tenant, "Foreign")
    response = api_client.patch(
        api_path("project-detail", pk=foreign.pk), {"name": "Mine"}, format="json"
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Foreign"


def test_delete_archives_and_starts_project_delete(api_client, project, photos_root):
    make_photo(project, "A")
    response = api_client.delete(api_path("project-detail", pk=project.pk))
    assert response.status_code == 202
    task = TaskRun.objects.get(pk=response.json()["task_id"])
    assert task.type == "project_delete"
    assert task.project_id == project.pk
    project.refresh_from_db()
    assert project.status == "archived"
    from jobs.runtime import drain

    drain(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == "completed"
    assert not tenant_dir(photos_root, project).exists()
    assert not Photo.objects.filter(project=project).exists()
    assert api_client.get(api_path("project-detail", pk=project.pk)).json()["status"] == "archived"


def test_delete_of_other_tenants_project_is_404(api_client, other_tenant):
    foreign = make_project(other_tenant, "Foreign")
    assert api_client.delete(api_path("project-detail", pk=foreign.pk)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "active"
    assert not TaskRun.objects.exists()


def test_project_writes_are_throttled(api_client, project, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "project_write": "2/5min",
        },
    }
    url = api_path("project-detail", pk=project.pk)
    for name in ("One", "Two"):
        assert api_client.patch(url, {"name": name}, format="json").status_code == 200
    response = api_client.patch(url, {"name": "Three"}, format="json")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 300
    # Reads are not counted.
    assert api_client.get(url).status_code == 200


def test_throttle_counts_per_user(api_client, client_for, project, tenant, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "project_write": "1/5min",
        },
    }
    colleague = client_for(make_user(tenant, "carol"))
    url = api_path("project-detail", pk=project.pk)
    assert api_client.patch(url, {"name": "One"}, format="json").status_code == 200
    assert api_client.patch(url, {"name": "Two"}, format="json").status_code == 429
    assert colleague.patch(url, {"name": "Three"}, format="json").status_code == 200


# --- upload -------------------------------------------------------------------------------


def test_upload_saves_files_and_starts_postprocess(api_client, project, photos_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("IMG_1.jpg", jpeg_bytes(), content_type="image/jpeg"),
        SimpleUploadedFile("IMG_2.JPG", jpeg_bytes(), content_type="image/jpeg"),
        SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
    ]
    response = api_client.post(
        api_path("project-upload", pk=project.pk),
        {"files": files, "all_or_nothing": "false"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["files"]) == 2
    assert [e["file"] for e in body["errors"]] == ["notes.txt"]
    task = TaskRun.objects.get(pk=body["task_id"])
    assert task.type == "upload_postprocess"
    folder = tenant_dir(photos_root, project)
    assert (folder / "IMG_1.jpg").is_file()
    assert (folder / "IMG_2.JPG").is_file()
    assert not (folder / "notes.txt").exists()
    assert set(Photo.objects.filter(project=project).values_list("basename", flat=True)) == {
        "IMG_1",
        "IMG_2",
    }


def test_upload_with_nothing_accepted_is_400_and_writes_nothing(api_client, project, photos_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile("evil.exe", b"MZ", content_type="application/octet-stream")]
    response = api_client.post(
        api_path("project-upload", pk=project.pk) + "/", {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["file"] == "evil.exe"
    assert list(tenant_dir(photos_root, project).iterdir()) == []
    assert not TaskRun.objects.exists()


def test_upload_with_one_unaccepted_file_is_400_and_writes_nothing(
    api_client, project, photos_root
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("IMG_1.jpg", jpeg_bytes(), content_type="image/jpeg"),
        SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
    ]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "A file was refused; nothing was written."
    assert [e["file"] for e in response.json()["errors"]] == ["notes.txt"]
    assert not (tenant_dir(photos_root, project) / "IMG_1.jpg").exists()
    assert not Photo.objects.exists()
    assert not TaskRun.objects.exists()


def test_upload_over_the_size_limit_is_refused(api_client, project, photos_root, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PHOTOS_MAX_UPLOAD_BYTES = 100
    files = [SimpleUploadedFile("BIG.jpg", jpeg_bytes(size=(400, 300)), content_type="image/jpeg")]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert "limit" in response.json()["errors"][0]["error"]
    assert not (tenant_dir(photos_root, project) / "BIG.jpg").exists()


def test_upload_with_too_many_files_is_a_400_not_a_crash(api_client, project, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [
        SimpleUploadedFile(f"IMG_{i}.jpg", jpeg_bytes(), content_type="image/jpeg")
        for i in range(3)
    ]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Photo.objects.exists()


def test_upload_without_files_is_400(api_client, project):
    response = api_client.post(api_path("project-upload", pk=project.pk), {}, format="multipart")
    assert response.status_code == 400
    assert "files" in response.json()["detail"]


def test_upload_to_other_tenants_project_is_404(api_client, other_tenant, photos_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    foreign = make_project(other_tenant, "Foreign")
    files = [SimpleUploadedFile("IMG_1.jpg", jpeg_bytes(), content_type="image/jpeg")]
    response = api_client.post(
        api_path("project-upload", pk=foreign.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 404
    assert not (tenant_dir(photos_root, foreign) / "IMG_1.jpg").exists()


# --- per-project commit, revert, process --------------------------------------------------


def test_project_commit_starts_change_commit(api_client, project):
    keep = make_photo(project, "KEEP")
    drop = make_photo(project, "DROP", keep_jpg=False)
    response = api_client.post(api_path("project-commit-changes", pk=project.pk))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued_projects"] == 1
    assert body["total_pending"] == 1
    task = TaskRun.objects.get(pk=body["task_id"])
    assert task.type == "change_commit"
    item_photos = list(Job.objects.get(task=task).items.values_list("photo_id", flat=True))
    assert item_photos == [drop.pk]
    assert keep.pk not in item_photos


def test_project_commit_with_nothing_pending_is_200(api_client, project):
    make_photo(project, "KEEP")
    response = api_client.post(api_path("project-commit-changes", pk=project.pk) + "/")
    assert response.status_code == 200
    assert response.json()["queued_projects"] == 0
    assert not TaskRun.objects.exists()


def test_project_revert_restores_keep_flags(api_client, project):
    photo = make_photo(project, "DROP", keep_jpg=False)
    response = api_client.post(api_path("project-revert-changes", pk=project.pk))
    assert response.status_code == 200
    assert response.json()["updated_projects"] == 1
    photo.refresh_from_db()
    assert photo.keep_jpg is True


def test_project_process_starts_generate_derivatives(api_client, project):
    make_photo(project, "A")
    response = api_client.post(
        api_path("project-process", pk=project.pk), {"force": True}, format="json"
    )
    assert response.status_code == 202, response.content
    task = TaskRun.objects.get(pk=response.json()["task_id"])
    assert (task.type, task.scope, task.project_id) == (
        "generate_derivatives",
        "project",
        project.pk,
    )
    assert task.payload["force"] is True


def test_commit_is_throttled(api_client, project, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "commit": "1/5min",
        },
    }
    assert api_client.post(api_path("project-commit-changes", pk=project.pk)).status_code == 200
    response = api_client.post(api_path("project-revert-changes", pk=project.pk))
    assert response.status_code == 429
    assert "Retry-After" in response


@pytest.mark.parametrize("action", ["commit-changes", "revert-changes", "process"])
def test_per_project_actions_on_other_tenant_are_404(api_client, other_tenant, action):
    foreign = make_project(other_tenant, "Foreign")
    make_photo(foreign, "DROP", keep_jpg=False)
    response = api_client.post(api_path(f"project-{action}", pk=foreign.pk))
    assert response.status_code == 404
    assert not TaskRun.objects.exists()
    assert Photo.objects.get(basename="DROP").keep_jpg is False


# --- the project's jobs -------------------------------------------------------------------


def test_project_jobs_lists_only_that_projects_jobs(api_client, project, tenant):
    other = make_project(tenant, "Other")
    api_client.post(
        api_path("project-jobs", pk=project.pk), {"task_type": "maintenance"}, format="json"
    )
    api_client.post(
        api_path("project-jobs", pk=other.pk), {"task_type": "maintenance"}, format="json"
    )
    rows = api_client.get(api_path("project-jobs", pk=project.pk)).json()["results"]
    assert len(rows) == 1
    assert rows[0]["project"] == project.pk
    assert rows[0]["type"] == "trash_maintenance"
    assert (
        api_client.get(api_path("project-jobs", pk=project.pk) + "?status=completed").json()[
            "results"
        ]
        == []
    )


def test_project_jobs_post_starts_a_task(api_client, project):
    photo = make_photo(project, "A")
    response = api_client.post(
        api_path("project-jobs", pk=project.pk),
        {"task_type": "generate_derivatives", "items": [photo.pk]},
        format="json",
    )
    assert response.status_code == 202, response.content
    task = response.json()["task"]
    assert task["type"] == "generate_derivatives"
    assert task["project"] == project.pk
    assert task["job_count"] == 1
    run = TaskRun.objects.get(pk=task["task_id"])
    assert run.project_id == project.pk
    assert list(Job.objects.get(task=run).items.values_list("photo_id", flat=True)) == [photo.pk]


def test_project_jobs_post_unknown_type_is_400(api_client, project):
    response = api_client.post(
        api_path("project-jobs", pk=project.pk), {"task_type": "make_coffee"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Unknown task type 'make_coffee'."


def test_project_jobs_post_with_foreign_photo_is_400(api_client, project, other_tenant):
    foreign_photo = make_photo(make_project(other_tenant, "Foreign"), "F")
    response = api_client.post(
        api_path("project-jobs", pk=project.pk),
        {"task_type": "generate_derivatives", "items": [foreign_photo.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert not TaskRun.objects.exists()


def test_project_jobs_of_other_tenant_are_404(api_client, other_tenant):
    foreign = make_project(other_tenant, "Foreign")
    assert api_client.get(api_path("project-jobs", pk=foreign.pk)).status_code == 404
    response = api_client.post(
        api_path("project-jobs", pk=foreign.pk), {"task_type": "maintenance"}, format="json"
    )
    assert response.status_code == 404
    assert not TaskRun.objects.exists()


def test_superuser_sees_every_tenant(client_for, project, other_tenant):
    admin = client_for(make_user(None, "root", superuser=True))
    make_project(other_tenant, "Foreign")
    assert len(admin.get(api_path("project-list")).json()["results"]) == 2
    assert get_user_model().objects.get(username="root").is_superuser


def test_upload_refuses_a_script_named_jpg_by_its_content(api_client, project, photos_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("IMG_1.jpg", jpeg_bytes(), content_type="image/jpeg"),
        SimpleUploadedFile("shell.jpg", b"<?php echo 1; ?>", content_type="image/jpeg"),
    ]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "A file was refused; nothing was written."
    assert body["errors"] == [
        {
            "file": "shell.jpg",
            "error": "The content does not match the '.jpg' extension: expected a JPEG image, "
            "found not a recognised image or RAW format.",
        }
    ]
    folder = tenant_dir(photos_root, project)
    assert not (folder / "shell.jpg").exists()
    assert not (folder / "IMG_1.jpg").exists()
    assert not Photo.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("name", "code"),
    [("Evil\u202egpj.exe", "U+202E"), ("Zero\u200bWidth", "U+200B"), ("Bell\x07", "U+0007")],
)
def test_project_names_with_control_or_invisible_characters_are_refused(
    api_client, project, tenant, name, code
):
    detail = f"A project name cannot contain control or invisible characters ({code})."
    response = api_client.post(api_path("project-list"), {"name": name}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": [detail]}
    assert Project.objects.count() == 1

    response = api_client.patch(
        api_path("project-detail", pk=project.pk), {"name": name}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": [detail]}
    project.refresh_from_db()
    assert project.name != name


def test_project_services_refuse_invisible_characters(tenant, project):
    from core.errors import ApplicationError
    from photos.services.projects import project_create, project_rename

    with pytest.raises(ApplicationError, match="U\\+200B"):
        project_create(tenant=tenant, name="A\u200bB")
    with pytest.raises(ApplicationError, match="U\\+2029"):
        project_rename(project=project, name="A\u2029B")
