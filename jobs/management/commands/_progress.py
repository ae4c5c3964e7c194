"""Foreground task runs for commands: run a task's jobs here, printing progress (SPEC §12).

A foreground command waits for its task's final status whoever runs its jobs: claimable jobs
of the task run here through the same handlers as the workers; a job a lane worker claimed
first is waited for, its progress printed, until the task is completed, failed or canceled.
"""

from __future__ import annotations

import time
from typing import Protocol

from jobs.models import Job, JobStatus, TaskRun
from jobs.runtime import drain

FINAL_TASK_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)

# How long to sleep between looks at a task whose jobs a worker runs.
POLL_SECONDS = 0.25


class ProgressOutput(Protocol):
    """Where progress lines go: a text stream or a command's ``OutputWrapper``."""

    def write(self, msg: str, /) -> object: ...

    def flush(self) -> object: ...


def _progress_line(job: Job, *, tty: bool, where: str = "") -> str:
    done, total = job.progress_done, job.progress_total
    line = f"  {job.type:<26} {job.status:<10} {done}/{total}{where}"
    if job.error_message and job.status != JobStatus.COMPLETED:
        line += f"  {job.error_message.splitlines()[0]}"
    if tty:
        width = 20
        filled = int(width * done / total) if total else width
        line = f"  [{'#' * filled}{'.' * (width - filled)}]" + line
    return line


def run_task_foreground(
    task_id: str, *, out: ProgressOutput, poll_seconds: float = POLL_SECONDS
) -> TaskRun:
    """Run or wait for every job of the task until the task is final; return it.

    Jobs claimable now run in this process. Jobs a worker claimed (or a backoff the worker
    will honour) are waited for by polling the ``TaskRun``; never return while the task is
    queued or running, so the caller's verdict is the task's real end.
    """
    tty = hasattr(out, "isatty") and out.isatty()

    def report(job: Job) -> None:
        out.write(_progress_line(job, tty=tty) + "\n")
        out.flush()

    last_seen: dict[int, tuple[str, int, int]] = {}
    while True:
        drain(task_id=task_id, on_job=report)
        task = TaskRun.objects.get(pk=task_id)
        if task.status in FINAL_TASK_STATUSES:
            return task
        # A worker runs (or will run) the task's current jobs: show their progress and wait.
        for job in Job.objects.filter(task=task, step_index=task.current_step).order_by(
            "chunk_index", "id"
        ):
            state = (job.status, job.progress_done, job.progress_total)
            if last_seen.get(job.pk) != state:
                last_seen[job.pk] = state
                where = f"  (step {job.step_index + 1}, worker)" if job.worker_id else ""
                out.write(_progress_line(job, tty=tty, where=where) + "\n")
                out.flush()
        time.sleep(poll_seconds)


def task_error(task: TaskRun) -> str:
    """The error of a task that did not complete: its failing (or canceled) job's error text."""
    job = (
        Job.objects.filter(task=task, status__in=(JobStatus.FAILED, JobStatus.CANCELED))
        .order_by("finished_at", "id")
        .first()
    )
    if job is None:
        return f"task {task.pk} ended {task.status}"
    if job.error_message:
        return f"{job.type} {job.status}: {job.error_message.strip().splitlines()[0]}"
    return f"{job.type} {job.status}"
