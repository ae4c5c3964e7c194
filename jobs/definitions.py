"""Task definitions as data (SPEC §5): each task is an ordered list of steps.

The API serves ``task_definitions_public()``; ``jobs.tasks`` reads ``TASK_DEFINITIONS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.allowed_scopes or (self.scope,)


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
    ),
    TaskDefinition(
        "change_commit",
        Scope.PROJECT,
        (Step("file_removal", 100), *RECONCILE, REGENERATE),
        description=(
            "Move discarded files of one project to its trash, reconcile, then remake the"
            " derivatives of photos whose JPG went."
        ),
    ),
    TaskDefinition(
        "change_commit_all",
        Scope.PHOTO_SET,
        (Step("file_removal", 100), *RECONCILE, REGENERATE),
        description="Commit pending deletes across projects; reconcile only affected projects.",
    ),
    TaskDefinition(
        "generate_derivatives",
        Scope.PHOTO_SET,
        (Step("generate_derivatives", 90),),
        allowed_scopes=(Scope.PHOTO_SET, Scope.PROJECT),
        description="Thumbnails and previews for a selection or a whole project.",
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
    ),
    TaskDefinition(
        "maintenance_global",
        Scope.GLOBAL,
        (
            Step("trash_maintenance", 100),
            Step("orphaned_project_cleanup", 99),
            Step("duplicate_resolution", 98),
            Step("folder_alignment", 96),
            *RECONCILE,
        ),
        description="Tenant-wide maintenance: trash, orphans, duplicates, alignment, reconcile.",
        single_flight=True,
    ),
    TaskDefinition(
        "project_scavenge",
        Scope.PROJECT,
        (Step("project_scavenge", 100),),
        description="Delete the leftover folder of an archived project.",
    ),
    TaskDefinition(
        "project_scavenge_global",
        Scope.GLOBAL,
        (Step("project_scavenge", 100),),
        description="Delete leftover folders of every archived project of the tenant.",
        single_flight=True,
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
    ),
    TaskDefinition(
        "folder_discovery",
        Scope.GLOBAL,
        (Step("folder_discovery", 95),),
        description="Create projects for new folders under the tenant root.",
        single_flight=True,
    ),
]

TASK_DEFINITIONS: dict[str, TaskDefinition] = {d.type: d for d in _DEFINITIONS}


def task_definitions_public() -> list[dict]:
    """The definitions as plain data, for the API."""
    return [
        {
            "type": d.type,
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
