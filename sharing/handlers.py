"""The job types of sharing and delivery (SPEC §18), registered with the engine on import
(``settings.PIPELINE_HANDLER_MODULES``). Thin: the work is in ``sharing.exports``.

- ``export_files``: one item per photo (a JPEG rendition written to staging, or the originals
  checked), resumable: items done are skipped by ``each_item`` and their renditions kept; then
  the ZIP from the items done.
- ``export_expiry``: the task of that name (on the maintenance interval, ``sharing.definitions``);
  deletes the tenant's expired exports.
"""

from __future__ import annotations

from django.utils import timezone

from jobs.context import JobContext
from jobs.registry import handler

from . import exports


@handler(exports.JOB_TYPE)
def export_files(ctx: JobContext) -> None:
    export = exports.export_for_job(
        export_id=ctx.payload.get("export_id"), tenant_id=ctx.job.tenant_id
    )
    exports.export_running(export)
    ctx.each_item(lambda item: exports.export_item_make(export, item))
    ctx.check_cancel()
    exports.export_zip_make(export, job_id=ctx.job.pk, checkpoint=ctx.check_cancel)


@handler("export_expiry")
def export_expiry(ctx: JobContext) -> None:
    count = exports.exports_expired_delete(now=timezone.now(), tenant=ctx.tenant)
    ctx.log("%s expired exports deleted", count)
