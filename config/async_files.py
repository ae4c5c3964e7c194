"""File responses streamed through an async iterator under ASGI.

Django's ASGI handler serves a streaming response's iterator with ``async for``; handed a
synchronous one (every ``FileResponse``: WhiteNoise's static files, the photo views'
thumbnails, previews and originals) it warns "StreamingHttpResponse must consume synchronous
iterators" on every such response and reads it on a thread per chunk. This middleware, outside
WhiteNoise, gives those responses an async iterator that reads the same file by blocks on a
worker thread. Under WSGI (the test client, ``runserver``) responses are left as they are, so
the WSGI server's ``file_wrapper`` still serves them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import FileResponse, HttpRequest, HttpResponseBase


async def _blocks(filelike: Any, block_size: int) -> AsyncIterator[bytes]:
    read = sync_to_async(filelike.read, thread_sensitive=False)
    while chunk := await read(block_size):
        yield chunk


class AsyncFileResponseMiddleware:
    """Wrap every ASGI ``FileResponse`` in an async iterator over its file."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            isinstance(response, FileResponse)
            and not response.is_async
            and response.file_to_stream is not None
            and "wsgi.version" not in request.META
        ):
            # The file stays registered for closing with the response (FileResponse keeps it
            # in its resource closers); only the iterator over it changes.
            response.streaming_content = _blocks(response.file_to_stream, response.block_size)
        return response
