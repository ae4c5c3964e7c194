"""What a maintenance step changed (or would change in a dry run): ``Report`` and ``Change``.

Shared by the project steps (``photos.project_maintenance``) and the photo steps
(``photos.reconcile``), the maintenance job handlers and the ``maintenance`` command's dry
run. It imports nothing but ``projects.models``, so either app can use it without loading the
other's services.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .models import Project

# A step calls it between units of work; the job handlers pass one that raises on cancel.
Checkpoint = Callable[[], None]


def no_checkpoint() -> None:
    return None


@dataclass(frozen=True)
class Change:
    """One change a maintenance step made, or would make in a dry run."""

    step: str
    action: str
    where: str
    target: str = ""
    detail: str = ""

    def __str__(self) -> str:
        text = f"[{self.step}] {self.where}: {self.action}"
        if self.target:
            text += f" {self.target}"
        if self.detail:
            text += f" ({self.detail})"
        return text


# Actions that only describe a situation; they change nothing and are not counted as changes.
NOTICE_ACTIONS = frozenset(
    {
        "skipped_folder_missing",
        "skipped_manifest_conflict",
        "alignment_blocked",
        "error",
        "unaccepted_files",
    }
)


@dataclass
class Report:
    """Collects changes: counts by action, the first ``keep`` of them, and an optional sink.

    A sink (a dry-run command's ``print``) sees every change as it happens, so a plan for a
    project of 100,000 photos is streamed, not held in memory.
    """

    dry_run: bool = False
    sink: Callable[[Change], None] | None = None
    keep: int = 500
    counts: Counter = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.counts[change.action] += 1
        if len(self.changes) < self.keep:
            self.changes.append(change)
        if self.sink is not None:
            self.sink(change)

    @property
    def total(self) -> int:
        """How many real changes (notices excluded)."""
        return sum(n for action, n in self.counts.items() if action not in NOTICE_ACTIONS)

    def summary(self) -> str:
        if not self.counts:
            return "nothing to do"
        return ", ".join(f"{action}: {n}" for action, n in sorted(self.counts.items()))


def where(project: Project) -> str:
    """How a report names a project: ``<tenant>/<folder> (project <id>)``."""
    return f"{project.tenant.slug}/{project.folder} (project {project.pk})"
