"""What each member of a tenant may do (SPEC §14): the one table every entry point reads.

A membership has one of four roles, each allowed everything of the roles below it:

========  ==============================================================================
viewer    read projects and photos, download previews
culler    + keep flags, rating, label, tags
editor    + upload, process, move, commit, revert, restore, rename, visibility, shares,
          exports, starting tasks, canceling and retrying jobs
owner     + delete projects, run maintenance and discovery, manage the tenant's members
========  ==============================================================================

This module is the table, pure data; ``projects.permissions`` answers for a user. The API (a
DRF permission), the admin (``has_*_permission`` and actions), the workspace (which hides what
the role cannot do) and the commands started for a user all ask ``may(user, action)`` or
``require(user, action)``; none keeps a table of its own. A superuser is an owner of every
tenant. A user without a membership may do nothing.
"""

from __future__ import annotations

from django.db import models

from core.errors import AccessDenied


class Role(models.TextChoices):
    """Membership roles, lowest first: each may do what the ones before it may."""

    VIEWER = "viewer", "Viewer"
    CULLER = "culler", "Culler"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"


ROLE_ORDER: tuple[str, ...] = tuple(Role.values)


class Action(models.TextChoices):
    """Every kind of thing a member can ask for, named by the use case."""

    READ = "read", "read projects and photos"
    CULL = "cull", "change keep flags, rating, label and tags"
    UPLOAD = "upload", "upload photos"
    PROCESS = "process", "re-process photos"
    MOVE = "move", "move photos"
    COMMIT = "commit", "commit changes"
    REVERT = "revert", "revert changes"
    RESTORE = "restore", "restore photos from the trash"
    PROJECT_CREATE = "project_create", "create projects"
    PROJECT_RENAME = "project_rename", "rename or archive projects"
    VISIBILITY = "visibility", "change visibility"
    SHARE = "share", "manage share links"
    EXPORT = "export", "export photos"
    TASK_START = "task_start", "start tasks"
    JOB_CONTROL = "job_control", "cancel and retry jobs"
    PROJECT_DELETE = "project_delete", "delete projects"
    MAINTENANCE = "maintenance", "run maintenance and discovery"
    MEMBERS = "members", "manage the studio's members"


# The least role that may take each action (SPEC §14's table).
MIN_ROLE: dict[str, str] = {
    Action.READ: Role.VIEWER,
    Action.CULL: Role.CULLER,
    Action.UPLOAD: Role.EDITOR,
    Action.PROCESS: Role.EDITOR,
    Action.MOVE: Role.EDITOR,
    Action.COMMIT: Role.EDITOR,
    Action.REVERT: Role.EDITOR,
    Action.RESTORE: Role.EDITOR,
    Action.PROJECT_CREATE: Role.EDITOR,
    Action.PROJECT_RENAME: Role.EDITOR,
    Action.VISIBILITY: Role.EDITOR,
    Action.SHARE: Role.EDITOR,
    Action.EXPORT: Role.EDITOR,
    Action.TASK_START: Role.EDITOR,
    Action.JOB_CONTROL: Role.EDITOR,
    Action.PROJECT_DELETE: Role.OWNER,
    Action.MAINTENANCE: Role.OWNER,
    Action.MEMBERS: Role.OWNER,
}

# Task types whose start is a stronger action than "start a task" (by name through
# ``POST /api/tasks/``, ``/api/projects/{id}/jobs/``, ``start_task`` for a user).
TASK_ACTION: dict[str, str] = {
    "upload_postprocess": Action.UPLOAD,
    "generate_derivatives": Action.PROCESS,
    "photos_clock_correct": Action.PROCESS,
    "image_move": Action.MOVE,
    "change_commit": Action.COMMIT,
    "change_commit_all": Action.COMMIT,
    "photo_restore": Action.RESTORE,
    "maintenance": Action.MAINTENANCE,
    "maintenance_global": Action.MAINTENANCE,
    "project_scavenge": Action.MAINTENANCE,
    "project_scavenge_global": Action.MAINTENANCE,
    "folder_discovery": Action.MAINTENANCE,
    "project_delete": Action.PROJECT_DELETE,
    "export": Action.EXPORT,
}


class RoleRequired(AccessDenied):
    """The user's role does not allow the action (the API answers 403).

    Not an ``ApplicationError``: refusing a permission is not a domain outcome of the use case,
    and every adapter maps it to its own "permission denied" (DRF's ``PermissionDenied``, the
    admin's message, a command's error).
    """

    def __init__(self, action: str, role: str | None) -> None:
        label = Action(action).label if action in Action.values else action
        if role is None:
            message = f"You are not a member of a studio, so you may not {label}."
        else:
            message = f"Your role ({role}) may not {label}."
        super().__init__(message)
        self.action = action
        self.role = role


def role_allows(role: str | None, action: str) -> bool:
    """Whether ``role`` may take ``action`` (unknown actions are refused: fail closed)."""
    if role is None or role not in ROLE_ORDER:
        return False
    needed = MIN_ROLE.get(action)
    if needed is None:
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed)


def task_action(task_type: str) -> str:
    """The action that starting a task of ``task_type`` for a user is."""
    return TASK_ACTION.get(task_type, Action.TASK_START)
