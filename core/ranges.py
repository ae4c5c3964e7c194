"""Files served with HTTP range requests (RFC 9110 §14): ``Accept-Ranges: bytes``, one range
per request answered ``206 Partial Content``, an unsatisfiable one ``416``, ``If-Range``.

Django's ``FileResponse`` sends whole files only, and WhiteNoise's range support serves static
files alone, so large downloads (exports) use ``ranged_file_response``. The file is read in
blocks by whoever streams the response (``config.async_files`` under ASGI, the WSGI server's
file wrapper otherwise), never whole into memory. Several ranges in one request
(``multipart/byteranges``) are answered with the whole file, as the RFC allows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """The range lies outside the file (416)."""


def range_parse(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte positions (inclusive) of a ``Range`` header for a file of
    ``size`` bytes; ``None`` when the header is absent, malformed or asks for several ranges
    (the whole file is sent); ``Unsatisfiable`` when no byte of it exists."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # bytes=-N: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable()
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # Invalid syntax (RFC 9110 §14.1.1): ignore the header.
    if first >= size:
        raise Unsatisfiable()
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


class FileSlice:
    """``length`` bytes of an open file from its current position, read in blocks."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self.file = file
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.file.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def _if_range_matches(header: str, *, etag: str, mtime: int) -> bool:
    """Whether ``If-Range`` names this version: a strong ETag equal to ours, or a date no
    earlier than the file's modification time."""
    header = header.strip()
    if header.startswith('"'):
        return header == etag
    if header.startswith("W/"):
        return False  # Weak validators never satisfy If-Range.
    when = parse_http_date_safe(header)
    return when is not None and when >= mtime


def ranged_file_response(
    request: HttpRequest,
    path: Path,
    *,
    content_type: str = "application/octet-stream",
    filename: str | None = None,
    as_attachment: bool = True,
    cache_control: str = "private, no-cache",
) -> HttpResponseBase:
    """``path`` as a download that honours ``Range`` and ``If-Range``; 304/412 for the other
    conditional headers (``If-None-Match``, ``If-Modified-Since``, …) as Django answers them."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise Http404("File not found.") from None
    size = stat.st_size
    mtime = int(stat.st_mtime)
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    validators = {
        "ETag": etag,
        "Last-Modified": http_date(stat.st_mtime),
        "Accept-Ranges": "bytes",
        "Cache-Control": cache_control,
    }
    conditional = get_conditional_response(request, etag=etag, last_modified=mtime)
    if conditional is not None:
        for name, value in validators.items():
            conditional[name] = value
        return conditional
    wanted: tuple[int, int] | None = None
    if_range = request.headers.get("If-Range")
    if if_range is None or _if_range_matches(if_range, etag=etag, mtime=mtime):
        try:
            wanted = range_parse(request.headers.get("Range"), size)
        except Unsatisfiable:
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            for name, value in validators.items():
                refused[name] = value
            return refused
    file = path.open("rb")
    if wanted is None:
        response = FileResponse(
            file, content_type=content_type, as_attachment=as_attachment, filename=filename or ""
        )
        response["Content-Length"] = str(size)
    else:
        first, last = wanted
        file.seek(first)
        response = FileResponse(
            FileSlice(file, last - first + 1),
            status=206,
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename or path.name,
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    for name, value in validators.items():
        response[name] = value
    return response
