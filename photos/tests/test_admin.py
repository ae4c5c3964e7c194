"""The photo admin: thumbnails, filters, history, tenant scoping."""

from __future__ import annotations

import io

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from jobs.enqueue import job_enqueue
from jobs.events import event_record
from photos.models import DerivativeStatus, Photo, Tag
from photos.storage import thumbnail_path
from tests.factories import make_photo, make_project, make_user

CHANGELIST = "admin:photos_photo_changelist"


def write_thumbnail(photo: Photo) -> bytes:
    path = thumbnail_path(photo.project, photo.basename)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(buffer, "WEBP", quality=50)
    path.write_bytes(buffer.getvalue())
    Photo.objects.filter(pk=photo.pk).update(thumbnail_status=DerivativeStatus.GENERATED)
    return buffer.getvalue()


def listed(response) -> list[str]:
    return sorted(p.basename for p in response.context["cl"].result_list)


def test_staff_sees_only_their_tenants_photos(staff_client, project, other_project):
    make_photo(project, "IMG_OWN")
    make_photo(other_project, "IMG_FOREIGN")
    response = staff_client.get(reverse(CHANGELIST))
    assert listed(response) == ["IMG_OWN"]
    assert other_project.name not in response.content.decode()


def test_thumbnails_are_shown_and_served_to_staff_of_the_tenant(staff_client, project):
    photo = make_photo(project, "IMG_0001")
    data = write_thumbnail(photo)
    url = reverse("admin:photos_photo_thumbnail", args=[photo.pk])
    assert url in staff_client.get(reverse(CHANGELIST)).content.decode()
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content) == data
    assert (
        url
        in staff_client.get(reverse("admin:photos_photo_change", args=[photo.pk])).content.decode()
    )


def test_thumbnail_of_another_tenant_or_missing_is_404(staff_client, project, other_project):
    foreign = make_photo(other_project, "IMG_FOREIGN")
    write_thumbnail(foreign)
    assert (
        staff_client.get(reverse("admin:photos_photo_thumbnail", args=[foreign.pk])).status_code
        == 404
    )
    missing = make_photo(project, "IMG_NOTHUMB")
    assert (
        staff_client.get(reverse("admin:photos_photo_thumbnail", args=[missing.pk])).status_code
        == 404
    )


def test_thumbnail_needs_a_logged_in_staff_user(client, project):
    photo = make_photo(project, "IMG_0001")
    write_thumbnail(photo)
    response = client.get(reverse("admin:photos_photo_thumbnail", args=[photo.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_pending_delete_filter(staff_client, project):
    make_photo(project, "IMG_KEEP")
    make_photo(project, "IMG_DROP_JPG", keep_jpg=False)
    make_photo(project, "IMG_DROP_RAW", raw=True, keep_raw=False)
    pending = staff_client.get(reverse(CHANGELIST), {"pending_delete": "yes"})
    assert listed(pending) == ["IMG_DROP_JPG", "IMG_DROP_RAW"]
    kept = staff_client.get(reverse(CHANGELIST), {"pending_delete": "no"})
    assert listed(kept) == ["IMG_KEEP"]


def test_derivative_status_filter(staff_client, project):
    make_photo(project, "IMG_DONE", thumbnail_status="generated", preview_status="generated")
    make_photo(project, "IMG_FAILED", thumbnail_status="generated", preview_status="failed")
    make_photo(project, "IMG_NEW")
    failed = staff_client.get(reverse(CHANGELIST), {"derivatives": "failed"})
    assert listed(failed) == ["IMG_FAILED"]
    unset = staff_client.get(reverse(CHANGELIST), {"derivatives": "none"})
    assert listed(unset) == ["IMG_NEW"]


def test_tag_filter_offers_only_own_tags_and_filters(staff_client, project, other_project):
    beach = Tag.objects.create(project=project, name="beach")
    Tag.objects.create(project=other_project, name="globex-confidential")
    tagged = make_photo(project, "IMG_BEACH")
    tagged.tags.add(beach)
    make_photo(project, "IMG_PLAIN")
    response = staff_client.get(reverse(CHANGELIST))
    content = response.content.decode()
    assert "?tag=beach" in content
    assert "globex-confidential" not in content
    assert listed(staff_client.get(reverse(CHANGELIST), {"tag": "beach"})) == ["IMG_BEACH"]


def test_project_filter_is_scoped(staff_client, project, other_project):
    second = make_project(project.tenant, "Second Shoot")
    make_photo(project, "IMG_A")
    make_photo(second, "IMG_B")
    response = staff_client.get(reverse(CHANGELIST), {"project__id__exact": second.pk})
    assert listed(response) == ["IMG_B"]
    assert other_project.name not in response.content.decode()


def test_photo_page_shows_its_history(staff_client, staff, tenant, project):
    photo = make_photo(project, "IMG_HIST", keep_jpg=False)
    event_record(
        tenant_id=tenant.pk,
        type="item",
        actor_id=staff.pk,
        project_id=project.pk,
        item_id=photo.pk,
        payload={"changed": {"keep_jpg": False}},
    )
    job = job_enqueue(tenant=tenant, type="generate_derivatives", items=[photo.pk])[0]
    page = staff_client.get(reverse("admin:photos_photo_change", args=[photo.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "keep_jpg" in content
    assert staff.username in content
    assert f"generate_derivatives #{job.pk}" in content
    assert reverse("admin:jobs_job_change", args=[job.pk]) in content
    assert 'name="_save"' not in content


def test_another_tenants_photo_page_is_not_found(staff_client, other_project):
    foreign = make_photo(other_project, "IMG_FOREIGN")
    assert (
        staff_client.get(reverse("admin:photos_photo_change", args=[foreign.pk])).status_code == 302
    )


def test_photos_cannot_be_added_or_deleted_in_the_admin(staff_client, project):
    photo = make_photo(project, "IMG_0001")
    assert staff_client.get(reverse("admin:photos_photo_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:photos_photo_delete", args=[photo.pk])).status_code == 403
    )
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_photo_list_queries_do_not_grow_with_the_page(staff_client, project):
    tag = Tag.objects.create(project=project, name="t")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(reverse(CHANGELIST)).status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        make_photo(project, f"A{i}", write=False).tags.add(tag)
    small = count()
    for i in range(60):
        make_photo(project, f"B{i}", write=False).tags.add(tag)
    assert count() == small


def test_tag_admin_is_scoped_and_read_only(staff_client, project, other_project):
    Tag.objects.create(project=project, name="mine")
    Tag.objects.create(project=other_project, name="theirs")
    response = staff_client.get(reverse("admin:photos_tag_changelist"))
    assert [t.name for t in response.context["cl"].result_list] == ["mine"]
    assert staff_client.get(reverse("admin:photos_tag_add")).status_code == 403


def test_view_permission_alone_allows_browsing(client, tenant, project):
    viewer = make_user(tenant, "viewer", staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_photo"))
    client.force_login(viewer)
    make_photo(project, "IMG_0001")
    assert listed(client.get(reverse(CHANGELIST))) == ["IMG_0001"]


def test_changelist_filters_by_rating_and_label_and_lists_by_capture_time(staff_client, project):
    from datetime import UTC, datetime

    from photos.models import Label

    make_photo(project, "LATE", rating=5, taken_at=datetime(2025, 2, 1, tzinfo=UTC))
    make_photo(
        project, "EARLY", rating=5, label=Label.RED, taken_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    make_photo(project, "UNDATED", rating=5)
    make_photo(project, "UNRATED")

    response = staff_client.get(reverse(CHANGELIST), {"rating": 5})
    assert [p.basename for p in response.context["cl"].result_list] == ["EARLY", "LATE", "UNDATED"]
    assert listed(staff_client.get(reverse(CHANGELIST), {"label": "red"})) == ["EARLY"]
