"""Project photo counts kept by database triggers (``ProjectPhotoCounts``): every write path,
including ones that bypass the ORM's ``save()``, moves them, and the project list reads them
instead of counting photos."""

from __future__ import annotations

import pytest
from django.db import connection

from photos.models import Photo, ProjectPhotoCounts
from projects.models import Project
from tests.factories import make_photo, make_project
from tests.urls import api_path


def counts(project: Project) -> tuple[int, int]:
    row = ProjectPhotoCounts.objects.filter(project=project).first()
    return (row.photo_count, row.pending_delete_count) if row else (0, 0)


def recount(project: Project) -> tuple[int, int]:
    photos = Photo.objects.filter(project=project)
    return photos.count(), photos.pending_delete().count()


@pytest.mark.django_db
def test_counts_follow_inserts_updates_moves_and_deletes(tenant):
    first, second = make_project(tenant, "First"), make_project(tenant, "Second")
    kept = make_photo(first, "A", write=False)
    pending = make_photo(first, "B", write=False, keep_jpg=False)
    Photo.objects.bulk_create(
        [
            Photo(project=first, basename=f"bulk{n}", jpg_available=True, keep_jpg=n % 2 == 0)
            for n in range(10)
        ]
    )
    assert counts(first) == recount(first) == (12, 6)

    # QuerySet.update never calls save(): the trigger still sees it.
    Photo.objects.filter(project=first, basename__startswith="bulk").update(keep_jpg=True)
    assert counts(first) == recount(first) == (12, 1)
    kept.keep_jpg = False
    kept.save()
    assert counts(first) == (12, 2)

    Photo.objects.filter(pk__in=[kept.pk, pending.pk]).update(project=second)
    assert counts(first) == recount(first) == (10, 0)
    assert counts(second) == recount(second) == (2, 2)

    Photo.objects.filter(project=second, basename="A").delete()
    assert counts(second) == recount(second) == (1, 1)
    with connection.cursor() as cursor:  # raw SQL, as a bulk tool or an operator would
        cursor.execute("DELETE FROM photos_photo WHERE project_id = %s", [first.pk])
    assert counts(first) == (0, 0)


@pytest.mark.django_db
def test_rating_changes_leave_counts_alone(tenant):
    project = make_project(tenant)
    photo = make_photo(project, write=False, raw=True, keep_raw=False)
    Photo.objects.filter(pk=photo.pk).update(rating=4, label="red")
    assert counts(project) == (1, 1)


@pytest.mark.django_db
def test_project_list_reads_counts_without_touching_photos(
    tenant, api_client, django_assert_max_num_queries
):
    projects = [make_project(tenant, f"P{n}") for n in range(5)]
    for n, project in enumerate(projects):
        for m in range(n):
            make_photo(project, f"IMG{m}", write=False, keep_jpg=m != 0)
    with django_assert_max_num_queries(4) as captured:
        reply = api_client.get(api_path("project-list"))
    assert reply.status_code == 200
    got = {
        row["name"]: (row["photo_count"], row["pending_delete_count"])
        for row in reply.json()["results"]
    }
    assert got == {f"P{n}": (n, 1 if n else 0) for n in range(5)}
    # The list joins the kept counts; it never scans or groups photos.
    assert not any("photos_photo" in q["sql"] for q in captured.captured_queries)


@pytest.mark.django_db
def test_other_tenants_photos_never_count(tenant, other_tenant, api_client):
    mine, theirs = make_project(tenant, "Mine"), make_project(other_tenant, "Theirs")
    make_photo(theirs, write=False)
    make_photo(mine, write=False)
    make_photo(mine, write=False)
    rows = api_client.get(api_path("project-list")).json()["results"]
    assert [(r["name"], r["photo_count"]) for r in rows] == [("Mine", 2)]
