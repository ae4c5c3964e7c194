"""What the task-starting photo services return: domain results, not replies.

The REST API (``photos/api/replies.py``) and the admin turn them into their own answers; a
service never picks a status code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobs.tasks import StartedTask


@dataclass(frozen=True)
class BulkUpdated:
    """A culling change over many photos: ``updated`` photos changed (or would, in a dry run).

    ``errors`` lists the refused items (``{"photo_id", "error"}``); ``per_item`` is what a dry
    run would do to each item, ``None`` when the change was applied.
    """

    updated: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    per_item: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class DryRunReport:
    """What each item of a dry run would do (``would_…`` or ``error``), in request order."""

    per_item: list[dict[str, Any]]
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class ProjectPending:
    project_id: int
    name: str
    pending: int


@dataclass(frozen=True)
class CommitStarted:
    """A commit task started over ``total_pending`` photos of ``projects``."""

    task: StartedTask
    projects: list[ProjectPending]
    total_pending: int
    missing: list[Any] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task["task_id"]


@dataclass(frozen=True)
class NothingPending:
    """Nothing to commit in the selected projects; ``missing`` are ids that named none."""

    missing: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectReverted:
    project_id: int
    name: str
    updated: int


@dataclass(frozen=True)
class Reverted:
    """Keep flags put back: only the projects that changed are listed."""

    projects: list[ProjectReverted]
    missing: list[Any] = field(default_factory=list)

    @property
    def photo_count(self) -> int:
        return sum(p.updated for p in self.projects)


@dataclass(frozen=True)
class ProcessStarted:
    """A ``generate_derivatives`` task started; ``errors`` are the items it left out."""

    task: StartedTask
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task["task_id"]


@dataclass(frozen=True)
class MoveStarted:
    """An ``image_move`` task started into ``destination_project``."""

    task: StartedTask
    destination_project: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task["task_id"]
