"""Derivative jobs: thumbnails, previews and EXIF (SPEC §6), thumbnails first.

Thin adapters over ``photos.derivatives.photo_derivatives_generate``:

- ``upload_postprocess``: the thumbnail pass. Each photo's thumbnail (shrink-on-load, or the
  RAW's embedded preview) and metadata, announced by its ``item`` event as soon as it exists;
  previews are left to the task's ``generate_previews`` step (default lane).
- ``generate_previews``: the preview pass over the same photos.
- ``generate_derivatives``: both (an explicit re-process, a move), every thumbnail of the
  job before its first preview.

With items (uploads, a selection, moved photos) each item is one photo and ``ctx.each_item``
marks it, so a retried job resumes at the first unfinished item. A ``project`` (or
``global``) job without items walks every photo of its project(s) in id order (an
``upload_postprocess`` walk makes every thumbnail, then every preview: no later step carries
items for it); a retry walks them again and skips the ones already up to date. Payload
``force``: regenerate even when up to date. Each run holds one ``FolderIndex``, so a project
folder is listed once per job, not once per photo.

Also the step selector of ``generate_derivatives`` and ``generate_previews``: a step that
carries photos over with ``only_if_needed`` keeps only the photos that still need it.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from jobs.context import JobContext
from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.models import JobItem, Scope
from jobs.registry import handler, step_selector
from photos.derivatives import photo_derivatives_generate
from photos.imaging import PREVIEW, THUMBNAIL
from photos.models import Photo, needs_derivatives_q
from photos.storage import FolderIndex
from projects.models import Project

PAGE_SIZE = 500


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
def photos_needing_derivatives(photos: QuerySet[Photo]) -> QuerySet[Photo]:
    """Photos without a generated thumbnail and preview that have a source to make them from."""
    return photos.filter(needs_derivatives_q())


def _derivatives(ctx: JobContext, *, passes: tuple[str | None, ...]) -> None:
    force = bool(ctx.payload.get("force"))
    job_id = ctx.job.pk
    index = FolderIndex()

    if ctx.has_items():
        *first, only = passes
        # Thumbnails first (SPEC §6): a pass over the unfinished items makes (and announces)
        # every thumbnail before the items' own pass makes the previews. A thumbnail that
        # failed fails its item there; one skipped (up to date, not supported) leaves the
        # decision to the preview pass. A retry runs the first pass again over the unfinished
        # items only, and finds their thumbnails up to date.
        failed: dict[int, ItemFailed] = {}
        for pass_only in first:
            for item in ctx.pending_items():
                ctx.check_cancel()
                if item.photo is None or item.photo.project.tenant_id != ctx.job.tenant_id:
                    continue  # The item's own pass says why.
                try:
                    photo_derivatives_generate(
                        photo=item.photo, force=force, job_id=job_id, index=index, only=pass_only
                    )
                except ItemFailed as exc:
                    failed[item.pk] = exc
                except ItemSkipped:
                    pass

        def one(item: JobItem) -> str:
            photo = item.photo
            if photo is None:
                raise ItemSkipped(f"{item.basename}: the photo no longer exists.")
            if photo.project.tenant_id != ctx.job.tenant_id:
                raise ItemFailed(f"{item.basename}: the photo belongs to another tenant.")
            if item.pk in failed:
                raise failed[item.pk]
            return photo_derivatives_generate(
                photo=photo, force=force, job_id=job_id, index=index, only=only
            )

        ctx.each_item(one)
        return

    if ctx.scope == Scope.PHOTO_SET:
        ctx.log("no items: nothing to do")
        return
    projects = ctx.target_projects()
    # Progress counts each pass over each photo; a failure is counted once per photo.
    ctx.units_total = Photo.objects.filter(project__in=projects).count()
    ctx.set_total(ctx.units_total * len(passes))
    done = 0
    for only in passes:
        for project in projects:
            for photo in _photos_in_id_order(project):
                ctx.check_cancel()
                try:
                    photo_derivatives_generate(
                        photo=photo, force=force, job_id=job_id, index=index, only=only
                    )
                except ItemSkipped:
                    pass
                except ItemFailed as exc:
                    if only != PREVIEW:  # A photo that failed its thumbnail counts once.
                        ctx.unit_failed(str(exc))
                    ctx.log("%s", exc)
                done += 1
                ctx.progress(done)


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
    """Previews of photos whose thumbnail exists (the second pass of an upload)."""
    _derivatives(ctx, passes=(PREVIEW,))


@handler("generate_derivatives")
def derivatives_generate(ctx: JobContext) -> None:
    """Thumbnails and previews (an explicit re-process, a move, a commit's follow-up):
    every thumbnail of the job first, then the previews."""
    _derivatives(ctx, passes=(THUMBNAIL, PREVIEW))
