"""The studio home (the admin index for tenant members; issue 22, item 6): the week, projects
waiting to be culled with kept / discarded / untouched, disk and trash sizes, project cards."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from photos.models import Label, Photo
from photos.selectors import HOME_QUERIES, studio_home
from photos.services import photos_keep_update, photos_tags_add
from photos.storage import project_dir
from tests.factories import make_photo, make_project


def shoot(tenant, staff):
    """A project of 6 photos: 1 discarded, 1 rated, 1 tagged, 1 labelled, 2 untouched."""
    project = make_project(tenant, "Wedding Anna & Ben")
    now = timezone.now()
    photos = [
        make_photo(project, f"WED_{i:04d}", taken_at=now - timedelta(days=2, minutes=10 - i))
        for i in range(6)
    ]
    photos_keep_update(user=staff, items=[{"photo_id": photos[0].pk, "keep_jpg": False}])
    Photo.objects.filter(pk=photos[1].pk).update(rating=4)
    photos_tags_add(user=staff, items=[{"photo_id": photos[2].pk, "tags": ["bride"]}])
    Photo.objects.filter(pk=photos[3].pk).update(label=Label.GREEN)
    return project, photos


def test_cull_progress_counts_kept_discarded_and_untouched(staff, tenant):
    cache.clear()
    project, photos = shoot(tenant, staff)
    make_project(tenant, "Empty project")

    home = studio_home(user=staff)

    card = next(p for p in home.projects if p.id == project.pk)
    assert (card.kept, card.discarded, card.untouched) == (3, 1, 2)
    assert card.photo_count == 6
    assert card.shoot_date == photos[0].taken_at
    assert card.cover_id == photos[1].pk or card.cover_id is None  # best-rated with a thumbnail
    assert [p.id for p in home.waiting] == [project.pk]
    assert home.shot_this_week == 6
    assert home.uploaded_this_week == 6


def test_cover_is_the_best_rated_photo_with_a_thumbnail(staff, tenant):
    cache.clear()
    project, photos = shoot(tenant, staff)
    Photo.objects.filter(project=project).update(thumbnail_status="generated")
    home = studio_home(user=staff)
    assert next(p for p in home.projects if p.id == project.pk).cover_id == photos[1].pk


def test_disk_and_trash_sizes_come_from_the_folder_and_are_cached(staff, tenant):
    cache.clear()
    project, _ = shoot(tenant, staff)
    folder = project_dir(project)
    (folder / ".trash").mkdir(exist_ok=True)
    (folder / ".trash" / "OLD_0001.jpg").write_bytes(b"x" * 5000)
    on_disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())

    card = next(p for p in studio_home(user=staff).projects if p.id == project.pk)
    assert (card.disk_bytes, card.trash_bytes) == (on_disk, 5000)

    (folder / ".trash" / "OLD_0002.jpg").write_bytes(b"x" * 7000)
    cached = next(p for p in studio_home(user=staff).projects if p.id == project.pk)
    assert cached.trash_bytes == 5000  # within STORAGE_CACHE_SECONDS: no walk


def test_home_runs_a_fixed_number_of_queries(staff, tenant, django_assert_max_num_queries):
    for n in range(4):
        project = make_project(tenant, f"Shoot {n}")
        for _ in range(5):
            make_photo(project)
    cache.clear()
    # + the cache's write of the sizes (the database cache: savepoint, count, look-up, insert,
    # release; one command on Redis).
    with django_assert_max_num_queries(HOME_QUERIES + 5):
        studio_home(user=staff)
    with django_assert_max_num_queries(HOME_QUERIES):
        studio_home(user=staff)


def test_home_is_scoped_to_the_members_studio(staff, tenant, other_tenant):
    cache.clear()
    make_project(other_tenant, "Globex secret")
    shoot(tenant, staff)
    names = [p.name for p in studio_home(user=staff).projects]
    assert names == ["Wedding Anna & Ben"]


def test_admin_index_is_the_studio_home_and_the_dashboard_stays(staff_client, staff, tenant):
    cache.clear()
    project, _ = shoot(tenant, staff)
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert 'id="studio-home"' in page
    assert "2 untouched" in page
    assert "1 discarded" in page
    assert "3 kept" in page
    assert f'data-project="{project.pk}"' in page
    assert staff_client.get(reverse("admin:jobs_job_dashboard")).status_code == 200


def test_a_superuser_of_no_studio_gets_the_operations_index(super_client):
    page = super_client.get(reverse("admin:index")).content.decode()
    assert 'id="studio-home"' not in page
    assert 'id="pipeline-module"' in page
