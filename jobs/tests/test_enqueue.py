"""Enqueueing jobs: scope rules, item lists checked against the tenant, chunking."""

import pytest

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from jobs.enqueue import job_enqueue
from jobs.exceptions import ScopeError
from jobs.models import Job, Scope
from photos.models import Photo
from tests.factories import make_project


def enqueue(tenant, priority, **kw):
    return job_enqueue(tenant=tenant, type="test_noop", priority=priority, **kw)[0]


def test_items_are_listed_in_order(tenant, project):
    photos = [Photo.objects.create(project=project, basename=f"IMG_{i}") for i in (3, 1, 2)]
    job = job_enqueue(
        tenant=tenant, type="test_noop", project=project, items=[p.pk for p in photos]
    )[0]
    assert list(job.items.values_list("basename", flat=True)) == ["IMG_3", "IMG_1", "IMG_2"]
    assert job.progress_total == 3


def _photos(project, n):
    Photo.objects.bulk_create([Photo(project=project, basename=f"P{i:05d}") for i in range(n)])
    return list(Photo.objects.filter(project=project).order_by("id").values_list("pk", flat=True))


def test_auto_chunking_splits_into_2000s(tenant, project):
    ids = _photos(project, 4500)
    jobs = job_enqueue(tenant=tenant, type="test_noop", items=ids, auto_chunk=True)
    assert [j.items.count() for j in jobs] == [2000, 2000, 500]
    assert [(j.chunk_index, j.total_chunks) for j in jobs] == [(0, 3), (1, 3), (2, 3)]
    assert all(j.scope == Scope.ITEM_SET for j in jobs)


def test_more_than_max_without_chunking_fails(tenant, project):
    ids = _photos(project, MAX_ITEMS_PER_JOB + 1)
    with pytest.raises(
        PayloadTooLarge, match="Payload contains 2001 items, exceeding maximum of 2000."
    ):
        job_enqueue(tenant=tenant, type="test_noop", items=ids)
    assert not Job.objects.exists()


def test_scope_inference_and_validation(tenant, project):
    assert enqueue(tenant, 50, project=project).scope == Scope.PROJECT
    assert enqueue(tenant, 50).scope == Scope.GLOBAL
    photo = Photo.objects.create(project=project, basename="A")
    assert enqueue(tenant, 50, items=[photo.pk]).scope == Scope.ITEM_SET
    assert (
        enqueue(tenant, 50, items=[photo.pk], project=project, scope="photo_set").scope
        == Scope.ITEM_SET
    )
    with pytest.raises(ScopeError, match="needs a project"):
        enqueue(tenant, 50, scope="project")
    with pytest.raises(ScopeError, match="must not name a project"):
        enqueue(tenant, 50, scope="global", project=project)


def test_items_of_another_tenant_are_refused(tenant, other_tenant):
    foreign = make_project(other_tenant, "Theirs")
    photo = Photo.objects.create(project=foreign, basename="X")
    with pytest.raises(ScopeError, match="not found"):
        enqueue(tenant, 50, items=[photo.pk])


def test_project_of_another_tenant_is_refused(tenant, other_tenant):
    foreign = make_project(other_tenant, "Theirs")
    with pytest.raises(ScopeError):
        enqueue(tenant, 50, project=foreign)


def test_tenant_never_lists_other_tenants_jobs(tenant, other_tenant):
    mine = enqueue(tenant, 50)
    enqueue(other_tenant, 50)
    assert [j.pk for j in Job.objects.for_tenant(tenant)] == [mine.pk]


def test_item_without_photo_or_basename_is_a_clear_error(tenant):
    with pytest.raises(ScopeError, match="needs a photo_id or a basename"):
        job_enqueue(tenant=tenant, type="test_noop", items=[{"note": "x"}])


def test_items_name_photos_by_id_row_or_basename(tenant, project):
    by_id = Photo.objects.create(project=project, basename="IMG_1")
    by_row = Photo.objects.create(project=project, basename="IMG_2")
    job = enqueue(tenant, 50, items=[by_id.pk, by_row, {"basename": "IMG_3"}])
    assert list(job.items.order_by("id").values_list("photo_id", "basename")) == [
        (by_id.pk, "IMG_1"),
        (by_row.pk, "IMG_2"),
        (None, "IMG_3"),
    ]
