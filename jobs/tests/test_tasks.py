import pytest

from jobs.exceptions import ScopeError, UnknownTaskType
from jobs.lifecycle import job_cancel, job_claim, job_complete, job_fail, job_retry
from jobs.models import ITEM_ID, Job, JobStatus, Scope, TaskRun
from jobs.registry import step_selector_for
from jobs.runtime import drain
from jobs.tasks import start_task
from tests.factories import make_item, make_items, make_project


def test_start_task_returns_shape_and_creates_first_step(tenant):
    started = start_task("test_three_steps", tenant)
    assert set(started) >= {"task_id", "type", "first_job_id", "chunked", "job_count"}
    assert started["chunked"] is False
    assert started["job_count"] == 1
    job = Job.objects.get(pk=started["first_job_id"])
    assert (job.step_index, job.priority, job.scope) == (0, 95, "global")


def test_steps_advance_in_order_to_completion(tenant):
    started = start_task("test_three_steps", tenant)
    drain()
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "completed"
    assert task.finished_at is not None
    assert list(task.jobs.order_by("step_index").values_list("step_index", "status")) == [
        (0, "completed"),
        (1, "completed"),
        (2, "completed"),
    ]


def test_caller_payload_cannot_overwrite_reserved_keys(tenant):
    started = start_task(
        "test_three_steps", tenant, payload={"task_id": "x", "type": "y", "source": "z", "keep": 1}
    )
    job = Job.objects.get(pk=started["first_job_id"])
    assert job.payload["task_id"] == started["task_id"]
    assert job.payload["type"] == "test_three_steps"
    assert job.payload["source"] == "user"
    assert job.payload["keep"] == 1


def test_unknown_task_type(tenant):
    with pytest.raises(UnknownTaskType, match="Unknown task type 'nope'"):
        start_task("nope", tenant)


def test_scope_is_checked_against_definition(tenant, project):
    with pytest.raises(ScopeError):
        start_task("test_three_steps", tenant, project=project)
    with pytest.raises(ScopeError):
        start_task("maintenance", tenant)  # a project task without a project


def test_item_set_task_carries_affected_projects(tenant):
    a, b, c = (make_project(tenant, n) for n in ("A", "B", "C"))
    ia = make_item(a, "x")
    ib = make_item(b, "y")
    started = start_task("test_chunked", tenant, items=[ia.pk, ib.pk])
    drain()
    second = Job.objects.get(task_id=started["task_id"], step_index=1)
    assert second.payload["project_ids"] == sorted([a.pk, b.pk])
    assert second.scope == Scope.ITEM_SET
    assert c.pk not in second.payload["project_ids"]


def test_failed_step_stops_task_and_retry_resumes_it(tenant):
    started = start_task("test_three_steps", tenant)
    job = job_claim(worker_id="w")
    job_fail(job_id=job.pk, error="broken", retry=False)
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "failed"
    assert task.jobs.count() == 1
    job_retry(job_id=job.pk)
    drain()
    task.refresh_from_db()
    assert task.status == "completed"
    assert task.jobs.count() == 3


def test_cancel_queued_job_cancels_task(tenant):
    started = start_task("test_three_steps", tenant)
    job_cancel(job_id=started["first_job_id"])
    drain()
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "canceled"
    assert task.jobs.get().status == JobStatus.CANCELED


def test_chunk_completion_enqueues_next_step_once(tenant, project):
    ids = make_items(project, 4100)
    started = start_task("test_chunked", tenant, items=ids)
    assert started["job_count"] == 3
    drain()
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "completed"
    assert task.jobs.filter(step_index=1).count() == 1


def _finish_first_step(task_id: str) -> None:
    job = job_claim(worker_id="w", task_id=task_id)
    assert job is not None
    assert job.step_index == 0
    job_complete(job_id=job.pk)


def test_carried_step_keeps_the_items_its_selector_picks(tenant, project):
    kept = make_item(project, "PICK_1")
    left = make_item(project, "LEAVE_1")
    started = start_task("test_carry_picked", tenant, items=[kept.pk, left.pk])
    _finish_first_step(started["task_id"])
    step = Job.objects.get(task_id=started["task_id"], step_index=1)
    assert (step.type, step.priority) == ("test_picked", 90)
    assert list(step.items.values_list(ITEM_ID, flat=True)) == [kept.pk]


def test_carried_step_is_skipped_when_no_item_needs_it(tenant, project):
    left = make_item(project, "LEAVE_1")
    started = start_task("test_carry_picked", tenant, items=[left.pk])
    _finish_first_step(started["task_id"])
    task = TaskRun.objects.get(pk=started["task_id"])
    assert task.status == "completed"
    assert not task.jobs.filter(step_index=1).exists()


def test_a_step_asking_for_an_unregistered_selector_is_an_error():
    with pytest.raises(LookupError, match="No step selector registered for step type 'nope'"):
        step_selector_for("nope")
