"""What a client does through a link, each in one function that also writes its event:
a pick (heart and comment), a view of the gallery, a download. Counters move with ``F()``
expressions, so concurrent requests never lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from core.errors import ApplicationError, NotFoundError
from jobs.events import events_record_bulk
from jobs.models import JobItem, JobItemStatus
from sharing import events
from sharing.models import Export, ShareLink, SharePick

from .selectors import gallery_photo

COMMENT_MAX_CHARS = 2000
NAME_MAX_CHARS = 120


class PicksClosed(ApplicationError):
    """The link does not take picks (``allow_picks`` is off)."""


class PickInvalid(ApplicationError):
    """A pick's comment or name is too long."""


@dataclass(frozen=True)
class PickResult:
    photo_id: int
    picked: bool
    comment: str
    client_name: str


def share_pick_set(
    *,
    link: ShareLink,
    photo_id: int,
    picked: bool,
    comment: str | None = None,
    client_name: str = "",
) -> PickResult:
    """Set one client's heart (and comment, when given) on a photo of ``link``.

    The photo must be one the link shows (in it, public, not trashed); any other id, another
    tenant's included, is ``NotFoundError``, the same as an id that does not exist. One row per
    link, photo and client name; ``comment=None`` keeps the comment there is.
    """
    if not link.allow_picks:
        raise PicksClosed("This gallery does not take picks.")
    name = (client_name or "").strip()
    if len(name) > NAME_MAX_CHARS:
        raise PickInvalid(f"A name has at most {NAME_MAX_CHARS} characters.")
    if comment is not None and len(comment) > COMMENT_MAX_CHARS:
        raise PickInvalid(f"A comment has at most {COMMENT_MAX_CHARS} characters.")
    photo = gallery_photo(link, photo_id)
    if photo is None:
        raise NotFoundError("Photo not found.")
    with transaction.atomic():
        pick, created = SharePick.objects.select_for_update().get_or_create(
            link=link,
            photo=photo,
            client_name=name,
            defaults={"picked": picked, "comment": comment or ""},
        )
        if not created:
            pick.picked = picked
            if comment is not None:
                pick.comment = comment
            pick.save(update_fields=["picked", "comment", "updated_at"])
        event = events.share_pick(
            tenant_id=link.tenant_id,
            share_id=link.pk,
            project_id=photo.project_id,
            photo_id=photo.pk,
            picked=pick.picked,
            comment=pick.comment,
            client_name=name,
        )
        events_record_bulk([event])
    return PickResult(photo_id=photo.pk, picked=pick.picked, comment=pick.comment, client_name=name)


def share_view_record(*, link: ShareLink) -> None:
    """Count one opening of the gallery page."""
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)
        events_record_bulk(
            [events.share_viewed(tenant_id=link.tenant_id, share_id=link.pk, title=link.title)]
        )


def share_download_record(
    *,
    link: ShareLink,
    kind: str,
    photo_ids: list[int],
    client_name: str = "",
    project_id: int | None = None,
    export_id: int | None = None,
) -> None:
    """Count one download (one file, one ZIP of picks, or an export of the link) through
    ``link``."""
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(download_count=F("download_count") + 1)
        event = events.share_downloaded(
            tenant_id=link.tenant_id,
            share_id=link.pk,
            kind=kind,
            photo_ids=photo_ids,
            client_name=client_name[:NAME_MAX_CHARS],
            project_id=project_id,
            export_id=export_id,
        )
        events_record_bulk([event])


def share_export_download_record(*, link: ShareLink, export: Export, client_name: str = "") -> None:
    """Count one download of ``export`` (an export made of ``link``) through the link; the
    event names the photos the export holds (its job's items done, one query)."""
    photo_ids = [
        pid
        for pid in JobItem.objects.filter(job__task_id=export.task_id, status=JobItemStatus.DONE)
        .order_by("id")
        .values_list("photo_id", flat=True)
        if pid is not None
    ]
    share_download_record(
        link=link,
        kind="export",
        photo_ids=photo_ids,
        client_name=client_name,
        export_id=export.pk,
    )
