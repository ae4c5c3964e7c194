"""The API's role check (SPEC §14): every request names its action, and the role decides.

``RolePermission`` is the default permission of every API view (``REST_FRAMEWORK`` in
settings). A view declares what each of its actions is in ``role_actions``, keyed by the
viewset action (``"create"``, ``"commit_changes"``) or, for a plain ``APIView``, by the lower-case
HTTP method (``"post"``). A value is an ``Action`` or a function of the request that returns one
(``POST /api/tasks/``: the action of the task type in the body). Reads (GET, HEAD, OPTIONS) are
always ``Action.READ`` (an action that answers GET and POST, such as a project's ``jobs``,
declares its POST). A write the view does not declare is refused, so a
new endpoint without a declaration fails closed (``tests/test_roles.py`` also checks that every
URL's actions are declared).

The answer is ``projects.permissions.require``: the same table the admin and the workspace
read. A refusal raises ``RoleRequired``, which ``core.api.exceptions`` turns into a 403 with the
refusal's text. The check runs in DRF's ``initial()``, before the throttles and before the view
reads the body (an upload is refused before its files are parsed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from projects.permissions import require
from projects.roles import Action, task_action

RoleActionSpec = str | Callable[[Request], str]
# Not an ``Action``: ``role_allows`` refuses it, for every role and for superusers alike.
UNDECLARED = "undeclared"


def view_action_key(request: Request, view: Any) -> str:
    """What the view calls this request: the viewset action, else the HTTP method."""
    return getattr(view, "action", None) or (request.method or "").lower()


def view_role_action(request: Request, view: Any) -> str:
    """The ``Action`` this request asks for (``UNDECLARED`` when the view does not say)."""
    if request.method in SAFE_METHODS:
        return Action.READ
    declared: Mapping[str, RoleActionSpec] = getattr(view, "role_actions", {}) or {}
    spec = declared.get(view_action_key(request, view))
    if spec is None:
        return UNDECLARED
    return spec(request) if callable(spec) else spec


def task_type_action(request: Request) -> str:
    """The action of starting the task type named in the body (``projects.roles.task_action``)."""
    data = request.data
    task_type = data.get("task_type") if isinstance(data, Mapping) else None
    return task_action(task_type if isinstance(task_type, str) else "")


class RolePermission(BasePermission):
    """Allow the request only if the user's role may take the view's action (SPEC §14)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 with the authentication challenge.
        if not hasattr(view, (request.method or "").lower()):
            return True  # No handler: the view answers 405 and does nothing.
        action = view_role_action(request, view)
        if action == UNDECLARED:
            raise PermissionDenied("This endpoint does not declare its action; refused.")
        require(user, action)
        return True
