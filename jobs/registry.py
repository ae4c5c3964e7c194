"""Handlers by job type. A handler is ``fn(ctx: JobContext) -> None``.

Modules named in ``settings.PIPELINE_HANDLER_MODULES`` register their handlers on import.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from .context import JobContext

Handler = Callable[["JobContext"], None]
_HANDLERS: dict[str, Handler] = {}


def handler(job_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if job_type in _HANDLERS and _HANDLERS[job_type] is not fn:
            raise RuntimeError(f"Two handlers for job type '{job_type}'.")
        _HANDLERS[job_type] = fn
        return fn

    return register


def handler_for(job_type: str) -> Handler | None:
    return _HANDLERS.get(job_type)


def registered_types() -> list[str]:
    return sorted(_HANDLERS)


def autodiscover() -> None:
    for module in settings.PIPELINE_HANDLER_MODULES:
        import_module(module)
