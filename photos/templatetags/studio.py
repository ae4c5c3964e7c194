"""``{% studio_home as home %}``: the studio home's numbers for the signed-in member, for the
admin index (templates/admin/index.html). A thin adapter over ``photos.selectors``."""

from __future__ import annotations

from typing import Any

from django import template

from photos.selectors import StudioHome, studio_home
from projects.models import tenant_id_for_user

register = template.Library()


@register.simple_tag(takes_context=True)
def studio_home_for(context: dict[str, Any]) -> StudioHome | None:
    """``None`` for a user of no studio (a superuser operator): the index stays operational."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or tenant_id_for_user(user) is None:
        return None
    return studio_home(user=user)
