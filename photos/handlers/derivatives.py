"""Derivative jobs: thumbnails, previews and EXIF (SPEC §6), thumbnails first.

Thin adapters over ``photos.derivatives`` (``photo_derivatives_make`` per photo, then
``photos_derivatives_record`` per batch):

- ``upload_postprocess``: the thumbnail pass. Each photo's thumbnail (shrink-on-load, or the
  RAW's embedded preview) and metadata, announced by its ``item`` event with its batch;
  previews are left to the task's ``generate_previews`` step (default lane).
- ``generate_previews``: the preview pass over the same photos.
- ``generate_derivatives``: both (an explicit re-process, a move), every thumbnail of the
  job before its first preview.

Photos are made in batches of ``PIPELINE_COMMIT_BATCH`` that end after
``PIPELINE_BATCH_SECONDS`` (``_Maker``): a batch's rows, events (and items' statuses) are
written together once its files exist. With items (uploads, a selection, moved photos) each
item is one photo and ``ctx.each_batch_prepared`` marks them, so a retried job resumes at the
first unfinished batch. A ``project`` (or
``global``) job without items walks every photo of its project(s) in id order (an
``upload_postprocess`` walk makes every thumbnail, then every preview: no later step carries
items for it); a retry walks them again and skips the ones already up to date. Payload
``force``: regenerate even when up to date. Each run holds one ``FolderIndex``, so a project
folder is listed once per job, not once per photo. A job that read metadata (a thumbnail pass)
ends by regrouping the bursts of the projects it touched (``photos.bursts``).

Also the step selector of ``generate_derivatives`` and ``generate_previews``: a step that
carries photos over with ``only_if_needed`` keeps only the photos that still need it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction

from core.limits import MAX_ITEMS_PER_JOB
from jobs.context import JobContext, Outcome
from jobs.exceptions import ItemFailed, ItemSkipped, is_item_os_error
from jobs.models import Job, JobItem, JobStatus, Scope
from jobs.registry import handler, item_error_text, step_selector
from jobs.runtime import running_in_foreground
from photos.bursts import projects_bursts_update
from photos.derivatives import (
    DerivativesMade,
    photo_derivatives_make,
    photos_current,
    photos_derivatives_record,
)
from photos.imaging import PREVIEW, THUMBNAIL
from photos.models import Photo, needs_derivatives_q
from photos.storage import FolderIndex
from projects.models import Project

PAGE_SIZE = 500
# The job type that makes an upload's thumbnails (its first step, priority lane).
THUMBNAIL_JOB = "upload_postprocess"
YIELD_POLL_SECONDS = 0.25


def _photos_in_id_order(project: Project) -> Iterator[Photo]:
    """Every photo of ``project``, keyset-paginated so memory stays flat on huge projects."""
    last_id = 0
    while True:
        page = list(
            Photo.objects.filter(project=project, id__gt=last_id)
            .only("id", "basename", "project_id")
            .order_by("id")[:PAGE_SIZE]
        )
        if not page:
            return
        yield from page
        last_id = page[-1].pk


@step_selector("generate_derivatives")
@step_selector("generate_previews")
def photos_needing_derivatives(tenant_id: int, ids: list[int]) -> list[int]:
    """Of ``ids``, the live photos without a generated thumbnail and preview that have a source
    to make them from."""
    needing: list[int] = []
    for start in range(0, len(ids), MAX_ITEMS_PER_JOB):
        needing.extend(
            Photo.objects.for_tenant(tenant_id)
            .filter(needs_derivatives_q(), pk__in=ids[start : start + MAX_ITEMS_PER_JOB])
            .values_list("pk", flat=True)
        )
    return needing


class _Maker:
    """Derivative work in batches: a batch's rows are re-read in one query, its photos made
    one by one until ``PIPELINE_COMMIT_BATCH`` photos or ``PIPELINE_BATCH_SECONDS`` (at least
    one photo), then its rows and events written in one transaction."""

    def __init__(
        self, ctx: JobContext, *, force: bool, index: FolderIndex, yields: bool = False
    ) -> None:
        self.ctx = ctx
        self.force = force
        self.index = index
        self.size = max(1, settings.PIPELINE_COMMIT_BATCH)
        self.seconds = settings.PIPELINE_BATCH_SECONDS
        # Previews wait between photos while the tenant's thumbnails are still to make.
        self.yields = yields

    def thumbnails_waiting(self) -> bool:
        """Whether thumbnail work of this job's tenant is queued or running (another job)."""
        return (
            Job.objects.filter(
                tenant_id=self.ctx.job.tenant_id,
                type=THUMBNAIL_JOB,
                status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
            )
            .exclude(pk=self.ctx.job.pk)
            .exists()
        )

    def yield_to_thumbnails(self) -> float:
        """Wait while the tenant has thumbnail work queued or running, at most
        ``PIPELINE_PREVIEW_YIELD_SECONDS``; the seconds waited.

        Thumbnails (priority lane) and previews (default lane) run in separate worker
        processes on the same cores, and a preview costs about five thumbnails of CPU: a
        preview made while an upload's thumbnails are still coming delays them. Waiting here,
        between two photos, gives the cores to the thumbnails; the bound keeps a studio that
        uploads without pause from starving its previews. Cancellation is checked while
        waiting.
        """
        limit = settings.PIPELINE_PREVIEW_YIELD_SECONDS
        # In ``drain`` (tests, foreground commands, the first start's demo) the thumbnails
        # wait for this job to end: waiting for them would only stall both.
        if not self.yields or limit <= 0 or running_in_foreground():
            return 0.0
        start = time.monotonic()
        while time.monotonic() - start < limit and self.thumbnails_waiting():
            self.ctx.check_cancel()
            time.sleep(YIELD_POLL_SECONDS)
        return time.monotonic() - start

    def make(
        self, photos: list[Photo], *, only: str | None, item_errors: bool = False
    ) -> list[DerivativesMade]:
        """Make the photos' derivatives in order until the batch's time is up; returns what
        was made (a prefix of ``photos``, at least one). ``item_errors``: a photo's own
        ``OSError`` is its failure (a job's item), else it fails the attempt."""
        current = photos_current([p.pk for p in photos])
        deadline = time.monotonic() + self.seconds
        made: list[DerivativesMade] = []
        for photo in photos:
            if made and time.monotonic() >= deadline:
                break
            if only == PREVIEW:
                self.yield_to_thumbnails()
            try:
                one = photo_derivatives_make(
                    photo=photo,
                    current=current.get(photo.pk),
                    force=self.force,
                    index=self.index,
                    only=only,
                )
            except OSError as exc:
                if not (item_errors and is_item_os_error(exc)):
                    raise
                one = DerivativesMade(
                    photo_id=photo.pk,
                    basename=photo.basename,
                    row=None,
                    outcome=ItemFailed(item_error_text(exc)),
                )
            made.append(one)
        return made

    def record(self, made: list[DerivativesMade]) -> dict[int, Outcome]:
        return photos_derivatives_record(made, job_id=self.ctx.job.pk)

    def walk(
        self, photos: Iterator[Photo], *, only: str | None
    ) -> Iterator[list[tuple[Photo, Outcome]]]:
        """The photos made and recorded a batch at a time (no items): each batch's outcomes."""
        pending: list[Photo] = []
        while True:
            pending += itertools.islice(photos, self.size - len(pending))
            if not pending:
                return
            self.ctx.check_cancel()
            made = self.make(pending, only=only)
            with transaction.atomic():
                outcomes = self.record(made)
            handled, pending = pending[: len(made)], pending[len(made) :]
            yield [(photo, outcomes[photo.pk]) for photo in handled]


def _derivatives(ctx: JobContext, *, passes: tuple[str | None, ...], yields: bool = False) -> None:  # noqa: C901 (the item and folder passes share one maker and its yields)
    maker = _Maker(ctx, force=bool(ctx.payload.get("force")), index=FolderIndex(), yields=yields)

    if ctx.has_items():
        *first, only = passes

        def own(item: JobItem) -> bool:
            return item.photo is not None and item.photo.project.tenant_id == ctx.job.tenant_id

        # Thumbnails first (SPEC §6): a pass over the unfinished items makes (and announces,
        # a batch at a time) every thumbnail before the items' own pass makes the previews. A
        # thumbnail that failed fails its item there; one skipped (up to date, not supported)
        # leaves the decision to the preview pass. A retry runs the first pass again over the
        # unfinished items only, and finds their thumbnails up to date.
        failed: dict[int, ItemFailed] = {}
        for pass_only in first:
            # A job holds at most MAX_ITEMS_PER_JOB items: their rows fit in memory.
            todo = [(i.photo, i.pk) for i in ctx.pending_items() if own(i)]
            item_of = {photo.pk: item_pk for photo, item_pk in todo if photo is not None}
            walked = (photo for photo, _ in todo if photo is not None)
            for batch in maker.walk(walked, only=pass_only):
                for photo, outcome in batch:
                    if isinstance(outcome, ItemFailed):
                        failed[item_of[photo.pk]] = outcome

        def prepare(items: list[JobItem]) -> tuple[list[JobItem], list[DerivativesMade]]:
            # Items decided without any work go first, then the photos to make.
            settled = [i for i in items if not own(i) or i.pk in failed]
            work = [i for i in items if own(i) and i.pk not in failed]
            made = maker.make(
                [i.photo for i in work if i.photo is not None], only=only, item_errors=True
            )
            return settled + work[: len(made)], made

        def write(items: list[JobItem], made: list[DerivativesMade]) -> dict[int, Outcome]:
            outcomes = maker.record(made)
            by_item: dict[int, Outcome] = {}
            for item in items:
                if item.photo is None:
                    by_item[item.pk] = ItemSkipped(f"{item.basename}: the photo no longer exists.")
                elif item.photo.project.tenant_id != ctx.job.tenant_id:
                    by_item[item.pk] = ItemFailed(
                        f"{item.basename}: the photo belongs to another tenant."
                    )
                elif item.pk in failed:
                    by_item[item.pk] = failed[item.pk]
                else:
                    by_item[item.pk] = outcomes[item.photo.pk]
            return by_item

        ctx.each_batch_prepared(prepare, write, size=maker.size)
        if THUMBNAIL in passes:
            # The capture times and cameras just read regroup the bursts of these projects.
            touched = (
                JobItem.objects.filter(job=ctx.job, photo__isnull=False)
                .values_list("photo__project_id", flat=True)
                .distinct()
            )
            projects_bursts_update(project_ids=list(touched), job_id=ctx.job.pk)
        return

    if ctx.scope == Scope.ITEM_SET:
        ctx.log("no items: nothing to do")
        return
    projects = ctx.target_projects()
    # Progress counts each pass over each photo; a failure is counted once per photo.
    ctx.units_total = Photo.objects.filter(project__in=projects).count()
    ctx.set_total(ctx.units_total * len(passes))
    done = 0
    for only in passes:
        for project in projects:
            for batch in maker.walk(_photos_in_id_order(project), only=only):
                for _photo, outcome in batch:
                    if isinstance(outcome, ItemFailed):
                        if only != PREVIEW:  # A photo that failed its thumbnail counts once.
                            ctx.unit_failed(str(outcome))
                        ctx.log("%s", outcome)
                done += len(batch)
                ctx.progress(done)
    if THUMBNAIL in passes:
        projects_bursts_update(project_ids=[p.pk for p in projects], job_id=ctx.job.pk)


@handler("upload_postprocess")
def thumbnails_first(ctx: JobContext) -> None:
    """Thumbnails (and metadata) of the job's photos; previews follow in their own step.

    Without items (a whole project) both passes run here: every thumbnail, then every preview.
    """
    if ctx.has_items():
        _derivatives(ctx, passes=(THUMBNAIL,))
    else:
        _derivatives(ctx, passes=(THUMBNAIL, PREVIEW))


@handler("generate_previews")
def previews(ctx: JobContext) -> None:
    """Previews of photos whose thumbnail exists (the second pass of an upload); between
    photos it yields to the tenant's thumbnail work (``_Maker.yield_to_thumbnails``)."""
    _derivatives(ctx, passes=(PREVIEW,), yields=True)


@handler("generate_derivatives")
def derivatives_generate(ctx: JobContext) -> None:
    """Thumbnails and previews (an explicit re-process, a move, a commit's follow-up):
    every thumbnail of the job first, then the previews."""
    _derivatives(ctx, passes=(THUMBNAIL, PREVIEW))
