"""Whether a user may take an action: ``projects.roles``'s table applied to their membership."""

from __future__ import annotations

from typing import Any

from .models import role_of
from .roles import Action, RoleRequired, role_allows


def may(user: Any, action: str) -> bool:
    return role_allows(role_of(user), action)


def require(user: Any, action: str) -> None:
    """Raise ``RoleRequired`` unless ``user`` may take ``action``."""
    role = role_of(user)
    if not role_allows(role, action):
        raise RoleRequired(action, role)


def capabilities(user: Any) -> dict[str, bool]:
    """Every action and whether ``user`` may take it: what a client shows or hides."""
    role = role_of(user)
    return {action: role_allows(role, action) for action in Action.values}
