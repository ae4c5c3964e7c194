"""The domain errors every app raises (STYLE.md habit 10).

They carry no HTTP status: the API maps each class to a reply in one handler
(``core/api/exceptions.py``); admin actions and commands turn them into their own messages.
An app's own errors subclass these (the job engine's in ``jobs/exceptions.py``).
"""

from __future__ import annotations

from typing import Any

from .limits import MAX_ITEMS_PER_JOB


class ApplicationError(Exception):
    """Base of every error a use case raises on purpose; its text is shown to users."""

    def details(self) -> dict[str, Any]:
        """Data the caller gets besides the message (the API adds it to the reply body)."""
        return {}


class NotFoundError(ApplicationError):
    """The named object does not exist, or belongs to another tenant (the same to the caller)."""


class ConflictError(ApplicationError):
    """The object's state does not allow the action (the API answers 409)."""


class PayloadTooLarge(ApplicationError):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"Payload contains {count} items, exceeding maximum of {MAX_ITEMS_PER_JOB}."
        )
        self.count = count


class NoValidItems(ApplicationError):
    """Every item of a bulk request was refused: nothing started.

    ``errors`` lists each refused item as ``{"photo_id", "error"}``, in request order.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors

    def details(self) -> dict[str, Any]:
        return {"errors": self.errors}


class AccessDenied(Exception):
    """The user may not take the action (the API answers 403, never 404).

    Not an ``ApplicationError``: refusing a permission is not a domain outcome of the use case,
    and every adapter maps it to its own "permission denied".
    """
