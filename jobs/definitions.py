"""Task definitions as data (SPEC §5): each task is an ordered list of steps.

The engine holds the shape (``TaskDefinition``, ``Step``) and the table; the apps register the
catalogue (``jobs.registry.task_definitions_register``). The API serves
``task_definitions_public()``; ``jobs.tasks`` reads ``TASK_DEFINITIONS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    type: str
    priority: int
    # Carry the task's items into this step (otherwise only step 0 gets items).
    carry_items: bool = False
    # Only items that still need it (the step selector's answer): skip the step when none does.
    only_if_needed: bool = False


@dataclass(frozen=True)
class TaskDefinition:
    type: str
    scope: str
    steps: tuple[Step, ...]
    allowed_scopes: tuple[str, ...] = ()
    description: str = ""
    single_flight: bool = False
    extra: dict = field(default_factory=dict)
    # What a person calls the task, a template: the item source's plural noun in braces (a
    # count and the noun: "25 <items>", "1 <item>"), ``{project}`` (its project's name), ``{destination}`` (``dest_project_id``'s name),
    # ``{projects}`` ("3 projects"). Rendered once, at start (``task_title``).
    title: str = ""
    # Why the task starts only through its own use case, never by name (``task_start``).
    not_startable_by_name: str = ""

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.allowed_scopes or (self.scope,)


# What one job item and several are called; ``jobs.registry.item_source_register`` sets the
# source's noun here, so titles read without the registry.
ITEM_NOUN: list[str] = ["item", "items"]


def _count(n: int | None, one: str, many: str) -> str:
    if n is None:
        return many
    return f"{n} {one if n == 1 else many}"


def task_title(
    definition: TaskDefinition | None,
    *,
    task_type: str,
    items: int | None = None,
    noun: tuple[str, str] | None = None,
    project: str | None = None,
    destination: str | None = None,
    projects: int | None = None,
) -> str:
    """The task's title from its definition's template; the placeholder of the items count is
    the plural noun (``{<items>}``); unknown counts read as plain nouns (``Importing <items>``),
    a task type without a title as its words ("Folder discovery").
    ``noun`` is what one item and several are called (by default the item source's)."""
    template = definition.title if definition is not None else ""
    if not template:
        return task_type.replace("_", " ").capitalize()
    one, many = noun or ITEM_NOUN
    return template.format(
        **{many: _count(items or None, one, many)},
        project=project or "a project",
        destination=destination or "another project",
        projects=_count(projects or None, "project", "projects"),
    )


# Filled by the apps through ``jobs.registry.task_definitions_register``.
TASK_DEFINITIONS: dict[str, TaskDefinition] = {}


def payload_title(payload: Any, task_type: str | None = None) -> str | None:
    """A task's title from its payload (the task's, or any of its jobs', whose ``type`` is the
    task's): set at start; tasks started before titles existed read their type's template
    with no counts."""
    if not isinstance(payload, dict):
        payload = {}
    title = payload.get("title")
    if isinstance(title, str) and title:
        return title
    task_type = task_type or payload.get("type")
    if not isinstance(task_type, str) or not task_type:
        return None
    return task_title(TASK_DEFINITIONS.get(task_type), task_type=task_type)


def task_definitions_public() -> list[dict]:
    """The definitions as plain data, for the API."""
    return [
        {
            "type": d.type,
            "title": d.title,
            "scope": d.scope,
            "allowed_scopes": list(d.scopes),
            "description": d.description,
            "single_flight": d.single_flight,
            "steps": [asdict(step) for step in d.steps],
        }
        for d in TASK_DEFINITIONS.values()
    ]
