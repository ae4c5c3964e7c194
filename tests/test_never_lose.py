"""A photographer's file is never deleted except by an explicit commit and the trash TTL.

Each test reproduces a path that broke the promise (docs/SECURITY.md, "Files are never lost")
as an attacker or a careless user would, through the API where one exists; tasks run
in-process with ``drain``. Files are real, in the temporary ``PHOTOS_ROOT``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from jobs.models import Event, Job, JobStatus
from jobs.runtime import drain
from photos.manifest import manifest_write
from photos.models import Photo
from photos.project_deletion import project_folder_remove, tombstone_name
from photos.services.projects import project_archive
from photos.storage import project_dir, tenant_root
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, make_project, write_file
from tests.urls import api_path


def run_task(client, body: dict) -> str:  # type: ignore[no-untyped-def]
    reply = client.post(api_path("task-list"), body, format="json")
    assert reply.status_code == 202, reply.content
    task_id = reply.json()["task"]["task_id"]
    drain()  # the task and what it starts (discovery starts the new project's maintenance)
    return task_id


# --- 1. a deleted project frees its folder name; the scavenger deletes only its own ----------


def _new_wedding_folder(tenant) -> Path:  # type: ignore[no-untyped-def]
    """The user makes a new folder of the deleted project's name and drops photos in it."""
    new = tenant_root(tenant) / "Wedding"
    new.mkdir()
    for n in range(3):
        write_file(new / f"NEW_{n}.jpg", jpeg_bytes(color=(10 * n, 90, 200)))
    return new


def test_a_new_folder_named_like_a_deleted_project_survives_the_scavenger_and_is_discovered(
    api_client, tenant
):
    wedding = make_project(tenant, "Wedding")
    manifest_write(project_dir(wedding), wedding)
    make_photo(wedding, "OLD_1")
    reply = api_client.delete(api_path("project-detail", pk=wedding.pk))
    assert reply.status_code == 202
    drain(task_id=reply.json()["task_id"])

    new = _new_wedding_folder(tenant)
    run_task(api_client, {"task_type": "project_scavenge_global"})
    assert sorted(p.name for p in new.iterdir()) == ["NEW_0.jpg", "NEW_1.jpg", "NEW_2.jpg"]

    run_task(api_client, {"task_type": "folder_discovery"})
    adopted = Project.objects.get(tenant=tenant, folder="Wedding", status="active")
    assert adopted.pk != wedding.pk
    assert adopted.uid != wedding.uid
    assert set(Photo.objects.filter(project=adopted).values_list("basename", flat=True)) == {
        "NEW_0",
        "NEW_1",
        "NEW_2",
    }
    # The hourly scavenger, run again, still leaves the adopted folder alone.
    run_task(api_client, {"task_type": "project_scavenge_global"})
    assert len(list(new.glob("NEW_*.jpg"))) == 3


def test_delete_frees_the_folder_name_before_its_task_runs(api_client, tenant):
    wedding = make_project(tenant, "Wedding")
    manifest_write(project_dir(wedding), wedding)
    make_photo(wedding, "OLD_1")
    reply = api_client.delete(api_path("project-detail", pk=wedding.pk))
    assert reply.status_code == 202
    wedding.refresh_from_db()
    assert wedding.folder == tombstone_name(wedding)
    assert not (tenant_root(tenant) / "Wedding").exists()
    assert (tenant_root(tenant) / tombstone_name(wedding) / "OLD_1.jpg").exists()

    # The name is free at once: a new project or a new folder takes it.
    created = api_client.post(api_path("project-list"), {"name": "Wedding"}, format="json")
    assert created.status_code == 201
    assert created.json()["folder"] == "Wedding"
    new = Project.objects.get(pk=created.json()["id"])
    write_file(project_dir(new) / "NEW.jpg", jpeg_bytes())

    drain(task_id=reply.json()["task_id"])
    assert not (tenant_root(tenant) / tombstone_name(wedding)).exists()
    assert (project_dir(new) / "NEW.jpg").exists()


def test_a_project_deleted_before_names_were_freed_leaves_a_new_folder_alone(api_client, tenant):
    """A row archived as deleted that still holds the name (the state today's main leaves)."""
    wedding = make_project(tenant, "Wedding")
    manifest_write(project_dir(wedding), wedding)
    project_archive(project=wedding, reason="deleted")
    for path in project_dir(wedding).iterdir():
        path.unlink()
    project_dir(wedding).rmdir()  # its delete task removed the folder
    new = _new_wedding_folder(tenant)

    run_task(api_client, {"task_type": "project_scavenge_global"})
    assert len(list(new.glob("NEW_*.jpg"))) == 3
    run_task(api_client, {"task_type": "folder_discovery"})
    adopted = Project.objects.get(tenant=tenant, folder="Wedding", status="active")
    assert adopted.pk != wedding.pk
    assert Photo.objects.filter(project=adopted).count() == 3
    wedding.refresh_from_db()
    assert wedding.folder == tombstone_name(wedding)


def test_the_scavenger_keeps_a_tombstone_holding_files_it_did_not_put_there(api_client, tenant):
    wedding = make_project(tenant, "Wedding")
    make_photo(wedding, "OLD_1", raw=True)
    write_file(project_dir(wedding) / "OLD_1.xmp", b"<x:xmpmeta/>")
    write_file(project_dir(wedding) / ".thumb" / "OLD_1.webp", b"webp")
    write_file(project_dir(wedding) / "contract.pdf", b"%PDF client contract")
    reply = api_client.delete(api_path("project-detail", pk=wedding.pk))
    drain(task_id=reply.json()["task_id"])

    tomb = tenant_root(tenant) / tombstone_name(wedding)
    assert (tomb / "contract.pdf").read_bytes() == b"%PDF client contract"
    assert (tomb / "OLD_1.jpg").exists()  # the whole folder is kept, not picked apart
    kept = Event.objects.get(type="project_folder_kept", project=wedding)
    assert kept.payload["names"] == ["contract.pdf"]
    run_task(api_client, {"task_type": "project_scavenge_global"})
    assert (tomb / "contract.pdf").exists()


def test_the_scavenger_removes_a_tombstone_of_its_own_files(tenant):
    wedding = make_project(tenant, "Wedding")
    make_photo(wedding, "OLD_1", raw=True)
    write_file(project_dir(wedding) / "OLD_1.CR2.xmp", b"<x:xmpmeta/>")
    write_file(project_dir(wedding) / ".trash" / "OLD_2.jpg", b"trashed")
    write_file(project_dir(wedding) / ".preview" / "OLD_1.webp", b"webp")
    manifest_write(project_dir(wedding), wedding)
    project_archive(project=wedding, reason="deleted")
    assert project_folder_remove(project=wedding) is True
    assert not (tenant_root(tenant) / tombstone_name(wedding)).exists()
    assert not (tenant_root(tenant) / "Wedding").exists()


def test_the_scavenger_never_deletes_a_folder_with_another_manifest(tenant):
    """A legacy deleted row and a folder of its name with some other project's manifest."""
    wedding = make_project(tenant, "Wedding")
    project_archive(project=wedding, reason="deleted")
    other = make_project(tenant, "Other", create_dir=False)
    manifest_write(project_dir(wedding), other)  # the folder carries another uid
    write_file(project_dir(wedding) / "IMG_1.jpg", jpeg_bytes())
    assert project_folder_remove(project=wedding) is False
    assert (tenant_root(tenant) / "Wedding" / "IMG_1.jpg").exists()
    assert not Job.objects.filter(status=JobStatus.FAILED).exists()


# --- 2. .trash, .thumb and .preview are real folders inside the project, never links ----------


def originals_everywhere(tenant) -> list[tuple[str, bytes]]:  # type: ignore[no-untyped-def]
    """Every non-hidden file directly in a project folder of the tenant, with its bytes."""
    found = []
    for place in tenant_root(tenant).iterdir():
        if place.is_dir() and not place.name.startswith("."):
            found += [
                (p.name, p.read_bytes())
                for p in place.iterdir()
                if p.is_file() and not p.name.startswith(".")
            ]
    return sorted(found)


def break_system_folder(project: Project, name: str, how: str, outside: Path) -> None:
    path = project_dir(project) / name
    if path.exists():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    if how == "symlink":
        path.symlink_to(outside, target_is_directory=True)
    else:
        path.write_bytes(b"not a folder")


def job_messages(task_id: str) -> list[str]:
    from jobs.models import JobItem

    items = JobItem.objects.filter(job__task_id=task_id).values_list("message", flat=True)
    jobs = Job.objects.filter(task_id=task_id).values_list("error_message", flat=True)
    return [m for m in [*items, *jobs] if m]


# Which system folders each operation writes or moves into.
USES = {
    "commit": {".trash", ".thumb", ".preview"},
    "derivatives": {".thumb", ".preview"},
    "move": {".thumb", ".preview"},
    "folder_check": set(),
}


@pytest.mark.parametrize("how", ["symlink", "file"])
@pytest.mark.parametrize("system", [".trash", ".thumb", ".preview"])
@pytest.mark.parametrize("operation", sorted(USES))
def test_a_system_folder_that_is_a_link_or_a_file_is_refused_and_nothing_moves(
    api_client, tenant, tmp_path, operation, system, how
):
    outside = tmp_path / "outside"  # outside PHOTOS_ROOT
    outside.mkdir()
    project = make_project(tenant, "Shoot")
    dest = make_project(tenant, "Dest")
    photo = make_photo(project, "A", raw=True, keep_raw=False)
    break_system_folder(project, system, how, outside)
    before = originals_everywhere(tenant)

    if operation == "commit":
        reply = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    elif operation == "derivatives":
        body = {"items": [{"photo_id": photo.pk}], "force": True}
        reply = api_client.post(api_path("photo-process"), body, format="json")
    elif operation == "move":
        body = {"items": [{"photo_id": photo.pk}], "dest_project": dest.pk}
        reply = api_client.post(api_path("photo-move"), body, format="json")
    else:
        reply = api_client.post(
            api_path("task-list"),
            {"task_type": "maintenance", "project": project.pk},
            format="json",
        )
    assert reply.status_code == 202, reply.content
    task_id = reply.json().get("task_id") or reply.json()["task"]["task_id"]
    drain()

    assert list(outside.iterdir()) == []
    if system in USES[operation]:
        assert originals_everywhere(tenant) == before
        messages = job_messages(task_id)
        assert any(f"'{system}' in the project folder" in m for m in messages), messages
        assert not any(str(settings.PHOTOS_ROOT) in m for m in messages), messages
    else:
        # The operation does not need that folder: it does its work, and loses nothing.
        after = originals_everywhere(tenant)
        assert sorted(name for name, _ in after) == sorted(name for name, _ in before)
    assert not Job.objects.filter(task_id=task_id, status=JobStatus.FAILED).exists()


def test_a_thumb_folder_linked_into_the_project_never_deletes_an_original(api_client, tenant):
    """``.thumb -> .``: removing ``.thumb/A.webp`` would delete the original ``A.webp``."""
    project = make_project(tenant, "Shoot")
    make_photo(project, "A", keep_jpg=False, other_available=True)
    write_file(project_dir(project) / "A.webp", b"the only copy of the webp original")
    (project_dir(project) / ".thumb").symlink_to(".", target_is_directory=True)

    reply = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    assert reply.status_code == 202
    drain()
    assert (project_dir(project) / "A.webp").read_bytes() == b"the only copy of the webp original"
    assert (project_dir(project) / "A.jpg").exists()  # refused before anything moved
    messages = job_messages(reply.json()["task_id"])
    assert any("'.thumb' in the project folder is a symlink" in m for m in messages), messages


# --- 3. sidecars belong to their photo; any other unaccepted file is never moved --------------

SIDECARS = [
    "IMG_0001.xmp",
    "IMG_0001.CR2.xmp",
    "IMG_0001.pp3",
    "IMG_0001.CR2.pp3",
    "IMG_0001.dop",
    "IMG_0001.on1",
    "IMG_0001.AAE",
    "IMG_0001.thm",
]
STRAYS = ["clip.mp4", "clip.MOV", "notes.txt"]


def test_sidecars_videos_and_notes_survive_folder_check_and_the_trash_purge(
    api_client, staff_client, tenant, settings
):
    settings.PIPELINE_TRASH_TTL_SECONDS = 0  # whatever reaches the trash is purged at once
    project = make_project(tenant, "Shoot")
    manifest_write(project_dir(project), project)
    write_file(project_dir(project) / "IMG_0001.jpg", jpeg_bytes())
    write_file(project_dir(project) / "IMG_0001.CR2", b"raw")
    for name in SIDECARS + STRAYS:
        write_file(project_dir(project) / name, f"edits of {name}".encode())

    for _ in range(2):  # folder_check, then trash_maintenance of the next run
        run_task(api_client, {"task_type": "maintenance", "project": project.pk})

    for name in SIDECARS + STRAYS:
        assert (project_dir(project) / name).read_bytes() == f"edits of {name}".encode()
    assert list((project_dir(project) / ".trash").glob("*")) == []
    assert Photo.objects.get(project=project).basename == "IMG_0001"
    # The strays are reported: an event, a count in the API and in the admin list.
    event = Event.objects.filter(type="unaccepted_files", project=project).latest("id")
    assert event.payload["count"] == 3
    assert event.payload["files"] == sorted(STRAYS)
    reply = api_client.get(api_path("project-detail", pk=project.pk))
    assert reply.json()["unaccepted_files"] == 3
    page = staff_client.get("/admin/projects/project/")
    assert page.status_code == 200
    assert b"column-unaccepted_files" in page.content


def test_sidecars_stay_while_an_original_stays_and_go_to_the_trash_with_the_last(
    api_client, tenant
):
    project = make_project(tenant, "Shoot")
    make_photo(project, "IMG_0001", raw=True, keep_raw=False)
    for name in SIDECARS:
        write_file(project_dir(project) / name, b"edits")
    write_file(project_dir(project) / "IMG_0002.jpg.xmp", b"edits of another photo")

    reply = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    assert reply.status_code == 202
    drain()
    trash = project_dir(project) / ".trash"
    assert sorted(p.name for p in trash.iterdir()) == ["IMG_0001.cr2"]
    for name in SIDECARS:
        assert (project_dir(project) / name).exists()  # the JPG stays: so do its edits

    photo = Photo.objects.get(project=project)
    api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": photo.pk, "keep_jpg": False}]},
        format="json",
    )
    reply = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    assert reply.status_code == 202
    drain()
    assert sorted(p.name for p in trash.iterdir()) == sorted(
        ["IMG_0001.cr2", "IMG_0001.jpg", *SIDECARS]
    )
    assert not Photo.objects.filter(project=project).exists()
    assert (project_dir(project) / "IMG_0002.jpg.xmp").exists()  # not this photo's


def test_sidecars_move_with_their_photo(api_client, tenant):
    project = make_project(tenant, "Shoot")
    dest = make_project(tenant, "Dest")
    photo = make_photo(project, "IMG_0001", raw=True)
    for name in SIDECARS:
        write_file(project_dir(project) / name, b"edits")
    write_file(project_dir(project) / "notes.txt", b"stays")

    body = {"items": [{"photo_id": photo.pk}], "dest_project": dest.pk}
    reply = api_client.post(api_path("photo-move"), body, format="json")
    assert reply.status_code == 202
    drain()
    assert sorted(p.name for p in project_dir(dest).iterdir() if p.is_file()) == sorted(
        ["IMG_0001.cr2", "IMG_0001.jpg", *SIDECARS, ".project.yaml"]
    )
    assert sorted(p.name for p in project_dir(project).iterdir() if not p.name.startswith(".")) == [
        "notes.txt"
    ]


def test_a_duplicate_rename_takes_the_sidecars_along(api_client, tenant):
    first = make_project(tenant, "First")
    make_photo(first, "IMG_0001")
    second = make_project(tenant, "Second")
    write_file(project_dir(second) / "IMG_0001.jpg", jpeg_bytes())
    write_file(project_dir(second) / "IMG_0001.JPG.xmp", b"edits")
    write_file(project_dir(second) / "IMG_0001.pp3", b"edits")

    run_task(api_client, {"task_type": "maintenance", "project": second.pk})
    names = sorted(p.name for p in project_dir(second).iterdir() if not p.name.startswith("."))
    assert names == [
        "IMG_0001_duplicate1.JPG.xmp",
        "IMG_0001_duplicate1.jpg",
        "IMG_0001_duplicate1.pp3",
    ]


# --- 4. an overlong name fails its own item, never a whole job --------------------------------

LONG = "L" * 240  # 244 bytes with ".jpg": a legal name, whose ".preview/…webp.tmp" is not


def uploads(names: list[str]) -> list:  # type: ignore[type-arg]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg") for name in names]


def test_an_overlong_upload_is_refused_and_the_others_get_their_derivatives(api_client, tenant):
    project = make_project(tenant, "Shoot")
    names = ["GOOD_1.jpg", f"{LONG}.jpg", "GOOD_2.jpg", "GOOD_3.jpg"]

    url = api_path("project-upload", pk=project.pk)
    refused = api_client.post(url, {"files": uploads(names)}, format="multipart")
    assert refused.status_code == 400
    assert [e["file"] for e in refused.json()["errors"]] == [f"{LONG}.jpg"]
    assert "at most 200" in refused.json()["errors"][0]["error"]
    assert [p.name for p in project_dir(project).iterdir()] == []  # all or nothing

    body = {"files": uploads(names), "all_or_nothing": "false"}
    reply = api_client.post(url, body, format="multipart")
    assert reply.status_code == 201, reply.content
    drain()
    assert not (project_dir(project) / f"{LONG}.jpg").exists()
    statuses = dict(Photo.objects.filter(project=project).values_list("basename", "preview_status"))
    assert statuses == {"GOOD_1": "generated", "GOOD_2": "generated", "GOOD_3": "generated"}
    assert not Job.objects.filter(status=JobStatus.FAILED).exists()


def test_an_overlong_row_fails_its_item_not_the_job(api_client, tenant):
    """A row from before the cap: the file system refuses its preview's temporary name."""
    project = make_project(tenant, "Shoot")
    photos = [make_photo(project, name) for name in ("GOOD_1", LONG, "GOOD_2", "GOOD_3")]
    body = {"items": [{"photo_id": p.pk} for p in photos]}
    reply = api_client.post(api_path("photo-process"), body, format="json")
    assert reply.status_code == 202
    drain()

    job = Job.objects.get(task_id=reply.json()["task_id"])
    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 1
    statuses = dict(Photo.objects.filter(project=project).values_list("basename", "preview_status"))
    assert statuses == {
        "GOOD_1": "generated",
        "GOOD_2": "generated",
        "GOOD_3": "generated",
        LONG: "failed",
    }
    failed = job.items.get(status="failed")
    assert "File name too long" in failed.message
    # Thumbnails first: the thumbnail's temporary name is the first the file system refuses.
    assert failed.message.split(": ", 2)[-1].startswith(".thumb/.LLLL")
    assert str(settings.PHOTOS_ROOT) not in failed.message
    assert (project_dir(project) / f"{LONG}.jpg").exists()


def test_discovery_leaves_an_overlong_file_alone_and_reports_it(api_client, tenant):
    project = make_project(tenant, "Shoot")
    for name in ("GOOD_1.jpg", f"{LONG}.jpg", "GOOD_2.jpg", "GOOD_3.jpg"):
        write_file(project_dir(project) / name, jpeg_bytes())

    run_task(api_client, {"task_type": "maintenance", "project": project.pk})
    statuses = dict(Photo.objects.filter(project=project).values_list("basename", "preview_status"))
    assert statuses == {"GOOD_1": "generated", "GOOD_2": "generated", "GOOD_3": "generated"}
    assert (project_dir(project) / f"{LONG}.jpg").exists()
    project.refresh_from_db()
    assert project.unaccepted_files == 1
    event = Event.objects.filter(type="unaccepted_files", project=project).latest("id")
    assert event.payload["files"] == [f"{LONG}.jpg"]
    assert not Job.objects.filter(status=JobStatus.FAILED).exists()


def test_a_duplicate_rename_keeps_the_base_name_within_the_cap(api_client, tenant):
    base = "é" * 99  # 198 bytes: fits, but not with "_duplicate1" added
    first = make_project(tenant, "First")
    make_photo(first, base)
    second = make_project(tenant, "Second")
    write_file(project_dir(second) / f"{base}.jpg", jpeg_bytes())

    run_task(api_client, {"task_type": "maintenance", "project": second.pk})
    photo = Photo.objects.get(project=second)
    assert photo.basename == "é" * 94 + "_duplicate1"
    assert len(photo.basename.encode()) <= 200
    assert photo.preview_status == "generated"
    assert (project_dir(second) / f"{photo.basename}.jpg").exists()
