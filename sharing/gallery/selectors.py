"""What a link shows: its photos that are public, live (not trashed) and of an active project
of the link's tenant. Visibility is the master switch: a photo made private leaves every
link at once, since every request goes through here."""

from __future__ import annotations

from django.db.models import QuerySet

from photos.models import Photo
from projects.models import Project
from sharing.models import ShareLink, SharePick


def gallery_photos(link: ShareLink) -> QuerySet[Photo]:
    return (
        Photo.objects.for_tenant(link.tenant)
        .filter(
            share_links=link,
            visibility=Photo.Visibility.PUBLIC,
            project__status=Project.Status.ACTIVE,
        )
        .select_related("project__tenant")
        .order_by("taken_at", "basename", "id")
    )


def gallery_photo(link: ShareLink, photo_id: int) -> Photo | None:
    return gallery_photos(link).filter(pk=photo_id).first()


def gallery_picks(link: ShareLink, *, client_name: str) -> dict[int, SharePick]:
    """The picks and comments of one client (by the name typed) on ``link``, by photo id."""
    rows = SharePick.objects.filter(link=link, client_name=client_name)
    return {pick.photo_id: pick for pick in rows}
