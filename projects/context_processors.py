"""Template context: what the signed-in user's role may do (``projects.roles``).

Templates ask ``{% if may.read %}`` instead of a model permission, so a link is shown exactly
when the page behind it would open for that role. Lazy: pages that never ask run no query.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import capabilities


def role_capabilities(request: HttpRequest) -> dict[str, Any]:
    return {"may": SimpleLazyObject(lambda: capabilities(request.user))}
