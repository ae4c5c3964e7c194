"""The API's replies for the photo services' results (SPEC §9 shapes): status and body.

The services return dataclasses (``photos.services.results``); only this module knows how
each one looks on the wire. Errors are exceptions, mapped in ``core/api/exceptions.py``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status

from jobs.tasks import StartedTask
from photos.services.restore import RestoreStarted
from photos.services.results import (
    BulkUpdated,
    CommitStarted,
    DryRunReport,
    MoveStarted,
    NothingPending,
    ProcessStarted,
    Reverted,
)
from photos.services.upload import UploadOutcome

NOTHING_TO_COMMIT = "Nothing to commit."


def _with_errors(body: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    if errors:
        body["errors"] = errors
    return body


def _task_fields(task: StartedTask) -> dict[str, Any]:
    """The started task's ids, as every task-starting endpoint replies them."""
    return {
        "task_id": task["task_id"],
        "chunked": task["chunked"],
        "job_count": task["job_count"],
        "job_ids": task["job_ids"],
    }


def bulk_body(result: BulkUpdated) -> dict[str, Any]:
    """``{"updated", "errors"?, "dry_run"?: {"per_item"}}`` of the culling endpoints."""
    body = _with_errors({"updated": result.updated}, result.errors)
    if result.per_item is not None:
        body["dry_run"] = {"per_item": result.per_item}
    return body


def dry_run_reply(report: DryRunReport) -> tuple[int, dict[str, Any]]:
    return status.HTTP_200_OK, _with_errors(
        {"dry_run": {"per_item": report.per_item}}, report.errors
    )


def commit_reply(result: CommitStarted | NothingPending) -> tuple[int, dict[str, Any]]:
    """202 with the task and the projects it covers, or 200 "Nothing to commit."."""
    code: int
    if isinstance(result, NothingPending):
        body: dict[str, Any] = {"queued_projects": 0, "projects": [], "detail": NOTHING_TO_COMMIT}
        code = status.HTTP_200_OK
    else:
        body = {
            **_task_fields(result.task),
            "queued_projects": len(result.projects),
            "total_pending": result.total_pending,
            "projects": [
                {"project_id": p.project_id, "name": p.name, "pending": p.pending}
                for p in result.projects
            ],
        }
        code = status.HTTP_202_ACCEPTED
    if result.missing:
        body["missing"] = result.missing
    return code, body


def revert_body(result: Reverted) -> dict[str, Any]:
    body: dict[str, Any] = {
        "updated_projects": len(result.projects),
        "projects": [
            {"project_id": p.project_id, "name": p.name, "updated": p.updated}
            for p in result.projects
        ],
    }
    if result.missing:
        body["missing"] = result.missing
    return body


def process_reply(result: ProcessStarted | DryRunReport) -> tuple[int, dict[str, Any]]:
    if isinstance(result, DryRunReport):
        return dry_run_reply(result)
    return status.HTTP_202_ACCEPTED, _with_errors(_task_fields(result.task), result.errors)


def move_reply(result: MoveStarted | DryRunReport) -> tuple[int, dict[str, Any]]:
    if isinstance(result, DryRunReport):
        return dry_run_reply(result)
    body = {**_task_fields(result.task), "destination_project": result.destination_project}
    return status.HTTP_202_ACCEPTED, _with_errors(body, result.errors)


def restore_reply(result: RestoreStarted | DryRunReport) -> tuple[int, dict[str, Any]]:
    if isinstance(result, DryRunReport):
        return dry_run_reply(result)
    return status.HTTP_202_ACCEPTED, _with_errors(_task_fields(result.task), result.errors)


def upload_reply(outcome: UploadOutcome) -> tuple[int, dict[str, Any]]:
    """An upload (multipart, or a completed resumable one): 201 ``{files, task_id, errors?,
    renamed?}``, or 400 ``{detail, errors}`` when no file was kept."""
    if outcome.refused_all:
        detail = (
            "A file was refused; nothing was written."
            if outcome.kept_none_by_rule
            else "No file was accepted."
        )
        return status.HTTP_400_BAD_REQUEST, {"detail": detail, "errors": outcome.errors}
    body: dict[str, Any] = {"files": outcome.files, "task_id": outcome.task_id}
    if outcome.errors:
        body["errors"] = outcome.errors
    if outcome.renamed:
        body["renamed"] = outcome.renamed
    return status.HTTP_201_CREATED, body
