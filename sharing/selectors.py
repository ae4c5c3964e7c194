"""Reads of share links and picks (SPEC §18): every one starts at ``for_user``.

Another tenant's link id behaves as an id that does not exist (``NotFoundError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from core.errors import ApplicationError, NotFoundError
from core.limits import MAX_ITEMS_PER_JOB
from photos.api.filters import PhotoFilter
from photos.models import Photo
from projects.models import Project

from .models import ShareLink, SharePick

NOT_FOUND = "Share link not found."
PhotoLinks = ShareLink.photos.through


def _count(queryset: QuerySet, field: str) -> Coalesce:
    counted = queryset.order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def shares_for_user(user: Any) -> QuerySet[ShareLink]:
    """The user's tenant's links with their counters, as subqueries of the list's one query:
    ``photo_count``, ``public_count`` (what the client sees), ``picks_count`` (hearts) and
    ``comments_count``."""
    links = PhotoLinks.objects.filter(sharelink_id=OuterRef("pk"))
    picks = SharePick.objects.filter(link_id=OuterRef("pk"))
    return (
        ShareLink.objects.for_user(user)
        .select_related("created_by")
        .annotate(
            photo_count=_count(links, "sharelink_id"),
            public_count=_count(
                links.filter(photo__visibility=Photo.Visibility.PUBLIC), "sharelink_id"
            ),
            picks_count=_count(picks.filter(picked=True), "link_id"),
            comments_count=_count(picks.exclude(comment=""), "link_id"),
        )
    )


def share_get(user: Any, share_id: Any) -> ShareLink:
    """The user's link ``share_id`` with its counters, or ``NotFoundError``."""
    try:
        pk = int(share_id)
    except (TypeError, ValueError):
        raise NotFoundError(NOT_FOUND) from None
    link = shares_for_user(user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if link is None:
        raise NotFoundError(NOT_FOUND)
    return link


def share_photo_ids(link: ShareLink) -> list[int]:
    return list(
        PhotoLinks.objects.filter(sharelink_id=link.pk)
        .order_by("photo_id")
        .values_list("photo_id", flat=True)
    )


def share_picks(link: ShareLink) -> QuerySet[SharePick]:
    """The client's picks and comments of the link, newest first, with their photo's name."""
    return (
        SharePick.objects.filter(link=link)
        .filter(Q(picked=True) | ~Q(comment=""))
        .select_related("photo")
        .order_by("-updated_at", "-id")
    )


def share_picked_photo_ids(link: ShareLink) -> list[int]:
    """The photos of the link that a client picked (a heart, by any client name)."""
    return sorted(
        set(
            SharePick.objects.filter(link=link, picked=True, photo__share_links=link).values_list(
                "photo_id", flat=True
            )
        )
    )


def share_filter_photo_ids(user: Any, *, project_id: int, filters: Mapping[str, Any]) -> list[int]:
    """The ids of the project's photos that the photo list's ``filters`` match (the workspace's
    filter turned into a link). More than ``MAX_ITEMS_PER_JOB`` is refused: a link is made of
    at most that many photos at a time (more are added with PATCH)."""
    project = (
        Project.objects.for_user(user).filter(pk=project_id, status=Project.Status.ACTIVE).first()
    )
    if project is None:
        raise NotFoundError("Project not found.")
    data = {
        str(k): ("true" if v is True else "false" if v is False else str(v))
        for k, v in filters.items()
    }
    data.pop("project", None)
    data.pop("projects", None)
    found = PhotoFilter(data=data, queryset=Photo.objects.filter(project=project))
    if not found.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in found.errors.items())
        raise ApplicationError(f"The filter is not valid ({problems}).")
    ids = list(found.qs.order_by("id").values_list("id", flat=True)[: MAX_ITEMS_PER_JOB + 1])
    if len(ids) > MAX_ITEMS_PER_JOB:
        raise ApplicationError(
            f"The filter matches more than {MAX_ITEMS_PER_JOB} photos; a link is created with "
            f"at most {MAX_ITEMS_PER_JOB} (narrow the filter, or add more photos later)."
        )
    return ids
