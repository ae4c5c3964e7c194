"""Photo write paths: culling (keep flags, tags), commit and revert, restore, move, process.

The REST API, the admin and the job handlers call these functions; import them from here.
"""

from .bulk import photos_keep_update, photos_tags_add, photos_tags_remove
from .commit import (
    pending_totals,
    photo_file_removal,
    photos_commit,
    photos_file_removal,
    photos_pending_deletes,
    photos_revert,
    project_commit,
    project_revert,
)
from .move import photo_move_files, photos_move
from .process import photos_process, project_process
from .rating import photos_rating_update
from .restore import photo_restore_files, photos_restore
from .visibility import photos_visibility_update

__all__ = [
    "pending_totals",
    "photo_file_removal",
    "photos_file_removal",
    "photo_move_files",
    "photos_commit",
    "photos_keep_update",
    "photos_move",
    "photos_pending_deletes",
    "photos_process",
    "photos_rating_update",
    "photos_restore",
    "photo_restore_files",
    "photos_revert",
    "photos_tags_add",
    "photos_tags_remove",
    "photos_visibility_update",
    "project_commit",
    "project_process",
    "project_revert",
]
