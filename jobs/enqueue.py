"""Enqueueing jobs (SPEC §3): scope rules, item lists, chunking, and the wake-up on commit.

``job_enqueue`` writes a job (or one per chunk of ``MAX_ITEMS_PER_JOB`` items), its items and
its ``job_queued`` event in one transaction, and wakes its lane only after that commits. Items
name what the registered item source resolves (``jobs.registry.item_source``); the engine
imports no app above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from projects.models import Project, Tenant

from .events import EventType, job_event
from .exceptions import ScopeError
from .lanes import lane_for_priority, wake_lane_on_commit
from .models import ITEM_ID, Job, JobItem, Scope, TaskRun
from .registry import ItemRef, item_source

# An item: its id, an ``ItemRef``, or a spec the item source reads (``ItemSource.ref``: a row,
# a dict of the app's own).
ItemSpec = int | ItemRef | Any


def scope_resolve(*, scope: str | None, project: Project | None, has_items: bool) -> str:
    """The job's scope: the explicit one checked against the arguments, else inferred.

    A project → ``project``; items without a project → an item set; neither → ``global``.
    """
    if scope is None:
        if project is not None:
            return Scope.PROJECT
        return Scope.ITEM_SET if has_items else Scope.GLOBAL
    if scope not in Scope.values:
        raise ScopeError(f"Unknown scope '{scope}'; use one of {', '.join(Scope.values)}.")
    if scope == Scope.PROJECT and project is None:
        raise ScopeError("A project-scoped job needs a project.")
    if scope == Scope.GLOBAL and project is not None:
        raise ScopeError("A global job must not name a project.")
    if scope == Scope.GLOBAL and has_items:
        raise ScopeError("A global job takes no items.")
    return scope


def item_ref(item: ItemSpec) -> ItemRef:
    """The ``ItemRef`` an item spec names (its label and group possibly still unknown)."""
    if isinstance(item, int) and not isinstance(item, bool):
        return ItemRef(item)
    ref = item if isinstance(item, ItemRef) else item_source().ref(item)
    if ref is None:
        raise ScopeError(f"Unsupported job item {item!r}.")
    if ref.id is None and not ref.label:
        raise ScopeError(f"A job item needs an id or a label, got {item!r}.")
    return ref


def items_resolve(
    *, tenant: Tenant | int, ids: Sequence[int], hidden: bool = True
) -> dict[int, ItemRef]:
    """The item source's refs of ``ids`` in the tenant, by id, ``MAX_ITEMS_PER_JOB`` at a time
    (``hidden``: rows the app hides from its default views too, as a restore names them)."""
    found: dict[int, ItemRef] = {}
    id_list = sorted(set(ids))
    for start in range(0, len(id_list), MAX_ITEMS_PER_JOB):
        chunk = id_list[start : start + MAX_ITEMS_PER_JOB]
        for ref in item_source().resolve(tenant, chunk, hidden=hidden):
            if ref.id is not None:
                found[ref.id] = ref
    return found


def items_normalise(*, tenant: Tenant, items: Sequence[ItemSpec]) -> list[tuple[int | None, str]]:
    """``(item_id, label)`` pairs in the given order, checked to belong to the tenant."""
    refs = [item_ref(item) for item in items]
    missing = {ref.id for ref in refs if ref.id is not None and ref.label is None}
    names = items_resolve(tenant=tenant, ids=sorted(missing))
    unknown = missing - names.keys()
    if unknown:
        noun = item_source().noun[1].capitalize()
        raise ScopeError(
            f"{noun} not found in tenant '{tenant.slug}': "
            f"{', '.join(map(str, sorted(unknown)[:20]))}."
        )
    pairs: list[tuple[int | None, str]] = []
    for ref in refs:
        label = ref.label
        if label is None and ref.id is not None:
            label = names[ref.id].label
        pairs.append((ref.id, label or ""))
    return pairs


def job_enqueue(
    *,
    tenant: Tenant,
    type: str,
    project: Project | None = None,
    scope: str | None = None,
    items: Sequence[ItemSpec] | None = None,
    payload: dict[str, Any] | None = None,
    priority: int = 50,
    task: TaskRun | None = None,
    step_index: int = 0,
    auto_chunk: bool = False,
    max_attempts: int | None = None,
) -> list[Job]:
    """Create a job (or one per chunk of 2,000 items) and wake its lane after commit.

    More than ``MAX_ITEMS_PER_JOB`` items raise ``PayloadTooLarge`` unless ``auto_chunk``.
    """
    items = list(items or [])
    scope = scope_resolve(scope=scope, project=project, has_items=bool(items))
    if project is not None and project.tenant_id != tenant.pk:
        raise ScopeError("The project belongs to another tenant.")
    if len(items) > MAX_ITEMS_PER_JOB and not auto_chunk:
        raise PayloadTooLarge(len(items))
    pairs = items_normalise(tenant=tenant, items=items) if items else []
    chunks = [pairs[i : i + MAX_ITEMS_PER_JOB] for i in range(0, len(pairs), MAX_ITEMS_PER_JOB)]
    chunks = chunks or [[]]

    jobs: list[Job] = []
    with transaction.atomic():
        for index, chunk in enumerate(chunks):
            job = Job.objects.create(
                tenant=tenant,
                project=project,
                task=task,
                type=type,
                scope=scope,
                step_index=step_index,
                chunk_index=index,
                total_chunks=len(chunks),
                priority=priority,
                payload=dict(payload or {}),
                progress_total=len(chunk),
                max_attempts=max_attempts or settings.PIPELINE_MAX_ATTEMPTS,
                woken_at=timezone.now(),
            )
            if chunk:
                JobItem.objects.bulk_create(
                    [
                        JobItem(job=job, tenant=tenant, basename=base, **{ITEM_ID: pid})
                        for pid, base in chunk
                    ],
                    batch_size=500,
                )
            job_event(job, EventType.JOB_QUEUED)
            jobs.append(job)
        for job in jobs:
            wake_lane_on_commit(lane_for_priority(job.priority))
    return jobs
