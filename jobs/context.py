"""What a handler gets: its job, scope dispatch helpers, progress, heartbeats and cancellation.

Handlers are written against this object only, so every handler reports progress, honours
cancel at item boundaries and resumes after a crash the same way.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q

from projects.models import Project

from .enqueue import items_resolve
from .error_text import error_text_clean
from .exceptions import ItemFailed, ItemSkipped, JobCanceled, JobLost, is_item_os_error
from .lifecycle import job_heartbeat, job_progress
from .models import ITEM_ID, Job, JobItem, JobItemStatus, Scope
from .registry import item_error_text, item_source

logger = logging.getLogger(__name__)

FINISHED_ITEM_STATUSES = (JobItemStatus.DONE, JobItemStatus.SKIPPED, JobItemStatus.FAILED)

# An item's outcome in a batch: its message when it is done, or its skip / failure.
Outcome = str | ItemSkipped | ItemFailed
BatchOutcomes = dict[int, Outcome]
_Prepared = TypeVar("_Prepared")
# Up to this many distinct outcomes in a batch are written as one UPDATE each.
BATCH_STATUS_GROUPS = 3


class Heartbeat:
    """A job's heartbeat: touches ``heartbeat_at`` and reads the cancel flag.

    The handler's own thread beats at item boundaries (``beat_if_due``); between them, while
    the job is attached (``start`` … ``stop``), the process's one ``HeartbeatThread`` beats for
    it. ``on_beat`` runs in that thread after each beat (the runtime passes the sweeper's
    ``sweep_if_due``, so busy workers take a late sweeper tick).
    """

    def __init__(
        self,
        *,
        job_id: int,
        worker_id: str,
        interval: float,
        on_beat: Callable[[], object] | None = None,
    ) -> None:
        self.job_id = job_id
        self.worker_id = worker_id
        self.interval = interval
        self.on_beat = on_beat
        self.cancel_requested = False
        self.lost = False
        self._last_beat = time.monotonic()

    def start(self) -> None:
        """Let the process's heartbeat thread beat for this job until ``stop``."""
        heartbeat_thread().attach(self)

    def stop(self) -> None:
        heartbeat_thread().detach(self)

    def beat(self) -> None:
        ours, cancel = job_heartbeat(job_id=self.job_id, worker_id=self.worker_id)
        self._last_beat = time.monotonic()
        self.lost = self.lost or not ours
        self.cancel_requested = self.cancel_requested or cancel

    def seconds_to_next_beat(self) -> float:
        return self.interval - (time.monotonic() - self._last_beat)

    def beat_if_due(self) -> None:
        """Beat from the handler's own thread when the interval has passed (no thread needed)."""
        if self.seconds_to_next_beat() <= 0:
            self.beat()


class HeartbeatThread:
    """One long-lived daemon thread per process that beats for the job the process runs.

    A worker process runs one job at a time, so one thread serves all its jobs: attaching a
    job costs a lock and an event, where a thread per job cost a start and a join (about 3 ms
    on a loaded machine, as much as the job's SQL). A beat still in flight when its job is
    detached is harmless: ``job_heartbeat`` touches only a running job this worker holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._current: Heartbeat | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def attach(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            self._current = heartbeat
            # A forked child inherits the object but not the thread: start one per process.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
                self._thread.start()
        self._changed.set()

    def detach(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            if self._current is heartbeat:
                self._current = None

    @property
    def current(self) -> Heartbeat | None:
        return self._current

    def _run(self) -> None:
        while True:
            heartbeat = self._current
            if heartbeat is None:
                # Idle: hold no database connection while the process waits for work.
                connection.close()
            # Sleep until the attached job's next beat is due, or until another job attaches.
            timeout = None if heartbeat is None else max(heartbeat.seconds_to_next_beat(), 0)
            if self._changed.wait(timeout):
                self._changed.clear()
                continue
            if heartbeat is None or heartbeat is not self._current:
                continue
            try:
                heartbeat.beat()
                if heartbeat.on_beat is not None:
                    heartbeat.on_beat()
            except Exception:  # A dropped connection must not kill the heartbeat for good.
                logger.exception("Heartbeat of job %s failed", heartbeat.job_id)
                close_old_connections()
                connection.close()
                # Try again after an interval, not in a tight loop against a dead database.
                heartbeat._last_beat = time.monotonic()


_heartbeat_thread = HeartbeatThread()


def heartbeat_thread() -> HeartbeatThread:
    """This process's heartbeat thread (started on the first ``Heartbeat.start``)."""
    return _heartbeat_thread


class JobContext:
    def __init__(self, job: Job, *, worker_id: str, heartbeat: Heartbeat | None = None) -> None:
        self.job = job
        self.worker_id = worker_id
        self._heartbeat = heartbeat
        self._last_cancel_check = 0.0
        self._done = 0
        # The first progress update announces itself (clients learn the total at once).
        self._last_progress_event = float("-inf")
        # Whether the handler looked at items; only then can the job have failed items.
        self.items_seen = False
        # Failures of work without a JobItem (a whole-project walk); see ``unit_failed``.
        self.units_failed = 0
        self.first_unit_error = ""
        # How many units a handler without items works on, when its progress counts more
        # steps than units (several passes over the same items); None: progress_total.
        self.units_total: int | None = None

    # -- identity and payload --------------------------------------------------------------

    @property
    def tenant(self) -> Any:
        return self.job.tenant

    @property
    def project(self) -> Project | None:
        return self.job.project

    @property
    def scope(self) -> str:
        return self.job.scope

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload or {}

    def log(self, message: str, *args: Any) -> None:
        # Detail for PIPELINE_LOG_LEVEL=DEBUG: by default a job logs one line as it starts
        # and one as it ends (jobs.runtime.run_job).
        logger.debug("[job %s %s] " + message, self.job.pk, self.job.type, *args)

    # -- cancellation and progress ---------------------------------------------------------

    def check_cancel(self) -> None:
        """Raise ``JobCanceled`` (or ``JobLost``) at an item boundary when asked to stop."""
        hb = self._heartbeat
        if hb is not None:
            hb.beat_if_due()
        if hb is not None and hb.lost:
            raise JobLost(f"Job {self.job.pk} was requeued; another worker owns it now.")
        if hb is not None and hb.cancel_requested:
            raise JobCanceled()
        now = time.monotonic()
        if now - self._last_cancel_check >= settings.PIPELINE_CANCEL_POLL_SECONDS:
            self._last_cancel_check = now
            row = (
                Job.objects.filter(pk=self.job.pk)
                .values("cancel_requested", "worker_id", "status")
                .first()
            )
            if row is None or row["status"] != "running" or row["worker_id"] != self.worker_id:
                raise JobLost(f"Job {self.job.pk} is no longer running on this worker.")
            if row["cancel_requested"]:
                raise JobCanceled()

    def set_total(self, total: int) -> None:
        self._record_progress(total)

    def progress(self, done: int, total: int | None = None) -> None:
        self._done = max(self._done, done)
        self._record_progress(total)

    def _record_progress(self, total: int | None) -> None:
        """Store progress; announce it (``job_progress`` event) at most once per interval.

        The job's end announces the final progress too (``job_complete``), so a throttled
        last update is never lost to clients.
        """
        now = time.monotonic()
        announce = now - self._last_progress_event >= settings.PIPELINE_PROGRESS_EVENT_SECONDS
        job_progress(job_id=self.job.pk, done=self._done, total=total, announce=announce)
        if announce:
            self._last_progress_event = now
        if total is not None:
            self.job.progress_total = max(self.job.progress_total, total)

    def unit_failed(self, error: str) -> None:
        """Count a failed unit of work that has no ``JobItem`` (a file of a whole-project walk,
        a project of a global job). The job still completes, and its message and
        ``job_completed`` event say how many failed and the first error."""
        self.units_failed += 1
        if not self.first_unit_error:
            self.first_unit_error = error

    def advance(self, n: int = 1) -> None:
        self.progress(self._done + n)

    # -- items -----------------------------------------------------------------------------

    def has_items(self) -> bool:
        return JobItem.objects.filter(job_id=self.job.pk).exists()

    def pending_items(self, *, batch: int = 500) -> Iterator[JobItem]:
        """Unfinished items in id order, keyset-paginated; finished ones are skipped (resume)."""
        self.items_seen = True
        last_id = 0
        while True:
            page = list(
                JobItem.objects.filter(job_id=self.job.pk, id__gt=last_id)
                .exclude(status__in=FINISHED_ITEM_STATUSES)
                .select_related(*item_source().related)
                .order_by("id")[:batch]
            )
            if not page:
                return
            yield from page
            last_id = page[-1].pk

    def each_item(
        self, fn: Callable[[JobItem], str | None], *, atomic: bool = False
    ) -> dict[str, int]:
        """Run ``fn`` on each unfinished item, marking it done, skipped or failed.

        ``fn`` returns an optional message, or raises ``ItemSkipped``/``ItemFailed``. An
        ``OSError`` of the item (``is_item_os_error``: not a full or read-only disk) fails that
        item with the registered message (``jobs.registry.item_error_text``: paths relative to
        the project folder).
        Any other exception fails the attempt (the job is retried and resumes at this item). With
        ``atomic`` the item's database writes and its status commit together, so a side effect
        kept in the database happens exactly once.
        """
        finished = JobItem.objects.filter(
            job_id=self.job.pk, status__in=FINISHED_ITEM_STATUSES
        ).count()
        total = JobItem.objects.filter(job_id=self.job.pk).count()
        self._done = finished
        self.progress(finished, total)
        counts = {"done": 0, "skipped": 0, "failed": 0}
        for item in self.pending_items():
            self.check_cancel()
            JobItem.objects.filter(pk=item.pk).update(status=JobItemStatus.RUNNING)
            status, message = JobItemStatus.DONE, ""
            try:
                if atomic:
                    with transaction.atomic():
                        message = fn(item) or ""
                        self._finish_item(item, status, message)
                else:
                    message = fn(item) or ""
            except ItemSkipped as exc:
                status, message = JobItemStatus.SKIPPED, str(exc)
            except ItemFailed as exc:
                status, message = JobItemStatus.FAILED, str(exc)
            except OSError as exc:
                if not is_item_os_error(exc):
                    raise  # A full or read-only disk: retry the job, not fail every item.
                # One item's file problem (a name too long, an unreadable file) fails that item;
                # its transaction (``atomic``) is rolled back and the others go on.
                status = JobItemStatus.FAILED
                message = item_error_text(exc)
                logger.warning("[job %s] item %s failed: %s", self.job.pk, item.pk, message)
            if not (atomic and status == JobItemStatus.DONE):
                self._finish_item(item, status, message)
            counts[str(status)] += 1
            self.advance()
        return counts

    def each_batch(
        self,
        fn: Callable[[list[JobItem]], BatchOutcomes],
        *,
        size: int = 100,
    ) -> dict[str, int]:
        """Run ``fn`` on unfinished items ``size`` at a time; each batch commits with its items.

        ``fn`` gets the batch and returns each item's outcome by item id: a message (done) or
        an ``ItemSkipped`` / ``ItemFailed`` (an item it leaves out is done without a message).
        The batch's database writes and every item's status commit in one transaction, with a
        handful of statements per batch instead of several per item. Any exception from ``fn``
        rolls the whole batch back and fails the attempt: the retry resumes at this batch, so
        ``fn`` must recognise side effects outside the database (files) it already made.
        Cancel is checked between batches.
        """
        return self.each_batch_prepared(
            lambda batch: (batch, None), lambda batch, _: fn(batch), size=size
        )

    def each_batch_prepared(
        self,
        prepare: Callable[[list[JobItem]], tuple[list[JobItem], _Prepared]],
        write: Callable[[list[JobItem], _Prepared], BatchOutcomes],
        *,
        size: int = 100,
    ) -> dict[str, int]:
        """``each_batch`` in two phases: the batch's work outside any transaction, then its
        rows with the items' statuses in one.

        ``prepare(batch)`` runs first, outside a transaction (SQLite takes its write lock at
        ``BEGIN``: file or image work inside one would stall every other writer). It returns
        the items it handled, at least one of the batch (a batch cut short by time: the others
        are carried into the next batch, still ``running``), and what ``write`` needs. ``write(handled, prepared)`` then runs in the transaction that also
        writes the handled items' statuses, and returns their outcomes as ``each_batch``'s
        ``fn`` does. Whatever ``prepare`` commits itself (a journal of files about to move)
        survives a crash; the rest of the batch is redone by the retry, so ``prepare`` must
        recognise its own side effects.
        """
        finished = JobItem.objects.filter(
            job_id=self.job.pk, status__in=FINISHED_ITEM_STATUSES
        ).count()
        total = JobItem.objects.filter(job_id=self.job.pk).count()
        self._done = finished
        self.progress(finished, total)
        counts = {"done": 0, "skipped": 0, "failed": 0}
        items = self.pending_items(batch=max(size, 500))
        carried: list[JobItem] = []
        while True:
            fresh = list(itertools.islice(items, max(size - len(carried), 0)))
            batch = carried + fresh
            if not batch:
                break
            self.check_cancel()
            if fresh:
                JobItem.objects.filter(pk__in=[i.pk for i in fresh]).update(
                    status=JobItemStatus.RUNNING
                )
            handled, prepared = prepare(batch)
            handled_ids = {i.pk for i in handled}
            if not handled_ids or not handled_ids <= {i.pk for i in batch}:
                raise RuntimeError("prepare must handle at least one item of its batch.")
            carried = [i for i in batch if i.pk not in handled_ids]
            groups: dict[tuple[str, str], list[JobItem]] = defaultdict(list)
            with transaction.atomic():
                outcomes = write(handled, prepared)
                for item in handled:
                    outcome = outcomes.get(item.pk, "")
                    if isinstance(outcome, ItemSkipped):
                        status, message = JobItemStatus.SKIPPED, str(outcome)
                    elif isinstance(outcome, ItemFailed):
                        status, message = JobItemStatus.FAILED, str(outcome)
                    else:
                        status, message = JobItemStatus.DONE, outcome
                    message = error_text_clean(message)[:2000]
                    groups[(str(status), message)].append(item)
                    item.status, item.message = status, message
                    counts[str(status)] += 1
                if len(groups) <= BATCH_STATUS_GROUPS:
                    # Items with the same outcome (most of a commit's batch) share an UPDATE.
                    for (outcome_status, outcome_message), same in groups.items():
                        JobItem.objects.filter(pk__in=[i.pk for i in same]).update(
                            status=outcome_status, message=outcome_message
                        )
                else:  # A message per item (each names its item): one UPDATE … CASE.
                    JobItem.objects.bulk_update(handled, ["status", "message"])
            self.advance(len(handled))
        return counts

    def _finish_item(self, item: JobItem, status: str, message: str) -> None:
        message = error_text_clean(message)
        JobItem.objects.filter(pk=item.pk).update(status=status, message=message[:2000])
        item.status = status
        item.message = message

    def item_ids(self) -> list[int]:
        return list(
            JobItem.objects.filter(job_id=self.job.pk, **{f"{ITEM_ID}__isnull": False})
            .order_by("id")
            .values_list(ITEM_ID, flat=True)
        )

    # -- scope dispatch --------------------------------------------------------------------

    def target_projects(self, *, include_archived: bool = False) -> list[Project]:
        """The projects this job works on, by scope.

        ``project``: the job's project. An item set: the projects of its items plus the
        affected ``project_ids`` carried in the payload. ``global``: every active project of
        the job's tenant. Always limited to the job's tenant.
        """
        # One tenant: its row comes with each project (folder paths need its slug).
        tenant_projects = Project.objects.for_tenant(self.job.tenant_id).select_related("tenant")
        if not include_archived and self.scope != Scope.PROJECT:
            tenant_projects = tenant_projects.active()
        if self.scope == Scope.PROJECT:
            return [self.job.project] if self.job.project is not None else []
        if self.scope == Scope.GLOBAL:
            return list(tenant_projects.order_by("id"))
        ids = set(self.payload.get("project_ids") or [])
        ids.update(
            ref.group_id
            for ref in items_resolve(tenant=self.job.tenant_id, ids=self.item_ids()).values()
            if ref.group_id is not None
        )
        if self.job.project_id:
            ids.add(self.job.project_id)
        return list(tenant_projects.filter(Q(pk__in=ids)).order_by("id"))
