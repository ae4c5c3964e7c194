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

from projects.models import Project

from ..ingest import IngestResult, UploadedFileLike, photo_files_save, upload_finish
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
