"""The photos' item source (``photos.definitions.PhotoItems``): job items name photos by id,
by row or by a ``{"photo_id", "basename", "project_id"}`` dict; the engine stores what it
resolves."""

import pytest
from django.utils import timezone

from jobs.enqueue import job_enqueue
from jobs.exceptions import ScopeError
from jobs.lifecycle import job_claim, job_complete
from jobs.models import Job, TaskRun
from jobs.tasks import start_task
from photos.definitions import PHOTO_ITEMS
from photos.models import DerivativeStatus, Photo
from tests.factories import make_project


def enqueue(tenant, priority, **kw):
    return job_enqueue(tenant=tenant, type="test_noop", priority=priority, **kw)[0]


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


def test_resolve_names_label_and_project_and_hides_trashed_rows_on_request(tenant, project):
    live = Photo.objects.create(project=project, basename="LIVE")
    trashed = Photo.all_objects.create(project=project, basename="GONE", trashed_at=timezone.now())
    every = {r.id: r for r in PHOTO_ITEMS.resolve(tenant, [live.pk, trashed.pk])}
    assert every[live.pk].label == "LIVE"
    assert every[live.pk].group_id == project.pk
    assert trashed.pk in every
    shown = PHOTO_ITEMS.resolve(tenant, [live.pk, trashed.pk], hidden=False)
    assert [r.id for r in shown] == [live.pk]


def test_an_item_set_task_carries_the_projects_its_items_name(tenant, project):
    other = make_project(tenant, "Other")
    a = Photo.objects.create(project=project, basename="A")
    b = Photo.objects.create(project=other, basename="B")
    items = [{"photo_id": p.pk, "basename": p.basename, "project_id": p.project_id} for p in (a, b)]
    started = start_task("generate_derivatives", tenant, items=items)
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.payload["project_ids"] == sorted([project.pk, other.pk])


def _finish_first_step(task_id: str) -> None:
    job = job_claim(worker_id="w", task_id=task_id)
    assert job is not None
    assert job.step_index == 0
    job_complete(job_id=job.pk)


def test_carried_step_keeps_the_photos_its_selector_picks(tenant, project, other_tenant):
    done = Photo.objects.create(
        project=project,
        basename="DONE",
        jpg_available=True,
        thumbnail_status=DerivativeStatus.GENERATED,
        preview_status=DerivativeStatus.GENERATED,
    )
    needs = Photo.objects.create(project=project, basename="NEEDS", jpg_available=True)
    no_source = Photo.objects.create(project=project, basename="NOSOURCE")
    started = start_task("test_carry_needed", tenant, items=[done.pk, needs.pk, no_source.pk])
    _finish_first_step(started["task_id"])
    step = Job.objects.get(task_id=started["task_id"], step_index=1)
    assert (step.type, step.priority) == ("generate_derivatives", 90)
    assert list(step.items.values_list("photo_id", flat=True)) == [needs.pk]


def test_carried_step_is_skipped_when_no_photo_needs_it(tenant, project):
    done = Photo.objects.create(
        project=project,
        basename="DONE",
        jpg_available=True,
        thumbnail_status=DerivativeStatus.GENERATED,
        preview_status=DerivativeStatus.GENERATED,
    )
    started = start_task("test_carry_needed", tenant, items=[done.pk])
    _finish_first_step(started["task_id"])
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "completed"
    assert not task.jobs.filter(step_index=1).exists()
