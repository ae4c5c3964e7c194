"""Handlers that move photo files: ``file_removal`` (commit), ``image_move_files`` (move) and
``photo_restore`` (undo a commit).

Thin adapters over ``photos.services``; both work only on the photos named by the job's
items, never on a whole project by fallback, ``PIPELINE_COMMIT_BATCH`` photos per
transaction (files first, then the batch's rows, events and item statuses). Each run holds
one ``FolderIndex``, so a project folder is listed once per job rather than once or twice
per photo.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from core.errors import ApplicationError
from jobs.context import JobContext
from jobs.events import events_record_bulk
from jobs.exceptions import ItemSkipped
from jobs.models import JobItem, Scope
from jobs.registry import handler
from photos.bursts import projects_bursts_update
from photos.pending import pending_changes_events
from photos.services.move import (
    MoveBatch,
    MoveOutcome,
    photos_move_files_prepare,
    photos_move_files_record,
)
from photos.services.removal import RemovalOutcome, photos_file_removal
from photos.services.restore import photo_restore_files
from photos.storage import FolderIndex

MOVE_PLAN_PREFIX = "move-plan:"
RESTORE_PLAN_PREFIX = "restore-plan:"


@handler("file_removal")
def file_removal(ctx: JobContext) -> None:
    """Trash the discarded files of the items' photos, a batch at a time.

    Each batch's files move first; its rows, events and item statuses then commit together
    (``photos_file_removal``, ``JobContext.each_batch``).
    """
    if not ctx.has_items():
        ctx.log("No items: nothing to remove.")
        return
    project_id = ctx.job.project_id if ctx.scope == Scope.PROJECT else None
    touched: set[int] = set()
    index = FolderIndex()

    def batch(items: list[JobItem]) -> dict[int, RemovalOutcome]:
        outcomes = photos_file_removal(
            tenant_id=ctx.job.tenant_id,
            photo_ids=[i.photo_id for i in items if i.photo_id is not None],
            project_id=project_id,
            job_id=ctx.job.pk,
            index=index,
            since=ctx.job.created_at.timestamp(),
        )
        by_item: dict[int, RemovalOutcome] = {}
        for item in items:
            outcome = outcomes.get(item.photo_id) if item.photo_id is not None else None
            if outcome is None:
                outcome = ItemSkipped("The photo no longer exists.")
            elif isinstance(outcome, str) and item.photo is not None:
                touched.add(item.photo.project_id)
            by_item[item.pk] = outcome
        return by_item

    ctx.each_batch(batch, size=settings.PIPELINE_COMMIT_BATCH)
    if touched:
        # A frame that went to the trash leaves its burst.
        projects_bursts_update(project_ids=touched, job_id=ctx.job.pk)
        events_record_bulk(
            pending_changes_events(
                projects=dict.fromkeys(touched, ctx.job.tenant_id), job_id=ctx.job.pk
            )
        )


def _move_plan(message: str) -> dict[str, Any] | None:
    if not message.startswith(MOVE_PLAN_PREFIX):
        return None
    try:
        plan = json.loads(message[len(MOVE_PLAN_PREFIX) :])
    except ValueError:
        return None
    return plan if isinstance(plan, dict) else None


@handler("image_move_files")
def image_move_files(ctx: JobContext) -> None:
    """Move each item's photo to ``payload["dest_project_id"]``, a batch at a time.

    Per batch (``PIPELINE_COMMIT_BATCH``): the plans of files about to move are committed to
    the items' messages in one statement before any file moves, so a rerun after a crash
    recognises its own files in the destination; the files move; then the batch's rows,
    tags, events and item statuses commit together (``JobContext.each_batch_prepared``).
    """
    dest_id = ctx.payload.get("dest_project_id")
    if not isinstance(dest_id, int) or isinstance(dest_id, bool):
        raise ApplicationError("image_move_files needs an integer payload 'dest_project_id'.")
    index = FolderIndex()
    sources: set[int] = set()

    def prepare(items: list[JobItem]) -> tuple[list[JobItem], MoveBatch]:
        sources.update(i.photo.project_id for i in items if i.photo is not None)
        by_photo: dict[int, list[JobItem]] = {}
        for item in items:
            if item.photo_id is not None:
                by_photo.setdefault(item.photo_id, []).append(item)

        def record(plans: dict[int, dict[str, Any]]) -> None:
            journaled = []
            for photo_id, plan in plans.items():
                for item in by_photo.get(photo_id, []):
                    item.message = MOVE_PLAN_PREFIX + json.dumps(plan)
                    journaled.append(item)
            JobItem.objects.bulk_update(journaled, ["message"])

        batch = photos_move_files_prepare(
            tenant_id=ctx.job.tenant_id,
            photos=[(i.photo_id, _move_plan(i.message or "")) for i in items],
            dest_project_id=dest_id,
            on_plans=record,
            index=index,
        )
        return items, batch

    def write(items: list[JobItem], batch: MoveBatch) -> dict[int, MoveOutcome]:
        outcomes = photos_move_files_record(
            batch, tenant_id=ctx.job.tenant_id, job_id=ctx.job.pk, index=index
        )
        return {
            item.pk: outcomes.get(item.photo_id, ItemSkipped("The photo no longer exists."))
            if item.photo_id is not None
            else ItemSkipped("The photo no longer exists.")
            for item in items
        }

    ctx.each_batch_prepared(prepare, write, size=settings.PIPELINE_COMMIT_BATCH)
    # Frames leave the bursts of their projects and may join one in the destination.
    projects_bursts_update(project_ids={*sources, dest_id}, job_id=ctx.job.pk)


def _restore_plan(message: str) -> list[str] | None:
    if not message.startswith(RESTORE_PLAN_PREFIX):
        return None
    try:
        plan = json.loads(message[len(RESTORE_PLAN_PREFIX) :])
    except ValueError:
        return None
    return [n for n in plan if isinstance(n, str)] if isinstance(plan, list) else None


@handler("photo_restore")
def photo_restore(ctx: JobContext) -> None:
    """Bring each item's photo back from ``.trash/`` (``photo_restore_files``), one at a time.

    Before any file of a photo moves, the names it moves back are committed to its item's
    message, so a rerun after a crash recognises those files in the folder as its own rather
    than as names taken. Each photo's row, records and events commit together.
    """
    if not ctx.has_items():
        ctx.log("No items: nothing to restore.")
        return

    def one(item: JobItem) -> str:
        def record(names: list[str]) -> None:
            item.message = RESTORE_PLAN_PREFIX + json.dumps(names)
            JobItem.objects.filter(pk=item.pk).update(message=item.message)

        return photo_restore_files(
            tenant_id=ctx.job.tenant_id,
            photo_id=item.photo_id,
            journal=_restore_plan(item.message or ""),
            on_plan=record,
            job_id=ctx.job.pk,
        )

    ctx.each_item(one)
    # A frame back from the trash rejoins its burst.
    restored = (
        JobItem.objects.filter(job=ctx.job, photo__isnull=False)
        .values_list("photo__project_id", flat=True)
        .distinct()
    )
    projects_bursts_update(project_ids=list(restored), job_id=ctx.job.pk)
