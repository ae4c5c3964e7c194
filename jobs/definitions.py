"""Task definitions as data (SPEC §5): each task is an ordered list of steps.

The API serves ``task_definitions_public()``; ``jobs.tasks`` reads ``TASK_DEFINITIONS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .models import Scope


@dataclass(frozen=True)
class Step:
    type: str
    priority: int
    # Carry the task's photos into this step (otherwise only step 0 gets items).
    carry_items: bool = False
    # Only photos that still need it: skip the step when none does.
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
    # What a person calls the task, a template: ``{photos}`` ("25 photos", "1 photo"),
    # ``{project}`` (its project's name), ``{destination}`` (``dest_project_id``'s name),
    # ``{projects}`` ("3 projects"). Rendered once, at start (``task_title``).
    title: str = ""

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.allowed_scopes or (self.scope,)


def _count(n: int | None, one: str, many: str) -> str:
    if n is None:
        return many
    return f"{n} {one if n == 1 else many}"


def task_title(
    definition: TaskDefinition | None,
    *,
    task_type: str,
    photos: int | None = None,
    project: str | None = None,
    destination: str | None = None,
    projects: int | None = None,
) -> str:
    """The task's title from its definition's template; unknown counts read as plain nouns
    ("Importing photos"), a task type without a title as its words ("Folder discovery")."""
    template = definition.title if definition is not None else ""
    if not template:
        return task_type.replace("_", " ").capitalize()
    return template.format(
        photos=_count(photos or None, "photo", "photos"),
        project=project or "a project",
        destination=destination or "another project",
        projects=_count(projects or None, "project", "projects"),
    )


RECONCILE = (
    Step("manifest_check", 95),
    Step("folder_check", 95),
    Step("manifest_cleaning", 80),
)
# Previews in the default lane (below PIPELINE_PRIORITY_THRESHOLD, 90): an upload's
# thumbnails, commits and moves never wait behind a shoot's 5000-pixel previews.
PREVIEW_PRIORITY = 50
# The second pass of thumbnails first: previews of the task's photos that still need one.
PREVIEWS = Step("generate_previews", PREVIEW_PRIORITY, carry_items=True, only_if_needed=True)
# A commit that trashed a photo's JPG leaves its derivatives to be made again from what
# remains (the RAW's embedded preview, another image).
REGENERATE = Step("generate_derivatives", 90, carry_items=True, only_if_needed=True)

_DEFINITIONS = [
    TaskDefinition(
        "upload_postprocess",
        Scope.PROJECT,
        (
            Step("upload_postprocess", 90),
            Step("manifest_check", 95),
            Step("folder_check", 95),
            PREVIEWS,
        ),
        description=(
            "Thumbnails and EXIF for uploaded photos, reconcile the project, then previews."
        ),
        title="Importing {photos}",
    ),
    TaskDefinition(
        "change_commit",
        Scope.PROJECT,
        (Step("file_removal", 100), *RECONCILE, REGENERATE),
        description=(
            "Move discarded files of one project to its trash, reconcile, then remake the"
            " derivatives of photos whose JPG went."
        ),
        title="Committing changes in {project}",
    ),
    TaskDefinition(
        "change_commit_all",
        Scope.PHOTO_SET,
        (Step("file_removal", 100), *RECONCILE, REGENERATE),
        description="Commit pending deletes across projects; reconcile only affected projects.",
        title="Committing changes in {projects}",
    ),
    TaskDefinition(
        "generate_derivatives",
        Scope.PHOTO_SET,
        (Step("generate_derivatives", 90),),
        allowed_scopes=(Scope.PHOTO_SET, Scope.PROJECT),
        description="Thumbnails and previews for a selection or a whole project.",
        title="Making previews",
    ),
    TaskDefinition(
        "image_move",
        Scope.PHOTO_SET,
        (
            Step("image_move_files", 95),
            Step("manifest_check", 95),
            Step("generate_derivatives", 90, carry_items=True, only_if_needed=True),
        ),
        description="Move photos to another project (payload dest_project_id).",
        title="Moving {photos} to {destination}",
    ),
    TaskDefinition(
        "photo_restore",
        Scope.PHOTO_SET,
        (Step("photo_restore", 95), REGENERATE),
        description=(
            "Bring photos back from the trash (files, sidecars, same row), then remake"
            " derivatives that are missing."
        ),
    ),
    TaskDefinition(
        "photos_clock_correct",
        Scope.PROJECT,
        (Step("photos_clock_correct", 95),),
        description=(
            "Shift the capture time of one camera's photos in a project (payload camera,"
            " seconds), then regroup its bursts."
        ),
    ),
    TaskDefinition(
        "maintenance",
        Scope.PROJECT,
        (Step("trash_maintenance", 100), *RECONCILE),
        description="Purge old trash and reconcile one project.",
        single_flight=True,
        title="Maintenance of {project}",
    ),
    TaskDefinition(
        "maintenance_global",
        Scope.GLOBAL,
        (
            Step("trash_maintenance", 100),
            Step("export_expiry", 100),
            Step("orphaned_project_cleanup", 99),
            Step("duplicate_resolution", 98),
            Step("folder_alignment", 96),
            *RECONCILE,
        ),
        description="Tenant-wide maintenance: trash, orphans, duplicates, alignment, reconcile.",
        single_flight=True,
        title="Maintenance",
    ),
    TaskDefinition(
        "project_scavenge",
        Scope.PROJECT,
        (Step("project_scavenge", 100),),
        description="Delete the leftover folder of an archived project.",
        title="Clearing the folder of {project}",
    ),
    TaskDefinition(
        "project_scavenge_global",
        Scope.GLOBAL,
        (Step("project_scavenge", 100),),
        description="Delete leftover folders of every archived project of the tenant.",
        single_flight=True,
        title="Clearing archived projects' folders",
    ),
    TaskDefinition(
        "project_delete",
        Scope.PROJECT,
        (
            Step("project_stop_processes", 100),
            Step("project_delete_files", 100),
            Step("project_cleanup_db", 95),
        ),
        description="Stop the project's jobs, delete its folder and rows (row kept archived).",
        title="Deleting {project}",
    ),
    TaskDefinition(
        "folder_discovery",
        Scope.GLOBAL,
        (Step("folder_discovery", 95),),
        description="Create projects for new folders under the tenant root.",
        single_flight=True,
        title="Looking for new folders",
    ),
    TaskDefinition(
        "export",
        Scope.PHOTO_SET,
        (Step("export_files", 50),),
        description="A ZIP of photos, originals or JPEGs (sharing.exports), under EXPORTS_ROOT.",
        title="Exporting {photos}",
    ),
]

TASK_DEFINITIONS: dict[str, TaskDefinition] = {d.type: d for d in _DEFINITIONS}


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
        for d in _DEFINITIONS
    ]


def task_definition_register(definition: TaskDefinition) -> None:
    """Add a task type (plugins and tests); refuses to replace a built-in one."""
    existing = TASK_DEFINITIONS.get(definition.type)
    if existing is not None and existing != definition:
        raise ValueError(f"Task type '{definition.type}' is already defined.")
    TASK_DEFINITIONS[definition.type] = definition
