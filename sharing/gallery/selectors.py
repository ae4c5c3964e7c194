"""What a link shows: its photos that are public, live (not trashed) and of an active project
of the link's tenant. Visibility is the master switch: a photo made private leaves every
link at once, since every request goes through here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from photos.models import Photo
from projects.models import Project
from sharing.models import Export, ShareLink, SharePick

# Which exports a link's downloads let a client fetch: originals only with ``original``; JPEG
# renditions (resized, optionally watermarked) with ``preview`` or ``original``.
EXPORT_KINDS_BY_DOWNLOADS: dict[str, tuple[str, ...]] = {
    ShareLink.Downloads.NONE: (),
    ShareLink.Downloads.PREVIEW: (Export.Kind.JPEG,),
    ShareLink.Downloads.ORIGINAL: (Export.Kind.JPEG, Export.Kind.ORIGINALS),
}


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


def gallery_exports(link: ShareLink) -> QuerySet[Export]:
    """The exports a client may download through ``link``: made of this link (``Export.share``),
    of its tenant, completed and not past ``expires_at`` (maintenance may not have run yet),
    of a kind the link's downloads allow; newest first."""
    kinds = EXPORT_KINDS_BY_DOWNLOADS.get(link.downloads, ())
    return (
        Export.objects.for_tenant(link.tenant)
        .filter(
            share=link,
            kind__in=kinds,
            status=Export.Status.COMPLETED,
            expires_at__gt=timezone.now(),
        )
        .select_related("tenant")
        .order_by("-completed_at", "-id")
    )


def gallery_export(link: ShareLink, export_id: int) -> Export | None:
    return gallery_exports(link).filter(pk=export_id).first()
