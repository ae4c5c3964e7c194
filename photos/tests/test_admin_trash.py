"""The admin's trash (SPEC §11): trashed photos, Restore, kept tombstones."""

from jobs.models import Event, Job
from jobs.runtime import drain
from photos.models import Photo
from photos.services import photos_commit, photos_keep_update
from photos.storage import project_dir
from tests.factories import make_photo, make_project, make_user, write_file
from tests.urls import api_path

TRASH_URL = "/admin/photos/photointrash/"


def trash_one(user, project, basename: str) -> Photo:
    photo = make_photo(project, basename)
    photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    photos_commit(user=user)
    drain()
    return photo


def test_the_trash_lists_trashed_photos_of_the_tenant_only(
    staff_client, user, project, other_user, other_project
):
    mine = trash_one(user, project, "MINE")
    trash_one(other_user, other_project, "THEIRS")
    make_photo(project, "LIVE")
    page = staff_client.get(TRASH_URL).content.decode()
    assert "MINE" in page
    assert "MINE.jpg" in page
    assert "THEIRS" not in page
    assert "LIVE" not in page
    assert Photo.all_objects.get(pk=mine.pk).trashed_at is not None


def test_the_restore_action_starts_the_restore_task(staff_client, user, project):
    photo = trash_one(user, project, "IMG_1")
    reply = staff_client.post(
        TRASH_URL, {"action": "restore", "_selected_action": [photo.pk]}, follow=True
    )
    assert reply.status_code == 200
    assert Job.objects.filter(type="photo_restore").count() == 1
    drain()
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert (project_dir(project) / "IMG_1.jpg").is_file()


def test_a_viewer_on_staff_gets_no_restore_action(client, tenant, user, project):
    from projects.services import staff_permissions_grant

    viewer = make_user(tenant, staff=True, role="viewer")
    staff_permissions_grant(user=viewer)
    client.force_login(viewer)
    photo = trash_one(user, project, "IMG_1")
    page = client.get(TRASH_URL).content.decode()
    assert 'value="restore"' not in page
    client.post(TRASH_URL, {"action": "restore", "_selected_action": [photo.pk]})
    assert not Job.objects.filter(type="photo_restore").exists()


def test_kept_tombstones_are_listed(staff_client, api_client, tenant):
    wedding = make_project(tenant, "Wedding")
    make_photo(wedding, "OLD_1")
    write_file(project_dir(wedding) / "contract.pdf", b"%PDF")
    reply = api_client.delete(api_path("project-detail", pk=wedding.pk))
    drain(task_id=reply.json()["task_id"])
    assert Event.objects.filter(type="project_folder_kept", project=wedding).exists()

    page = staff_client.get(TRASH_URL).content.decode()
    assert "Kept folders of deleted projects" in page
    assert "contract.pdf" in page
    assert f".deleted-{wedding.uid}" in page
