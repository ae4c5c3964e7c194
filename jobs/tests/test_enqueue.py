"""Enqueueing jobs: scope rules, item lists checked against the tenant, chunking."""

import pytest

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from jobs.enqueue import job_enqueue
from jobs.exceptions import ScopeError
from jobs.models import ITEM_ID, Job, Scope
from jobs.registry import ItemRef
from tests.factories import make_item, make_items, make_project


def enqueue(tenant, priority, **kw):
    return job_enqueue(tenant=tenant, type="test_noop", priority=priority, **kw)[0]


def test_items_are_listed_in_order(tenant, project):
    items = [make_item(project, f"IMG_{i}") for i in (3, 1, 2)]
    job = job_enqueue(
        tenant=tenant, type="test_noop", project=project, items=[i.pk for i in items]
    )[0]
    assert list(job.items.values_list("basename", flat=True)) == ["IMG_3", "IMG_1", "IMG_2"]
    assert job.progress_total == 3


def test_auto_chunking_splits_into_2000s(tenant, project):
    ids = make_items(project, 4500)
    jobs = job_enqueue(tenant=tenant, type="test_noop", items=ids, auto_chunk=True)
    assert [j.items.count() for j in jobs] == [2000, 2000, 500]
    assert [(j.chunk_index, j.total_chunks) for j in jobs] == [(0, 3), (1, 3), (2, 3)]
    assert all(j.scope == Scope.ITEM_SET for j in jobs)


def test_more_than_max_without_chunking_fails(tenant, project):
    ids = make_items(project, MAX_ITEMS_PER_JOB + 1)
    with pytest.raises(
        PayloadTooLarge, match="Payload contains 2001 items, exceeding maximum of 2000."
    ):
        job_enqueue(tenant=tenant, type="test_noop", items=ids)
    assert not Job.objects.exists()


def test_scope_inference_and_validation(tenant, project):
    assert enqueue(tenant, 50, project=project).scope == Scope.PROJECT
    assert enqueue(tenant, 50).scope == Scope.GLOBAL
    item = make_item(project, "A")
    assert enqueue(tenant, 50, items=[item.pk]).scope == Scope.ITEM_SET
    assert (
        enqueue(tenant, 50, items=[item.pk], project=project, scope=Scope.ITEM_SET).scope
        == Scope.ITEM_SET
    )
    with pytest.raises(ScopeError, match="needs a project"):
        enqueue(tenant, 50, scope="project")
    with pytest.raises(ScopeError, match="must not name a project"):
        enqueue(tenant, 50, scope="global", project=project)


def test_items_of_another_tenant_are_refused(tenant, other_tenant):
    foreign = make_project(other_tenant, "Theirs")
    item = make_item(foreign, "X")
    with pytest.raises(ScopeError, match="not found"):
        enqueue(tenant, 50, items=[item.pk])


def test_project_of_another_tenant_is_refused(tenant, other_tenant):
    foreign = make_project(other_tenant, "Theirs")
    with pytest.raises(ScopeError):
        enqueue(tenant, 50, project=foreign)


def test_tenant_never_lists_other_tenants_jobs(tenant, other_tenant):
    mine = enqueue(tenant, 50)
    enqueue(other_tenant, 50)
    assert [j.pk for j in Job.objects.for_tenant(tenant)] == [mine.pk]


def test_items_name_ids_or_refs_with_a_label(tenant, project):
    by_id = make_item(project, "IMG_1")
    job = enqueue(tenant, 50, items=[by_id.pk, ItemRef(None, "IMG_3"), ItemRef(by_id.pk, "kept")])
    assert list(job.items.order_by("id").values_list(ITEM_ID, "basename")) == [
        (by_id.pk, "IMG_1"),
        (None, "IMG_3"),
        (by_id.pk, "kept"),
    ]


def test_an_item_neither_id_nor_label_nor_a_source_spec_is_refused(tenant):
    with pytest.raises(ScopeError, match="needs an id or a label"):
        enqueue(tenant, 50, items=[ItemRef(None)])
    with pytest.raises(ScopeError, match="Unsupported job item"):
        enqueue(tenant, 50, items=[3.5])
