"""Resumable uploads, tus 1.0 (SPEC §9, §14): the state and the bytes, not the HTTP.

A resumable upload is one file into one project. Its bytes go to a hidden temporary file of
the project folder (``fsrules.temp_create``'s rule, as ``photos/staging.py`` stages a multipart
upload), never to ``TMPDIR``; the ``ResumableUpload`` row says how many have arrived. Each
``PATCH`` appends what the connection brings, streamed in ``CHUNK_BYTES`` pieces and counted
even when the client leaves half-way (the next ``PATCH`` resumes there), unless the request
carried a checksum: then a chunk is kept only whole and verified. When the last byte arrives
the file enters through the upload use case (``photos.services.upload.photos_upload``): the
same checks, naming, rename template, rows and task as a multipart upload; a refused file is
removed. Abandoned uploads are deleted by maintenance after ``PIPELINE_UPLOAD_TTL_HOURS``
(``resumable_uploads_purge``).

The API (``photos/api/uploads.py``) maps the errors below to tus's status codes.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from django.conf import settings
from django.db import transaction
from django.http import UnreadablePostError
from django.utils import timezone

from core.errors import ApplicationError, ConflictError
from projects.models import Project

from . import fsrules, storage
from .ingest import upload_folder
from .models import ResumableUpload
from .renaming import template_check
from .services.upload import photos_upload
from .staging import Staging, size_text, upload_name_problem

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "termination", "checksum")
CHECKSUMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
    "sha256": hashlib.sha256,
}
CHUNK_BYTES = 1024 * 1024


class Body(Protocol):
    """A request body read as it arrives (a Django request is one)."""

    def read(self, size: int = -1, /) -> bytes: ...


class UploadTooLarge(ApplicationError):
    """The file (or a chunk past its declared length) is over the limit."""


class OffsetMismatch(ConflictError):
    """The client's ``Upload-Offset`` is not the server's, or another request is writing."""


class ChecksumMismatch(ApplicationError):
    """The chunk's checksum does not match what arrived (tus: 460); nothing was kept."""


class ChecksumUnsupported(ApplicationError):
    """An ``Upload-Checksum`` algorithm this server does not know."""


class NameTaken(ConflictError):
    """The file's name is taken in the project and the upload names no rename template."""


class UploadFinished(ConflictError):
    """The upload has all its bytes already."""


def max_size() -> int:
    return int(settings.PHOTOS_MAX_UPLOAD_BYTES)


def ttl() -> timedelta:
    return timedelta(hours=float(settings.PIPELINE_UPLOAD_TTL_HOURS))


def partial_path(upload: ResumableUpload) -> Path | None:
    """Where the upload's bytes are: its temporary file in the project's current folder."""
    if not upload.tmp_name:
        return None
    name = upload.tmp_name
    # Only the temporary-file rule's own names, never a path.
    if "/" in name or "\0" in name or not (name.startswith(".") and name.endswith(".tmp")):
        return None
    return storage.project_dir(upload.project) / name


def length_problem(length: int) -> None:
    limit = max_size()
    if length > limit:
        raise UploadTooLarge(
            f"The file is {size_text(length)}, over the limit of {size_text(limit)}."
        )
    if length <= 0:
        raise ApplicationError("The file is empty.")


def resumable_upload_create(
    *,
    user: Any,
    project: Project,
    filename: str,
    length: int,
    rename: str | None = None,
) -> ResumableUpload:
    """Start a resumable upload of ``filename`` (``length`` bytes) into ``project``.

    Refused before a byte arrives: the project archived or its folder missing, the name
    (unsafe, hidden, an unaccepted extension), the size (``UploadTooLarge``), an unusable
    rename template, and a name already taken in the project when no template is given
    (``NameTaken``: the client may ask again with one). The content is checked on completion.
    """
    folder = upload_folder(project)
    name = fsrules.nfc(filename)
    problem = upload_name_problem(name)
    if problem is not None:
        raise ApplicationError(problem)
    length_problem(length)
    template = template_check(rename) if rename else ""
    if not template:
        clash = _name_taken(folder, name)
        if clash is not None:
            raise NameTaken(f"A file named {clash!r} already exists in this project.")
    fd, tmp = fsrules.temp_create(folder / name)
    os.close(fd)
    now = timezone.now()
    try:
        return ResumableUpload.objects.create(
            tenant_id=project.tenant_id,
            project=project,
            user=user,
            filename=name,
            rename=template,
            length=length,
            tmp_name=tmp.name,
            created_at=now,
            updated_at=now,
            expires_at=now + ttl(),
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _name_taken(folder: Path, name: str) -> str | None:
    lowered = name.lower()
    for group in storage.folder_files(folder, [fsrules.split_name(name)[0]]).values():
        for existing in group.with_sidecars:
            if fsrules.nfc(existing).lower() == lowered:
                return existing
    return None


@dataclass(frozen=True)
class Appended:
    """What one ``PATCH`` did: the new offset and, when it was the last, the upload's reply."""

    upload: ResumableUpload
    completed: bool = False


def checksum_parse(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` → ``(algorithm, digest)``."""
    if not header:
        return None
    parts = header.strip().split(" ", 1)
    if len(parts) != 2:
        raise ApplicationError("Upload-Checksum must be '<algorithm> <base64 digest>'.")
    algorithm = parts[0].lower()
    if algorithm not in CHECKSUMS:
        raise ChecksumUnsupported(
            f"Unsupported checksum algorithm {parts[0]!r} (supported: {', '.join(CHECKSUMS)})."
        )
    try:
        return algorithm, base64.b64decode(parts[1].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError("The Upload-Checksum digest is not base64.") from None


def resumable_upload_append(
    *,
    upload: ResumableUpload,
    offset: int,
    body: Body,
    declared: int | None,
    checksum: tuple[str, bytes] | None = None,
    actor_id: int | None = None,
) -> Appended:
    """Append the request body (``declared`` bytes, or until it ends) at ``offset``.

    ``OffsetMismatch`` when ``offset`` is not the upload's (or another request is writing
    it); ``UploadTooLarge`` when the body would pass the declared length. Without a checksum
    the bytes that arrived before the client left are kept (the next request resumes after
    them); with one, the chunk is kept only if it arrived whole and matches
    (``ChecksumMismatch`` otherwise, and nothing of it is kept). The last byte completes the
    upload (``resumable_upload_complete``).
    """
    if upload.completed_at is not None:
        raise UploadFinished("This upload is complete; nothing more can be appended.")
    if offset != upload.offset:
        raise OffsetMismatch(
            f"Upload-Offset {offset} does not match the upload's offset {upload.offset}."
        )
    remaining = upload.length - upload.offset
    if declared is not None and declared > remaining:
        raise UploadTooLarge(
            f"The chunk is {declared} bytes; only {remaining} remain of the declared length."
        )
    path = partial_path(upload)
    if path is None:
        raise ApplicationError("The upload's partial file is gone; start the upload again.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise ApplicationError(
            "The upload's partial file is gone; start the upload again."
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OffsetMismatch("Another request is writing this upload.") from None
        # Bytes past the recorded offset are from a write that did not finish: not counted.
        os.ftruncate(fd, offset)
        written = _copy(
            fd,
            offset,
            body,
            limit=remaining if declared is None else declared,
            digest=CHECKSUMS[checksum[0]]() if checksum else None,
            checksum=checksum,
            whole=declared,
        )
    finally:
        os.close(fd)
    now = timezone.now()
    updated = ResumableUpload.objects.filter(pk=upload.pk, offset=offset).update(
        offset=offset + written, updated_at=now, expires_at=now + ttl()
    )
    if not updated:
        raise OffsetMismatch("The upload changed meanwhile; ask for its offset again.")
    upload.offset, upload.updated_at, upload.expires_at = offset + written, now, now + ttl()
    if upload.offset < upload.length:
        return Appended(upload=upload)
    resumable_upload_complete(upload=upload, actor_id=actor_id)
    return Appended(upload=upload, completed=True)


def _copy(
    fd: int,
    offset: int,
    body: Body,
    *,
    limit: int,
    digest: Any,
    checksum: tuple[str, bytes] | None,
    whole: int | None,
) -> int:
    """Stream ``body`` into ``fd`` at ``offset``, at most ``limit`` bytes; the bytes kept."""
    written = 0
    try:
        while written < limit:
            data = body.read(min(CHUNK_BYTES, limit - written))
            if not data:
                break
            os.pwrite(fd, data, offset + written)
            if digest is not None:
                digest.update(data)
            written += len(data)
    except UnreadablePostError as exc:
        # The client left mid-body: keep what arrived, the next request resumes after it.
        logger.info("A resumable upload's request ended early (%s).", exc)
    if checksum is not None:
        complete = whole is None or written == whole
        if not complete or digest.digest() != checksum[1]:
            os.ftruncate(fd, offset)
            if not complete:
                raise ApplicationError(
                    "The chunk ended before its declared length; its checksum cannot be "
                    "verified, so nothing of it was kept."
                )
            raise ChecksumMismatch("The chunk's checksum does not match; it was not kept.")
    return written


def resumable_upload_complete(*, upload: ResumableUpload, actor_id: int | None) -> None:
    """The last byte arrived: the file enters through ``photos_upload`` (the multipart
    upload's checks, naming and task), its reply kept in ``result``. A refused file is
    removed; the partial file is gone either way."""
    project = Project.objects.select_related("tenant").get(pk=upload.project_id)
    folder = storage.project_dir(project)
    outcome = None
    error: str | None = None
    with Staging(folder) as staging:
        try:
            staged = staging.adopt(upload.tmp_name, name=upload.filename)
            outcome = photos_upload(
                project=project,
                files=[cast(Any, staged)],
                actor_id=actor_id,
                all_or_nothing=True,
                rename=upload.rename or None,
            )
        except ApplicationError as exc:
            error = str(exc)
        except OSError as exc:
            error = f"The file could not be saved ({exc.strerror or exc})."
    if outcome is None:
        result: dict[str, Any] = {
            "detail": error or "No file was accepted.",
            "errors": [{"file": upload.filename, "error": error or ""}],
        }
    elif outcome.refused_all:
        result = {"detail": "No file was accepted.", "errors": outcome.errors}
    else:
        result = {"files": outcome.files, "task_id": outcome.task_id}
        if outcome.renamed:
            result["renamed"] = outcome.renamed
    upload.result = result
    upload.completed_at = timezone.now()
    upload.tmp_name = ""
    upload.save(update_fields=["result", "completed_at", "tmp_name"])


def upload_accepted(upload: ResumableUpload) -> bool:
    return bool(upload.result and upload.result.get("files"))


def resumable_upload_terminate(*, upload: ResumableUpload) -> None:
    """Stop an upload: its partial file and its row are deleted (tus termination)."""
    _partial_remove(upload)
    upload.delete()


def _partial_remove(upload: ResumableUpload) -> None:
    try:
        path = partial_path(upload)
    except Exception:  # A project whose folder cannot be named any more (checked paths).
        logger.warning("Resumable upload %s: its folder is not reachable.", upload.pk)
        return
    if path is not None:
        path.unlink(missing_ok=True)


def resumable_uploads_purge(
    *, tenant_id: int | None = None, project_id: int | None = None, now: datetime | None = None
) -> int:
    """Delete the uploads past their expiry (``PIPELINE_UPLOAD_TTL_HOURS`` after their last
    write) with their partial files; the number deleted. Run by maintenance."""
    rows = ResumableUpload.objects.expired(now=now or timezone.now()).select_related(
        "project__tenant"
    )
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    count = 0
    for upload in rows:
        with transaction.atomic():
            _partial_remove(upload)
            upload.delete()
        count += 1
    return count
