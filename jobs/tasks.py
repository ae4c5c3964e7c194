"""Tasks (SPEC §5): start them, advance them step by step, and own the TaskRun's status.

``start_task`` writes the TaskRun and the first step's jobs in one transaction.
``task_job_finished`` runs inside the transaction that ends a job (``jobs.lifecycle`` calls
it): it locks the TaskRun, and advances with a compare-and-set on ``current_step``, so the next
step is enqueued exactly once even when several chunks finish at the same moment on different
workers. A step that carries photos over keeps those its registered step selector picks
(``jobs.registry.step_selector``); the engine itself knows no photo field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from django.db import transaction
from django.utils import timezone

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from projects.models import Project, Tenant

from .definitions import TASK_DEFINITIONS, Step, TaskDefinition, task_title
from .enqueue import ItemSpec, item_photo_id, job_enqueue, scope_resolve
from .exceptions import ScopeError, TaskAlreadyRunning, UnknownTaskType
from .models import Job, JobItem, JobStatus, Scope, TaskRun, item_photo_model
from .registry import step_selector_for

RESERVED_PAYLOAD_KEYS = ("task_id", "type", "source", "title")
ACTIVE_TASK_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class StartedTask(TypedDict):
    task_id: str
    type: str
    first_job_id: int
    chunked: bool
    job_count: int
    job_ids: list[int]


def task_definition(task_type: str) -> TaskDefinition:
    try:
        return TASK_DEFINITIONS[task_type]
    except KeyError:
        raise UnknownTaskType(task_type) from None


def task_active(
    *, tenant: Tenant, task_type: str, project: Project | None = None
) -> TaskRun | None:
    qs = TaskRun.objects.filter(tenant=tenant, type=task_type, status__in=ACTIVE_TASK_STATUSES)
    if project is not None:
        qs = qs.filter(project=project)
    return qs.order_by("created_at").first()


def start_task(
    type: str,
    tenant: Tenant,
    *,
    project: Project | None = None,
    scope: str | None = None,
    items: Sequence[ItemSpec] | None = None,
    payload: dict[str, Any] | None = None,
    source: str = "user",
    auto_chunk: bool = True,
    single_flight: bool = False,
) -> StartedTask:
    """Create a TaskRun and its first step's job(s); wake-ups go out after commit.

    With ``single_flight`` (schedules, maintenance triggers) an active task of the same type
    for the tenant (and project) raises ``TaskAlreadyRunning``; the tenant row is locked so
    two schedulers cannot both pass the check on PostgreSQL.
    """
    definition = task_definition(type)
    items = list(items or [])
    if scope is None:
        inferred = scope_resolve(scope=None, project=project, has_items=bool(items))
        scope = inferred if inferred in definition.scopes else definition.scope
    if scope not in definition.scopes:
        raise ScopeError(
            f"Task '{type}' runs with scope {' or '.join(definition.scopes)}, not '{scope}'."
        )
    scope_resolve(scope=scope, project=project, has_items=bool(items))
    if not auto_chunk and len(items) > MAX_ITEMS_PER_JOB:
        raise PayloadTooLarge(len(items))

    task_payload = {k: v for k, v in (payload or {}).items() if k not in RESERVED_PAYLOAD_KEYS}
    with transaction.atomic():
        if single_flight:
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            active = task_active(tenant=tenant, task_type=type, project=project)
            if active is not None:
                raise TaskAlreadyRunning(type, str(active.pk))
        task = TaskRun.objects.create(
            type=type, scope=scope, tenant=tenant, project=project, source=source
        )
        if scope == Scope.PHOTO_SET:
            task_payload["project_ids"] = _affected_projects(
                tenant=tenant, items=items, project=project
            )
        task_payload.update(
            task_id=str(task.pk),
            type=type,
            source=source,
            title=_title(
                definition, tenant=tenant, project=project, items=items, payload=task_payload
            ),
        )
        task.payload = task_payload
        task.save(update_fields=["payload"])
        jobs = _enqueue_step(task=task, step_index=0, step=definition.steps[0], items=items)
    return {
        "task_id": str(task.pk),
        "type": type,
        "first_job_id": jobs[0].pk,
        "chunked": len(jobs) > 1,
        "job_count": len(jobs),
        "job_ids": [job.pk for job in jobs],
    }


def _title(
    definition: TaskDefinition,
    *,
    tenant: Tenant,
    project: Project | None,
    items: Sequence[ItemSpec],
    payload: dict[str, Any],
) -> str:
    """The task's human title, rendered once at start (names as they are now): every job of
    the task carries it in its payload, so events and lists show it without a query."""
    destination = None
    if "{destination}" in definition.title:
        dest_id = payload.get("dest_project_id")
        if isinstance(dest_id, int) and not isinstance(dest_id, bool):
            destination = (
                Project.objects.for_tenant(tenant)
                .filter(pk=dest_id)
                .values_list("name", flat=True)
                .first()
            )
    project_ids = payload.get("project_ids")
    return task_title(
        definition,
        task_type=definition.type,
        photos=len(items) or None,
        project=project.name if project is not None else None,
        destination=destination,
        projects=len(project_ids) if isinstance(project_ids, list) else None,
    )


def _affected_projects(
    *, tenant: Tenant, items: Sequence[ItemSpec], project: Project | None
) -> list[int]:
    """The projects of a ``photo_set`` task's items. An item that names its ``project_id``
    (a service that read its rows, as a commit does) costs no query; the others' are read in
    chunks. ``JobContext.target_projects`` keeps them to the job's tenant."""
    project_ids: set[int] = set()
    unnamed = []
    for item in items:
        named = item.get("project_id") if isinstance(item, dict) else None
        if isinstance(named, int) and not isinstance(named, bool):
            project_ids.add(named)
        else:
            unnamed.append(item)
    ids = {item_photo_id(i) for i in unnamed}
    ids.discard(None)
    id_list = sorted(ids)  # type: ignore[type-var]
    photos = item_photo_model()._base_manager.for_tenant(tenant)  # type: ignore[attr-defined]
    for start in range(0, len(id_list), MAX_ITEMS_PER_JOB):
        project_ids.update(
            photos.filter(pk__in=id_list[start : start + MAX_ITEMS_PER_JOB])
            .values_list("project_id", flat=True)
            .distinct()
        )
    if project is not None:
        project_ids.add(project.pk)
    return sorted(project_ids)


def _enqueue_step(
    *, task: TaskRun, step_index: int, step: Step, items: Sequence[ItemSpec] | None
) -> list[Job]:
    return job_enqueue(
        tenant=task.tenant,
        type=step.type,
        project=task.project,
        scope=task.scope,
        items=items,
        payload=task.payload,
        priority=step.priority,
        task=task,
        step_index=step_index,
        auto_chunk=True,
    )


def _items_for_step(task: TaskRun, step: Step) -> list[int] | None:
    """Photo ids a carrying step works on: step 0's photos that still exist (and need it).

    "Need it" is the step selector's answer (``only_if_needed``), registered by the app that
    knows the photos.
    """
    if not step.carry_items:
        return None
    photo_ids = (
        JobItem.objects.filter(job__task=task, job__step_index=0, photo__isnull=False)
        .order_by("id")
        .values_list("photo_id", flat=True)
    )
    photos = (
        item_photo_model()
        .objects.for_tenant(task.tenant_id)  # type: ignore[attr-defined]
        .filter(pk__in=list(photo_ids))
    )
    if step.only_if_needed:
        photos = step_selector_for(step.type)(photos)
    return list(photos.order_by("id").values_list("pk", flat=True))


def task_job_started(*, job: Job) -> None:
    """Called in the transaction that claimed ``job``: its task is running from now on."""
    if job.task_id:
        TaskRun.objects.filter(pk=job.task_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING
        )


def task_job_retried(*, job: Job) -> None:
    """Called in the transaction that put a failed or canceled ``job`` back in its queue: the
    task runs again and goes on from that job's step."""
    if job.task_id:
        TaskRun.objects.filter(pk=job.task_id).update(status=JobStatus.RUNNING, finished_at=None)


def task_job_finished(*, job: Job) -> None:
    """Called in the transaction that ended ``job``: advance or stop its task."""
    if job.task_id is None:
        return
    task = TaskRun.objects.select_for_update().get(pk=job.task_id)
    if task.status in (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.COMPLETED) and (
        job.status != JobStatus.COMPLETED
    ):
        return
    now = timezone.now()
    if job.status == JobStatus.FAILED:
        TaskRun.objects.filter(pk=task.pk).update(status=JobStatus.FAILED, finished_at=now)
        return
    if job.status == JobStatus.CANCELED:
        TaskRun.objects.filter(pk=task.pk).update(status=JobStatus.CANCELED, finished_at=now)
        return

    step_jobs = Job.objects.filter(task=task, step_index=job.step_index)
    if step_jobs.exclude(status=JobStatus.COMPLETED).exists():
        return
    if job.step_index != task.current_step:
        return
    if task.status in (JobStatus.FAILED, JobStatus.CANCELED):
        # A retried chunk completed its step: the task goes on.
        TaskRun.objects.filter(pk=task.pk).update(status=JobStatus.RUNNING, finished_at=None)
    _advance(task, from_step=job.step_index)


def _advance(task: TaskRun, *, from_step: int) -> None:
    definition = task_definition(task.type)
    next_index = from_step + 1
    while next_index < len(definition.steps):
        step = definition.steps[next_index]
        items = _items_for_step(task, step)
        won = TaskRun.objects.filter(pk=task.pk, current_step=from_step).update(
            current_step=next_index
        )
        if not won:
            return
        if step.only_if_needed and not items:
            from_step = next_index
            next_index += 1
            continue
        task.current_step = next_index
        _enqueue_step(task=task, step_index=next_index, step=step, items=items)
        return
    TaskRun.objects.filter(pk=task.pk).update(
        status=JobStatus.COMPLETED, finished_at=timezone.now(), current_step=from_step
    )


def task_progress(task: TaskRun) -> dict[str, Any]:
    """Aggregate progress of a task over its jobs (for the API and the admin)."""
    definition = TASK_DEFINITIONS.get(task.type)
    jobs = list(task.jobs.all().only("status", "progress_done", "progress_total", "step_index"))
    return {
        "steps_total": len(definition.steps) if definition else None,
        "current_step": task.current_step,
        "jobs_total": len(jobs),
        "jobs_completed": sum(1 for j in jobs if j.status == JobStatus.COMPLETED),
        "done": sum(j.progress_done for j in jobs),
        "total": sum(j.progress_total for j in jobs),
    }
