"""What the apps hand the engine: handlers by job type, step selectors, and the text of an
item's file error.

The engine knows no photos: the modules named in ``settings.PIPELINE_HANDLER_MODULES`` (the
adapters in ``jobs/handlers/``) register these on import.

- A handler is ``fn(ctx: JobContext) -> None``.
- A step selector narrows the photos a step carried over from step 0 (``Step.carry_items``) to
  the ones that still need the step (``Step.only_if_needed``): ``fn(photos) -> photos``, both
  querysets of the model ``JobItem.photo`` names.
- The item error text turns an ``OSError`` of one item into the message stored on the item;
  the default names only the last component of each path.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet

from .exceptions import os_error_text

if TYPE_CHECKING:
    from .context import JobContext

Handler = Callable[["JobContext"], None]
StepSelector = Callable[[QuerySet[Any]], QuerySet[Any]]
ItemErrorText = Callable[[OSError], str]

_HANDLERS: dict[str, Handler] = {}
_STEP_SELECTORS: dict[str, StepSelector] = {}
_ITEM_ERROR_TEXT: list[ItemErrorText] = []


def handler(job_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if job_type in _HANDLERS and _HANDLERS[job_type] is not fn:
            raise RuntimeError(f"Two handlers for job type '{job_type}'.")
        _HANDLERS[job_type] = fn
        return fn

    return register


def handler_for(job_type: str) -> Handler | None:
    return _HANDLERS.get(job_type)


def step_selector(step_type: str) -> Callable[[StepSelector], StepSelector]:
    """Register the selector of the photos a step of ``step_type`` still has to work on."""

    def register(fn: StepSelector) -> StepSelector:
        if step_type in _STEP_SELECTORS and _STEP_SELECTORS[step_type] is not fn:
            raise RuntimeError(f"Two step selectors for step type '{step_type}'.")
        _STEP_SELECTORS[step_type] = fn
        return fn

    return register


def step_selector_for(step_type: str) -> StepSelector:
    """The registered selector; a step that asks for one without a registration is a bug."""
    try:
        return _STEP_SELECTORS[step_type]
    except KeyError:
        raise LookupError(f"No step selector registered for step type '{step_type}'.") from None


def item_error_text_register(fn: ItemErrorText) -> ItemErrorText:
    """Set how an item's ``OSError`` reads (one setting; the last registration wins)."""
    _ITEM_ERROR_TEXT[:] = [fn]
    return fn


def item_error_text(exc: OSError) -> str:
    if _ITEM_ERROR_TEXT:
        return _ITEM_ERROR_TEXT[0](exc)
    return os_error_text(exc)


def autodiscover() -> None:
    for module in settings.PIPELINE_HANDLER_MODULES:
        import_module(module)
