"""Uploaded files written straight into their project folder as they arrive (SPEC §9, §14).

An upload's bytes go to a hidden temporary file in the project folder, the one temporary-name
rule of ``fsrules.temp_create`` (the one ``write_atomic`` uses), and nowhere else: no copy in
``TMPDIR``, no second copy at publish time. ``photos.ingest`` then checks each file and
publishes the accepted ones under their own names without replacing anything
(``StagedFile.publish``: a hard link claims the name); every temporary file that was not
published is removed (``Staging.discard``), so a refused file leaves nothing behind.

- ``StagingUploadHandler`` is a Django upload handler: put on ``request.upload_handlers``
  before the body is parsed (``config/upload_gate.py`` does it for an upload the ASGI gate
  admitted, the upload view otherwise), it writes each file of the field ``files`` into the
  project folder while the multipart body streams in. A file whose name is refused
  (``upload_name_problem``) is never written; one that grows past ``PHOTOS_MAX_UPLOAD_BYTES``
  stops being written and its temporary file is removed at once.
- ``Staging.copy`` stages a file that came another way (a test client's in-memory file, a
  caller of ``photo_files_save``) by the same rule.

The staging keeps a handle on the project folder, so its temporary files are removed even if
the folder is renamed meanwhile (a project deleted during the upload becomes a tombstone).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from projects.names import name_characters_problem

from . import fsrules, storage

# The multipart field an upload's files come in (SPEC §9).
UPLOAD_FIELD = "files"
# Names longer than this (in bytes) cannot be created on common filesystems.
MAX_NAME_BYTES = storage.NAME_MAX_BYTES
# Bytes handed to the handler per call: fewer round trips between the server and the parser.
CHUNK_BYTES = 4 * 1024 * 1024


class TooLarge(Exception):
    """A file grew past the per-file limit while it was being staged."""


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def upload_name_problem(name: str) -> str | None:
    """Why an uploaded file's name is refused, or ``None``: checked before a byte is written."""
    try:
        fsrules.check_name(name)
    except fsrules.UnsafePath as exc:
        return str(exc)
    if storage.is_hidden(name):
        return "Hidden file names (starting with '.') are not accepted."
    if problem := name_characters_problem(name, what="A file name"):
        # Escape sequences, invisible characters or stray combining marks in a name fool
        # terminals and listings.
        return problem
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"The file name is longer than {MAX_NAME_BYTES} bytes."
    too_long = storage.basename_problem(fsrules.split_name(name)[0])
    if too_long is not None:
        return too_long
    if storage.classify(name) is None and not storage.sidecar_bases(name):
        _, ext = fsrules.split_name(name)
        accepted = ", ".join(sorted(storage.ACCEPTED_EXTENSIONS))
        what = f"'.{ext}' files are" if ext else "Files without an extension are"
        return f"{what} not accepted (accepted: {accepted})."
    return None


class StagedFile(UploadedFile):
    """One uploaded file, its bytes in a hidden temporary file of the project folder.

    ``problem``: why it could not be staged (the folder is gone, the disk is full), for
    ``photo_files_save`` to report; a file with a refused name or over the size limit has no
    temporary file and is refused by those checks. Reading it (``read``, ``seek``, ``chunks``)
    reads the temporary file.
    """

    def __init__(
        self,
        *,
        staging: Staging,
        name: str,
        content_type: str | None = None,
        charset: str | None = None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> None:
        self._fh: IO[bytes] = io.BytesIO()
        super().__init__(self._fh, name, content_type, 0, charset, content_type_extra)
        self.size: int = 0
        self.staging = staging
        self.problem: str | None = None
        self.tmp_name: str | None = None
        self.published: Path | None = None
        self._inode: tuple[int, int] | None = None
        self._limit = staging.limit

    # --- filling ------------------------------------------------------------------------

    def _start(self) -> None:
        if upload_name_problem(self.name or "") is not None:
            return  # Refused by name: never written.
        try:
            self.tmp_name, fh = self.staging.temp_open(self.name or "")
        except OSError as exc:
            self.problem = f"The file could not be saved ({exc.strerror or exc})."
            return
        self.file = self._fh = fh
        st = os.fstat(fh.fileno())
        self._inode = (st.st_dev, st.st_ino)

    def append(self, data: bytes) -> None:
        self.size += len(data)
        if self.tmp_name is None:
            return
        if self.size > self._limit:
            # Over the per-file limit: stop writing now, keep counting for the reply.
            self._remove_temp()
            return
        try:
            self._fh.write(data)
        except OSError as exc:
            self.problem = f"The file could not be saved ({exc.strerror or exc})."
            self._remove_temp()

    def finish(self) -> None:
        if self.tmp_name is not None:
            self._fh.flush()
            self._fh.seek(0)

    # --- publishing ---------------------------------------------------------------------

    def sync(self) -> None:
        """Put the bytes on disk (fsync): originals are the only copy once the card is wiped."""
        if self.tmp_name is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def publish(self, dest: Path) -> None:
        """Give the file the name ``dest`` (in the staging's folder) unless it is taken
        (``FileExistsError``); an unstaged file is an ``OSError``."""
        if self.tmp_name is None:
            raise FileNotFoundError(self.problem or "The file was not staged.")
        fsrules.temp_publish(dest.parent / self.tmp_name, dest, replace=False, mode=0o644)
        self.tmp_name = None
        self.published = dest

    def unpublish(self) -> None:
        """Take back a name this file was just given (an all-or-nothing upload that failed
        after publishing it): only if that name is still this very file (same inode)."""
        if self.published is None or self._inode is None:
            return
        try:
            st = os.lstat(self.published)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == self._inode:
            os.unlink(self.published)
        self.published = None

    # --- cleaning up --------------------------------------------------------------------

    def _remove_temp(self) -> None:
        if self.tmp_name is not None:
            self.staging.temp_remove(self.tmp_name)
            self.tmp_name = None
        self._fh.close()
        self.file = self._fh = io.BytesIO()

    def discard(self) -> None:
        """Remove the temporary file unless it was published; close it."""
        self._remove_temp()

    def close(self) -> None:
        self.discard()


class Staging:
    """The temporary files of one upload in one project folder; ``discard`` removes those
    not published (use it as a context manager, or call it when the request ends)."""

    def __init__(self, folder: Path, *, limit: int | None = None) -> None:
        self.folder = folder
        self.limit = settings.PHOTOS_MAX_UPLOAD_BYTES if limit is None else limit
        self.files: list[StagedFile] = []
        self.closed = False
        self._dir_fd: int | None = None
        self._identity: tuple[int, int] | None = None
        # ``discard`` may run twice, from the view and from the server at the request's end.
        self._lock = threading.Lock()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def _folder_fd(self) -> int:
        if self._dir_fd is None:
            if self.closed:
                raise FileNotFoundError("The upload has ended.")
            self._dir_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            st = os.fstat(self._dir_fd)
            self._identity = (st.st_dev, st.st_ino)
        return self._dir_fd

    def is_folder(self, path: Path) -> bool:
        """Whether ``path`` is (still) the folder the files were staged in: the project
        folder was not renamed, replaced or deleted meanwhile."""
        if self._identity is None:
            return True  # Nothing staged here.
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def temp_open(self, name: str) -> tuple[str, IO[bytes]]:
        """A new hidden temporary file for ``name`` in the folder: ``(its name, open file)``."""
        self._folder_fd()
        fd, tmp = fsrules.temp_create(self.folder / name)
        return tmp.name, os.fdopen(fd, "w+b")

    def temp_remove(self, tmp_name: str) -> None:
        with self._lock:
            try:
                if self._dir_fd is not None:
                    # Through the folder's handle: found even if the folder was renamed since.
                    os.unlink(tmp_name, dir_fd=self._dir_fd)
                else:
                    os.unlink(self.folder / tmp_name)
            except FileNotFoundError:
                pass

    def open(
        self,
        name: str,
        *,
        content_type: str | None = None,
        charset: str | None = None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> StagedFile:
        """A new staged file named ``name``, ready for ``append``."""
        staged = StagedFile(
            staging=self,
            name=name,
            content_type=content_type,
            charset=charset,
            content_type_extra=content_type_extra,
        )
        self.files.append(staged)
        staged._start()
        return staged

    def adopt(self, tmp_name: str, *, name: str) -> StagedFile:
        """A file already written to the temporary file ``tmp_name`` of the folder (a
        completed resumable upload, ``photos/tus.py``), staged under ``name``; removed by
        ``discard`` unless published. ``OSError`` when it is not there."""
        if "/" in tmp_name or not (tmp_name.startswith(".") and tmp_name.endswith(".tmp")):
            raise FileNotFoundError("Not a temporary file of this folder.")
        dir_fd = self._folder_fd()
        fd = os.open(tmp_name, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=dir_fd)
        staged = StagedFile(staging=self, name=name)
        self.files.append(staged)
        fh = os.fdopen(fd, "r+b")
        st = os.fstat(fd)
        staged.tmp_name = tmp_name
        staged.file = staged._fh = fh
        staged._inode = (st.st_dev, st.st_ino)
        staged.size = st.st_size
        return staged

    def copy(self, upload: Any, *, name: str) -> StagedFile:
        """Stage a file that came another way (anything with ``chunks()``); ``TooLarge``
        past the per-file limit, ``OSError`` when it cannot be written."""
        staged = self.open(name, content_type=getattr(upload, "content_type", None))
        if staged.problem is not None:
            staged.discard()
            raise OSError(staged.problem)
        chunks: Iterable[bytes] = upload.chunks()
        for chunk in chunks:
            staged.append(chunk)
            if staged.size > self.limit:
                raise TooLarge()
            if staged.problem is not None:
                raise OSError(staged.problem)
        staged.finish()
        return staged

    def discard(self) -> None:
        """Remove every temporary file of this staging that was not published; no file can
        be staged here after it."""
        for staged in list(self.files):
            staged.discard()
        with self._lock:
            self.closed = True
            if self._dir_fd is not None:
                os.close(self._dir_fd)
                self._dir_fd = None


class StagingUploadHandler(FileUploadHandler):
    """Django upload handler: each file of the field ``files`` streams into ``staging``.

    Files of any other field are dropped unread (the upload view reads only ``files``).
    """

    chunk_size = CHUNK_BYTES

    def __init__(self, staging: Staging, request: Any = None) -> None:
        super().__init__(request)
        self.staging = staging
        self.current: StagedFile | None = None

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self.current = None
        if field_name == UPLOAD_FIELD:
            self.current = self.staging.open(
                file_name,
                content_type=content_type,
                charset=charset,
                content_type_extra=content_type_extra,
            )

    def receive_data_chunk(self, raw_data: bytes, _start: int) -> None:
        if self.current is not None:
            self.current.append(raw_data)
        return None

    def file_complete(self, _file_size: int) -> StagedFile | None:
        staged, self.current = self.current, None
        if staged is not None:
            staged.finish()
        return staged

    def upload_interrupted(self) -> None:
        if self.current is not None:
            self.current.discard()
            self.current = None
