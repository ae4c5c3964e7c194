"""Each HTTP request runs in a context of its own (ASGI middleware, outermost).

uvicorn starts the next request of a keep-alive connection from inside the previous one's last
``send``, so the next request's task inherits the previous request's context variables. Among
them is asgiref's: Django's per-request ``ThreadSensitiveContext`` and the thread executor an
upload's streamed body left behind (``config/upload_gate.py`` reads the body through
``async_to_sync``). The next request's first ``sync_to_async`` then found that executor, long
finished: "CurrentThreadExecutor already quit or is broken", a 500 on every other upload of a
browser or client that reuses its connection. A request starts here from an empty context, as
on a new connection.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

ASGIApp = Any


class FreshContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # A task of its own, started from an empty context; cancelling this one (the client
        # left, the server stops) cancels it too.
        task = asyncio.get_running_loop().create_task(
            self.app(scope, receive, send), context=contextvars.Context()
        )
        await task
