"""Errors of the job engine; the domain base error and the generic ones are in ``core.errors``.

They carry no HTTP status: the API maps exception classes to replies in one handler
(``core/api/exceptions.py``); admin actions and commands turn them into their own messages.
"""

from __future__ import annotations

import errno
import os
from pathlib import PurePath
from typing import Any

from core.errors import ApplicationError, ConflictError

# Errors of a whole file system rather than of one item: every other item would hit them too,
# so the job fails its attempt and is retried later (with backoff) instead of failing items.
STORAGE_WIDE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.ESTALE}
)


# The engine's name for the domain error base: one class, so ``except PipelineError`` and
# ``except ApplicationError`` catch the same errors.
PipelineError = ApplicationError


class ScopeError(ApplicationError):
    """A job's scope or items do not fit its type."""


class UnknownTaskType(ApplicationError):
    def __init__(self, task_type: str) -> None:
        super().__init__(f"Unknown task type '{task_type}'.")
        self.task_type = task_type


class TaskNotStartable(ApplicationError):
    """A task type that only its own use case starts (``project_delete``: delete the project)."""

    def __init__(self, task_type: str, message: str) -> None:
        super().__init__(message)
        self.task_type = task_type


class JobStateError(ConflictError):
    """The job's state does not allow the action (cancel a finished job, retry a running one)."""


class TaskAlreadyRunning(ConflictError):
    """Single flight: the same task type is already queued or running for the tenant."""

    def __init__(self, task_type: str, task_id: str) -> None:
        super().__init__(f"A '{task_type}' task is already queued or running ({task_id}).")
        self.task_type = task_type
        self.task_id = task_id

    def details(self) -> dict[str, Any]:
        return {"task_id": self.task_id}


class JobCanceled(Exception):
    """Raised inside a handler at an item boundary when cancellation was requested."""


class JobLost(Exception):
    """Raised inside a handler when its job was requeued and now belongs to another worker."""


class ItemSkipped(Exception):
    """A handler's per-item outcome: nothing to do for this item (the message says why)."""


class ItemFailed(Exception):
    """A handler's per-item outcome: this item failed; the job goes on with the others."""


def is_item_os_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` of one item (a name too long, a file that cannot be
    read or renamed), not of the whole storage (``STORAGE_WIDE_ERRNOS``)."""
    return isinstance(exc, OSError) and exc.errno not in STORAGE_WIDE_ERRNOS


def os_error_text(exc: OSError, *, root: str | os.PathLike[str] | None = None) -> str:
    """``exc`` as a message that names paths relative to their project folder.

    A path under ``root/<tenant>/<project folder>/`` is shown from inside the project folder
    (``.preview/IMG_1.webp``); any other path by its last component only. Server paths are never
    shown (SPEC §14).
    """
    names = []
    for value in (exc.filename, exc.filename2):
        if value is None:
            continue
        path = PurePath(os.fsdecode(value))
        relative = None
        if root is not None:
            try:
                parts = path.relative_to(PurePath(root)).parts
            except ValueError:
                parts = ()
            if len(parts) > 2:
                relative = str(PurePath(*parts[2:]))
        names.append(relative or path.name)
    text = exc.strerror or exc.__class__.__name__
    return f"{text}: {' -> '.join(names)}" if names else text
