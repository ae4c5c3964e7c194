"""Errors of the job layer. The API maps them to HTTP replies in one handler."""

from __future__ import annotations

from .constants import MAX_ITEMS_PER_JOB


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose; its text is shown to users."""

    status_code = 400


class ScopeError(PipelineError):
    pass


class PayloadTooLarge(PipelineError):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"Payload contains {count} items, exceeding maximum of {MAX_ITEMS_PER_JOB}."
        )
        self.count = count


class UnknownTaskType(PipelineError):
    def __init__(self, task_type: str) -> None:
        super().__init__(f"Unknown task type '{task_type}'.")
        self.task_type = task_type


class JobStateError(PipelineError):
    status_code = 409


class TaskAlreadyRunning(PipelineError):
    """Single flight: the same task type is already queued or running for the tenant."""

    status_code = 409

    def __init__(self, task_type: str, task_id: str) -> None:
        super().__init__(f"A '{task_type}' task is already queued or running ({task_id}).")
        self.task_type = task_type
        self.task_id = task_id


class JobCanceled(Exception):
    """Raised inside a handler at an item boundary when cancellation was requested."""


class JobLost(Exception):
    """Raised inside a handler when its job was requeued and now belongs to another worker."""


class ItemSkipped(Exception):
    """A handler's per-item outcome: nothing to do for this item (the message says why)."""


class ItemFailed(Exception):
    """A handler's per-item outcome: this item failed; the job goes on with the others."""
