"""Foreground task runs for commands: run a task's jobs here, printing progress."""

from __future__ import annotations

import sys
from typing import Protocol

from jobs.models import Job, TaskRun
from jobs.runtime import drain


class ProgressOutput(Protocol):
    """Where progress lines go: a text stream or a command's ``OutputWrapper``."""

    def write(self, msg: str, /) -> object: ...

    def flush(self) -> object: ...


def run_task_foreground(task_id: str, *, out: ProgressOutput) -> TaskRun:
    """Run every job of the task in this process through the same handlers as the workers."""
    tty = hasattr(out, "isatty") and out.isatty()

    def report(job: Job) -> None:
        done, total = job.progress_done, job.progress_total
        line = f"  {job.type:<26} {job.status:<10} {done}/{total}"
        if job.error_message and job.status != "completed":
            line += f"  {job.error_message.splitlines()[0]}"
        if tty:
            width = 20
            filled = int(width * done / total) if total else width
            line = f"  [{'#' * filled}{'.' * (width - filled)}]" + line
        out.write(line + "\n")
        out.flush()

    drain(task_id=task_id, on_job=report)
    return TaskRun.objects.get(pk=task_id)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
