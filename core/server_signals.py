"""Let the application hear that its ASGI server was asked to stop.

uvicorn answers SIGINT/SIGTERM by closing its sockets and waiting for open responses (up to
``--timeout-graceful-shutdown``) before it tells the application anything (the lifespan
shutdown comes last). An event stream never ends on its own, so every stop with a browser open
waited out the timeout and ended in "Cancel 1 running task(s)" at ERROR. uvicorn installs its
handlers when it starts serving (after it imports the application), so the first event stream
of a loop chains its own in front (``jobs.api.stream``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


def on_server_stop(callback: Callable[[], None]) -> bool:
    """Call ``callback`` (it must be safe in a signal handler), then uvicorn's own handler,
    when uvicorn is asked to stop. Whether uvicorn's handlers were found (only under uvicorn,
    in its serving thread: not under the test client or another server)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        from uvicorn.server import Server
    except ImportError:  # pragma: no cover - uvicorn is a requirement
        return False
    chained = False
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if not isinstance(getattr(handler, "__self__", None), Server):
            continue

        def stop_then(sig: int, frame: Any, _uvicorn: Any = handler) -> None:
            callback()
            _uvicorn(sig, frame)

        signal.signal(signum, stop_then)
        chained = True
    return chained
