"""Photo write paths: culling (keep flags, tags), commit and revert, file removal, restore,
move, process.

The REST API, the admin and the job handlers call these functions; import them from here.
Reads (pending totals, what a commit would trash, the photos a user may act on) are in
``photos.selectors``; ``pending_totals`` and ``photos_pending_deletes`` stay importable here.
"""

from photos.selectors import pending_totals, photos_pending_deletes

from .bulk import photos_keep_update, photos_tags_add, photos_tags_remove
from .commit import photos_commit, project_commit
from .move import photo_move_files, photos_move
from .process import photos_process, project_process
from .rating import photos_rating_update
from .removal import photo_file_removal, photos_file_removal
from .restore import photo_restore_files, photos_restore
from .revert import photos_revert, project_revert
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
