"""The upload use case (SPEC §4, §9): files into a project, one write path for every entry.

``photos_upload`` is what the multipart endpoint (``POST /api/projects/{id}/upload``), the
resumable upload on completion (``photos/tus.py``) and the ``demo`` command call: content
checks and naming (``photos.ingest.photo_files_save``: names, types, content, sizes, clashes,
the rename template, sidecars), the photo rows with their ``item`` events, then the
``upload_postprocess`` task. It returns what happened; the caller picks its reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from jobs.events import events_record_bulk
from photos.events import item_event
from projects.models import Project

from .. import storage, xmp
from ..ingest import IngestResult, UploadedFileLike, photo_files_save, upload_finish
from ..models import Photo
from ..renaming import template_check


@dataclass(frozen=True)
class UploadOutcome:
    """What one upload did.

    ``files``: the names saved (renamed ones under their new name); ``errors``: refused files
    (``{"file", "error"}``); ``renamed``: ``{"file", "saved_as"}`` of files the rename template
    renamed; ``photo_ids``: the photos created or completed; ``task_id``: their
    ``upload_postprocess`` task (``None`` when nothing was saved). ``refused_all`` is true when
    nothing was saved; ``kept_none_by_rule`` when an all-or-nothing upload kept nothing because
    of a refusal although some files were acceptable.
    """

    files: list[str]
    errors: list[dict[str, str]]
    renamed: list[dict[str, str]] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)
    task_id: str | None = None
    sent: int = 0
    all_or_nothing: bool = True

    @property
    def refused_all(self) -> bool:
        return not self.files

    @property
    def kept_none_by_rule(self) -> bool:
        return self.refused_all and self.all_or_nothing and len(self.errors) < self.sent


def photos_upload(
    *,
    project: Project,
    files: Sequence[UploadedFileLike],
    actor_id: int | None,
    all_or_nothing: bool = True,
    rename: str | None = None,
    source: str = "upload",
) -> UploadOutcome:
    """Save ``files`` into ``project`` and start their ``upload_postprocess`` task.

    ``rename`` is a rename template (``photos/renaming.py``) for photos whose name is taken;
    an unusable one raises ``RenameTemplateInvalid`` before anything is read. The project
    archived or its folder missing raises ``ApplicationError`` (``upload_folder``). The task
    starts after the rows are committed (``photo_files_save`` commits them).
    """
    template = template_check(rename) if rename else None
    saved: IngestResult = photo_files_save(
        project=project,
        files=files,
        actor_id=actor_id,
        all_or_nothing=all_or_nothing,
        rename=template,
    )
    if saved.sidecar_photo_ids:
        photos_sidecars_read(project=project, photo_ids=saved.sidecar_photo_ids, actor_id=actor_id)
    task_id = None
    if saved.files:
        started = upload_finish(
            project=project, photo_ids=saved.photo_ids, actor_id=actor_id, source=source
        )
        task_id = str(started["task_id"]) if started else None
    return UploadOutcome(
        files=list(saved.files),
        errors=list(saved.errors),
        renamed=list(saved.renamed),
        photo_ids=list(saved.photo_ids),
        task_id=task_id,
        sent=len(files),
        all_or_nothing=all_or_nothing,
    )


def photos_sidecars_read(*, project: Project, photo_ids: list[int], actor_id: int | None) -> int:
    """Read rating and label from the XMP sidecars of photos that were indexed before their
    sidecar arrived (a resumable upload sends one file at a time); the photos changed.

    The rule of ingest (``photos.derivatives``): a value is applied when the XMP says
    something other than it said at the last read, so a rating set here since is kept unless
    the sidecar changed. One ``item`` event per changed photo.
    """
    folder = storage.project_dir(project)
    events = []
    with transaction.atomic():
        photos = Photo.objects.select_for_update().filter(project=project, pk__in=photo_ids)
        for photo in photos:
            originals = storage.files_for_basename(folder, photo.basename).all
            said = xmp.photo_rating_label(folder, photo.basename, originals)
            seen = {
                k: v for k, v in (("rating", said.rating), ("label", said.label)) if v is not None
            }
            last = (photo.metadata or {}).get("xmp") or {}
            changes = {k: v for k, v in seen.items() if last.get(k) != v}
            if not changes:
                continue
            metadata = {**(photo.metadata or {}), "xmp": seen}
            Photo.objects.filter(pk=photo.pk).update(
                **changes, metadata=metadata, updated_at=timezone.now()
            )
            events.append(
                item_event(
                    tenant_id=project.tenant_id,
                    project_id=project.pk,
                    photo_id=photo.pk,
                    actor_id=actor_id,
                    fields={**changes, "source": "sidecar"},
                )
            )
        if events:
            events_record_bulk(events)
    return len(events)
