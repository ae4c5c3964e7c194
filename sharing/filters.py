"""What ``sharing`` adds to the photo list's filters (registered in ``SharingConfig.ready``).

``picked_by_share=<link id>``: the photos a client picked through that link. The photo list is
already the user's tenant's, so another tenant's link id matches no photo.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from core.limits import MAX_DB_ID

from .models import SharePick


def filter_picked_by_share(queryset: QuerySet, _name: str, value: int | None) -> QuerySet:
    if value is None:
        return queryset
    if not 0 < value <= MAX_DB_ID:
        return queryset.none()
    picked = SharePick.objects.filter(link_id=value, picked=True).values("photo_id")
    return queryset.filter(id__in=picked, share_links__id=value)


def picked_by_share_filter() -> django_filters.Filter:
    return django_filters.NumberFilter(
        method=filter_picked_by_share,
        help_text="the photos a client picked through this share link (its id)",
    )
