"""The product's catalogue of tasks (SPEC §5, §6) and what the engine needs to know of photos.

``PhotosConfig.ready`` registers it all with the engine (``jobs.registry``): the task
definitions (photo tasks and the project tasks that touch photo files), the schedules of the
tenant-wide tasks, the event types the apps write, the item source (job items name photos)
and the root of the files (error texts show paths relative to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from jobs.definitions import Step, TaskDefinition
from jobs.events import EventType
from jobs.exceptions import ScopeError
from jobs.models import Scope
from jobs.registry import (
    ItemRef,
    ScheduleSpec,
    event_types_register,
    files_root_register,
    item_source_register,
    schedule_register,
    task_definitions_register,
)
from projects.models import Tenant

from .models import Photo

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

DEFINITIONS = (
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
        Scope.ITEM_SET,
        (Step("file_removal", 100), *RECONCILE, REGENERATE),
        description="Commit pending deletes across projects; reconcile only affected projects.",
        title="Committing changes in {projects}",
    ),
    TaskDefinition(
        "generate_derivatives",
        Scope.ITEM_SET,
        (Step("generate_derivatives", 90),),
        allowed_scopes=(Scope.ITEM_SET, Scope.PROJECT),
        description="Thumbnails and previews for a selection or a whole project.",
        title="Making previews",
    ),
    TaskDefinition(
        "image_move",
        Scope.ITEM_SET,
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
        Scope.ITEM_SET,
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
        # Deleting a project also archives it and frees its folder name
        # (``photos.project_deletion.project_delete``).
        not_startable_by_name="A project_delete task starts only by deleting its project.",
    ),
    TaskDefinition(
        "folder_discovery",
        Scope.GLOBAL,
        (Step("folder_discovery", 95),),
        description="Create projects for new folders under the tenant root.",
        single_flight=True,
        title="Looking for new folders",
    ),
)


SCHEDULES = (
    ScheduleSpec(
        "pipeline: maintenance_global",
        "jobs.scheduling.scheduled_task_start",
        "PIPELINE_MAINTENANCE_INTERVAL_MINUTES",
        "'maintenance_global'",
    ),
    ScheduleSpec(
        "pipeline: project_scavenge_global",
        "jobs.scheduling.scheduled_task_start",
        "PIPELINE_SCAVENGE_INTERVAL_MINUTES",
        "'project_scavenge_global'",
    ),
    ScheduleSpec(
        "pipeline: folder_discovery",
        "jobs.scheduling.scheduled_task_start",
        "PIPELINE_DISCOVERY_INTERVAL_MINUTES",
        "'folder_discovery'",
    ),
)

# The event types photos and projects write (the engine writes the ``job_*`` ones).
EVENT_TYPES = (
    EventType.ITEM,
    EventType.ITEM_REMOVED,
    EventType.ITEM_MOVED,
    EventType.MANIFEST_CHANGED,
    EventType.FOLDER_RENAMED,
    EventType.PROJECT_DISCOVERED,
    EventType.PROJECT_ARCHIVED,
    EventType.PROJECT_REMOVED,
    EventType.PROJECT_FOLDER_KEPT,
    EventType.UNACCEPTED_FILES,
    EventType.PENDING_CHANGES,
)


class PhotoItems:
    """Job items name photos: a photo id, its base name as label, its project as group."""

    noun = ("photo", "photos")
    # What handlers read on ``JobItem.item``: the photo and its project (folder paths).
    related: tuple[str, ...] = ("photo", "photo__project")
    label_field = "basename"
    admin_url = "admin:photos_photo_change"

    def resolve(
        self, tenant: Tenant | int, ids: Sequence[int], *, hidden: bool = True
    ) -> list[ItemRef]:
        # ``all_objects``: every row, trashed ones too (a restore names them).
        manager = Photo.all_objects if hidden else Photo.objects
        return [
            ItemRef(pk, basename, project_id)
            for pk, basename, project_id in manager.for_tenant(tenant)
            .filter(pk__in=list(ids))
            .values_list("pk", "basename", "project_id")
        ]

    def ref(self, item: Any) -> ItemRef | None:
        if isinstance(item, Photo):
            return ItemRef(item.pk, item.basename, item.project_id)
        if isinstance(item, dict):
            if item.get("photo_id") is None and not item.get("basename"):
                raise ScopeError(f"A job item needs a photo_id or a basename, got {item!r}.")
            return ItemRef(item.get("photo_id"), item.get("basename"), item.get("project_id"))
        return None


PHOTO_ITEMS = PhotoItems()


def photos_root() -> object:
    return settings.PHOTOS_ROOT


def register() -> None:
    """Hand the engine the catalogue (``PhotosConfig.ready``; running it twice is a no-op)."""
    task_definitions_register(*DEFINITIONS)
    for spec in SCHEDULES:
        schedule_register(spec)
    event_types_register("photos", *EVENT_TYPES)
    item_source_register(PHOTO_ITEMS)
    files_root_register(photos_root)
