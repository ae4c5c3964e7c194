"""What the apps hand the engine: task definitions, schedules, event types, the item source,
handlers by job type, step selectors, the root of the files and the text of an item's file
error.

The engine names none of it. An app registers its part from its ``AppConfig.ready`` or from a
module named in ``settings.PIPELINE_HANDLER_MODULES`` (imported by ``autodiscover`` when the
``jobs`` app is ready); docs/ARCHITECTURE.md says who registers what.

- A task definition (``jobs.definitions.TaskDefinition``) is an ordered list of steps, each a
  job type; ``task_definitions_register`` adds the app's catalogue.
- A schedule (``ScheduleSpec``) is a django-q2 schedule ``schedules_setup`` keeps up to date.
- Event types are the names an app writes with ``jobs.events.event_record`` besides the
  engine's own ``job_*`` events (the admin's event filter offers them).
- The item source is what job items name: ``resolve(tenant, ids)`` turns ids into
  ``ItemRef(id, label, group_id)`` (the group is the item's project), ``ref(item)`` reads the
  app's own item specs (a row, a dict) and ``related`` lists the ``select_related`` paths a
  handler reads on ``JobItem.item``.
- A handler is ``fn(ctx: JobContext) -> None``.
- A step selector keeps, of the item ids a step carried over from step 0
  (``Step.carry_items``), the ones that still need the step (``Step.only_if_needed``):
  ``fn(tenant_id, ids) -> ids``.
- The item error text turns an ``OSError`` of one item into the message stored on the item;
  the default names only the last component of each path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from .definitions import ITEM_NOUN, TASK_DEFINITIONS, TaskDefinition
from .error_text import files_root_register
from .exceptions import os_error_text

if TYPE_CHECKING:
    from projects.models import Tenant

    from .context import JobContext

__all__ = ["files_root_register"]

Handler = Callable[["JobContext"], None]
StepSelector = Callable[[int, list[int]], list[int]]
ItemErrorText = Callable[[OSError], str]

_HANDLERS: dict[str, Handler] = {}
_STEP_SELECTORS: dict[str, StepSelector] = {}
_ITEM_ERROR_TEXT: list[ItemErrorText] = []


# -- task definitions --------------------------------------------------------------------------


def task_definitions_register(*definitions: TaskDefinition) -> None:
    """Add task types; registering the same definition twice is a no-op, a different one under
    a known type is refused (two apps, or a plugin, claiming one name)."""
    for definition in definitions:
        existing = TASK_DEFINITIONS.get(definition.type)
        if existing is not None and existing != definition:
            raise ValueError(f"Task type '{definition.type}' is already defined.")
        TASK_DEFINITIONS[definition.type] = definition


# -- schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSpec:
    """A django-q2 schedule by name: ``func`` every ``settings.<minutes_setting>`` minutes."""

    name: str
    func: str
    minutes_setting: str
    args: str = ""


_SCHEDULES: dict[str, ScheduleSpec] = {}


def schedule_register(spec: ScheduleSpec) -> ScheduleSpec:
    existing = _SCHEDULES.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"Schedule '{spec.name}' is already registered.")
    _SCHEDULES[spec.name] = spec
    return spec


def schedules() -> tuple[ScheduleSpec, ...]:
    """The registered schedules in registration order."""
    return tuple(_SCHEDULES.values())


# -- event types -------------------------------------------------------------------------------

_EVENT_TYPES: dict[str, str] = {}


def event_types_register(app: str, *types: str) -> None:
    """Declare the event types ``app`` writes (one owner per type)."""
    for event_type in types:
        owner = _EVENT_TYPES.setdefault(event_type, app)
        if owner != app:
            raise ValueError(f"Event type '{event_type}' is already registered by '{owner}'.")


def event_types() -> dict[str, str]:
    """Registered event types and the app that writes each."""
    return dict(_EVENT_TYPES)


# -- the item source ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRef:
    """One job item as the engine sees it: an id, the label stored on the item and the group
    (project) id, each possibly unknown (``None``) until the item source resolves it."""

    id: int | None
    label: str | None = None
    group_id: int | None = None


class ItemSource(Protocol):
    # What a person calls one item and several ("page", "pages"), for task titles.
    noun: tuple[str, str]
    # ``select_related`` paths from ``JobItem`` through the item field, for handlers.
    related: tuple[str, ...]
    # The item's field shown as its label (admin search) and its admin change view's URL name.
    label_field: str
    admin_url: str

    def resolve(
        self, tenant: Tenant | int, ids: Sequence[int], *, hidden: bool = True
    ) -> list[ItemRef]:
        """Refs of the ids that exist in the tenant (any order); ``hidden=False`` leaves out
        rows the app hides from its default views (a trashed one)."""
        ...

    def ref(self, item: Any) -> ItemRef | None:
        """The ref of an item spec of the app's own (a row, a dict); ``None``: not one."""
        ...


class _NoItems:
    noun = ("item", "items")
    related: tuple[str, ...] = ()
    label_field = "pk"
    admin_url = ""

    def resolve(
        self,
        _tenant: Tenant | int,
        _ids: Sequence[int],
        *,
        hidden: bool = True,  # noqa: ARG002 (ItemSource.resolve: enqueue passes it by keyword)
    ) -> list[ItemRef]:
        return []

    def ref(self, _item: Any) -> ItemRef | None:
        return None


_ITEM_SOURCE: list[ItemSource] = []


def item_source_register(source: ItemSource) -> ItemSource:
    """Set what job items name (one source; registering another one is refused)."""
    if _ITEM_SOURCE and _ITEM_SOURCE[0] is not source:
        raise RuntimeError("An item source is already registered.")
    _ITEM_SOURCE[:] = [source]
    ITEM_NOUN[:] = source.noun
    return source


def item_source() -> ItemSource:
    """The registered source; without one every item id is unknown."""
    return _ITEM_SOURCE[0] if _ITEM_SOURCE else _NoItems()


# -- handlers and step selectors ---------------------------------------------------------------


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
    """Register the selector of the items a step of ``step_type`` still has to work on."""

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
