"""Handler of the ``photos_clock_correct`` task: a thin adapter over ``photos.capture``."""

from __future__ import annotations

from core.errors import ApplicationError
from jobs.context import JobContext
from jobs.exceptions import ScopeError
from jobs.registry import handler
from photos.capture import project_clock_correct


@handler("photos_clock_correct")
def photos_clock_correct(ctx: JobContext) -> None:
    """Shift the capture time of ``payload["camera"]``'s photos by ``payload["seconds"]``."""
    if ctx.project is None:
        raise ScopeError("photos_clock_correct needs a project.")
    camera, seconds = ctx.payload.get("camera"), ctx.payload.get("seconds")
    if not isinstance(camera, str) or isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ApplicationError("photos_clock_correct needs payload 'camera' (text) and 'seconds'.")
    done = project_clock_correct(
        project=ctx.project,
        camera=camera,
        seconds=seconds,
        task_id=str(ctx.job.task_id or ctx.job.pk),
        job_id=ctx.job.pk,
    )
    ctx.log(
        "%d photo(s) of %s shifted by %+d s (%d already), %d burst row(s) regrouped",
        done.shifted,
        camera,
        seconds,
        done.skipped,
        done.bursts_changed,
    )
