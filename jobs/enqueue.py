"""Enqueueing jobs (SPEC §3): scope rules, item lists, chunking, and the wake-up on commit.

``job_enqueue`` writes a job (or one per chunk of ``MAX_ITEMS_PER_JOB`` items), its items and
its ``job_queued`` event in one transaction, and wakes its lane only after that commits. Items
name photos; the photo model is reached through ``JobItem.photo``, so the engine needs no
import of the photos app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from projects.models import Project, Tenant

from .events import EventType, job_event
from .exceptions import ScopeError
from .lanes import lane_for_priority, wake_lane_on_commit
from .models import Job, JobItem, Scope, TaskRun, item_photo_model

# A photo: its id, a ``{"photo_id": …, "basename": …}`` dict, or the photo row itself.
ItemSpec = int | dict[str, Any] | models.Model


def scope_resolve(*, scope: str | None, project: Project | None, has_items: bool) -> str:
    """The job's scope: the explicit one checked against the arguments, else inferred.

    A project → ``project``; items without a project → ``photo_set``; neither → ``global``.
    """
    if scope is None:
        if project is not None:
            return Scope.PROJECT
        return Scope.PHOTO_SET if has_items else Scope.GLOBAL
    if scope not in Scope.values:
        raise ScopeError(f"Unknown scope '{scope}'; use one of {', '.join(Scope.values)}.")
    if scope == Scope.PROJECT and project is None:
        raise ScopeError("A project-scoped job needs a project.")
    if scope == Scope.GLOBAL and project is not None:
        raise ScopeError("A global job must not name a project.")
    if scope == Scope.GLOBAL and has_items:
        raise ScopeError("A global job takes no items.")
    return scope


def item_photo_id(item: ItemSpec) -> int | None:
    """The photo id an item names (``None`` for a dict with a basename only)."""
    if isinstance(item, int):
        return item
    if isinstance(item, item_photo_model()):
        return item.pk
    return item.get("photo_id")  # type: ignore[union-attr]


def items_normalise(*, tenant: Tenant, items: Sequence[ItemSpec]) -> list[tuple[int | None, str]]:
    """``(photo_id, basename)`` pairs in the given order, checked to belong to the tenant."""
    photo_model = item_photo_model()
    pairs: list[tuple[int | None, str | None]] = []
    for item in items:
        if isinstance(item, photo_model):
            pairs.append((item.pk, item.basename))  # type: ignore[attr-defined]
        elif isinstance(item, dict):
            if item.get("photo_id") is None and not item.get("basename"):
                raise ScopeError(f"A job item needs a photo_id or a basename, got {item!r}.")
            pairs.append((item.get("photo_id"), item.get("basename")))
        elif isinstance(item, int) and not isinstance(item, bool):
            pairs.append((item, None))
        else:
            raise ScopeError(f"Unsupported job item {item!r}.")
    missing = {pid for pid, base in pairs if pid is not None and base is None}
    # ``int | None`` keys: a pair with neither id nor name misses below and raises KeyError.
    names: dict[int | None, str] = {}
    ids = sorted(missing)
    for start in range(0, len(ids), MAX_ITEMS_PER_JOB):
        names.update(
            # The base manager: every row (an app may hide some from its default one, as
            # photos hides trashed photos, which a restore names).
            photo_model._base_manager.for_tenant(tenant)  # type: ignore[attr-defined]
            .filter(pk__in=ids[start : start + MAX_ITEMS_PER_JOB])
            .values_list("pk", "basename")
        )
    unknown = missing - names.keys()
    if unknown:
        raise ScopeError(
            f"Photos not found in tenant '{tenant.slug}': {', '.join(map(str, sorted(unknown)[:20]))}."
        )
    return [(pid, base if base is not None else names[pid]) for pid, base in pairs]


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
                        JobItem(job=job, tenant=tenant, photo_id=pid, basename=base)
                        for pid, base in chunk
                    ],
                    batch_size=500,
                )
            job_event(job, EventType.JOB_QUEUED)
            jobs.append(job)
        for job in jobs:
            wake_lane_on_commit(lane_for_priority(job.priority))
    return jobs
