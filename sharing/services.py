"""Write paths of share links (SPEC §18): create, change, revoke, apply the client's picks.

Visibility is the master switch: a link shows only its photos that are ``public``, so creating
a link (or adding photos to one) makes the chosen photos public through
``photos_visibility_update``, in the same transaction as the link (one write path, ``item``
events). The token is made here and returned once (``ShareCreated.token``); only its SHA-256
is stored. A password is stored with Django's hasher. Every change writes its event
(``sharing.events``) in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, ConflictError, NoValidItems, PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from jobs.events import events_record_bulk
from photos.models import Photo
from photos.selectors import acting_tenant_id, photos_visible
from photos.services import (
    photos_keep_update,
    photos_rating_update,
    photos_visibility_update,
)
from photos.services.results import BulkUpdated

from .events import share_created_event, share_revoked_event, share_updated_event
from .models import ShareLink
from .selectors import share_get, share_picked_photo_ids

PUBLIC = Photo.Visibility.PUBLIC
# What a link's fields may hold (the model's limits, checked before anything is written).
TITLE_MAX = 200
MESSAGE_MAX = 5000
WATERMARK_MAX = 120
PASSWORD_MAX = 128
# What ``share_update`` may change besides the photos.
EDITABLE = ("title", "message", "expires_at", "downloads", "watermark", "allow_picks", "password")
APPLY_KEEP = ("keep_jpg", "keep_raw")
APPLY_RATING = ("rating", "label")


@dataclass(frozen=True)
class ShareCreated:
    """A link made (``link``, ``token`` shown once), or in a dry run only what it would hold.

    ``photo_ids`` are the link's photos; ``would_become_public`` those that were private (made
    public now, or in a dry run that would be); ``errors`` the ids refused (not found).
    """

    photo_ids: list[int]
    would_become_public: list[int]
    errors: list[dict[str, Any]] = field(default_factory=list)
    link: ShareLink | None = None
    token: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.link is None


@dataclass(frozen=True)
class ShareUpdated:
    link: ShareLink
    changed: list[str]
    added: list[int]
    removed: list[int]
    made_public: list[int]
    errors: list[dict[str, Any]] = field(default_factory=list)


def _actor(user: Any) -> int | None:
    return getattr(user, "pk", None)


def _expiry_check(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("expires_at must be in the future.")


def _downloads_check(downloads: str) -> None:
    if downloads not in ShareLink.Downloads.values:
        raise ApplicationError(f"downloads must be one of {', '.join(ShareLink.Downloads.values)}.")


def _photos_resolve(
    user: Any, photo_ids: Iterable[Any], *, tenant_id: int | None = None
) -> tuple[dict[int, Photo], list[dict[str, Any]]]:
    """The user's photos among ``photo_ids`` (one tenant's), and an error per id not found."""
    ids: list[int] = []
    errors: list[dict[str, Any]] = []
    for value in photo_ids:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
            ids.append(value)
        else:
            errors.append({"photo_id": value, "error": "Photo not found."})
    if len(ids) > MAX_ITEMS_PER_JOB:
        raise PayloadTooLarge(len(ids))
    found = list(
        photos_visible(user, set(ids))
        .select_related("project")
        .only("id", "visibility", "project_id", "project__tenant_id")
    )
    if tenant_id is None:
        tenant_id = acting_tenant_id(user, [p.project.tenant_id for p in found])
    photos = {p.pk: p for p in found if p.project.tenant_id == tenant_id}
    seen: set[int] = set()
    for pid in ids:
        if pid not in photos and pid not in seen:
            errors.append({"photo_id": pid, "error": "Photo not found."})
        seen.add(pid)
    return photos, errors


def _make_public(user: Any, photos: dict[int, Photo], ids: Iterable[int]) -> list[int]:
    """Make the private ones of ``ids`` public (the visibility service: locks, ``item``
    events); the ids changed."""
    private = sorted(pid for pid in set(ids) if photos[pid].visibility != PUBLIC)
    if private:
        done = photos_visibility_update(
            user=user, items=[{"photo_id": pid, "visibility": PUBLIC} for pid in private]
        )
        if done.errors:  # A photo gone between the read and the write: refuse the whole link.
            raise ApplicationError(f"Photo {done.errors[0]['photo_id']}: {done.errors[0]['error']}")
    return private


def share_create(
    *,
    user: Any,
    title: str,
    photo_ids: list[Any],
    message: str = "",
    expires_at: datetime | None = None,
    password: str = "",
    downloads: str = ShareLink.Downloads.NONE,
    watermark: str = "",
    allow_picks: bool = True,
    dry_run: bool = False,
) -> ShareCreated:
    """Make a link of the user's photos ``photo_ids`` and make them public, all in one
    transaction; a dry run answers which photos would become public and writes nothing.

    Ids not found (another tenant's, archived, trashed, malformed) come back in ``errors``
    while the others are linked; none found at all is refused (``NoValidItems``). The token
    is returned once, never stored: only its hash is.
    """
    title = (title or "").strip()
    if not title:
        raise ApplicationError("A link needs a title.")
    if len(title) > TITLE_MAX or len(message) > MESSAGE_MAX or len(watermark) > WATERMARK_MAX:
        raise ApplicationError("The title, message or watermark is too long.")
    if len(password) > PASSWORD_MAX:
        raise ApplicationError(f"A password is at most {PASSWORD_MAX} characters.")
    _expiry_check(expires_at)
    _downloads_check(downloads)
    with transaction.atomic():
        photos, errors = _photos_resolve(user, photo_ids)
        if not photos:
            raise NoValidItems("No photo of the selection was found.", errors)
        ids = sorted(photos)
        private = sorted(pid for pid in ids if photos[pid].visibility != PUBLIC)
        if dry_run:
            return ShareCreated(photo_ids=ids, would_become_public=private, errors=errors)
        tenant_id = next(iter(photos.values())).project.tenant_id
        link = ShareLink(
            tenant_id=tenant_id,
            title=title,
            message=message,
            password=make_password(password) if password else "",
            downloads=downloads,
            watermark=watermark,
            allow_picks=allow_picks,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if expires_at is not None:
            link.expires_at = expires_at
        token = link.token_set()
        link.save()
        link.photos.add(*ids)
        made_public = _make_public(user, photos, ids)
        events_record_bulk(
            [
                share_created_event(
                    link, photo_count=len(ids), made_public=len(made_public), actor_id=_actor(user)
                )
            ]
        )
    return ShareCreated(
        photo_ids=ids, would_become_public=made_public, errors=errors, link=link, token=token
    )


def _changes_check(changes: dict[str, Any]) -> None:
    """Refuse a field ``share_update`` cannot change or a bad value; strip the title in place."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"] or len(changes["title"]) > TITLE_MAX:
            raise ApplicationError(f"A title has 1 to {TITLE_MAX} characters.")
    if "expires_at" in changes:
        if changes["expires_at"] is None:
            raise ApplicationError("expires_at cannot be empty.")
        _expiry_check(changes["expires_at"])
    if "downloads" in changes:
        _downloads_check(changes["downloads"])


def share_update(
    *,
    user: Any,
    share_id: Any,
    changes: dict[str, Any],
    add_photo_ids: list[Any] | None = None,
    remove_photo_ids: list[Any] | None = None,
) -> ShareUpdated:
    """Change a link's fields (``EDITABLE``; ``password`` "" removes it) and its photos.

    Added photos become public (as at creation); removed photos keep their visibility, since
    another link may show them. A revoked link cannot change (``ConflictError``): it is a
    record now. The link's row is locked while it changes.
    """
    _changes_check(changes)
    with transaction.atomic():
        found = share_get(user, share_id)
        link = ShareLink.objects.select_for_update().get(pk=found.pk)
        if link.revoked_at is not None:
            raise ConflictError("This link is revoked; make a new one.")
        changed: list[str] = []
        for name, value in changes.items():
            if name == "password":
                link.password = make_password(value) if value else ""
                changed.append(name)
            elif getattr(link, name) != value:
                setattr(link, name, value)
                changed.append(name)
        current = set(link.photos.values_list("id", flat=True))
        errors: list[dict[str, Any]] = []
        added: list[int] = []
        made_public: list[int] = []
        if add_photo_ids:
            photos, errors = _photos_resolve(user, add_photo_ids, tenant_id=link.tenant_id)
            added = sorted(set(photos) - current)
            link.photos.add(*added)
            made_public = _make_public(user, photos, photos)
        removed: list[int] = []
        if remove_photo_ids:
            wanted = {v for v in remove_photo_ids if isinstance(v, int)}
            removed = sorted(wanted & current)
            link.photos.remove(*removed)
        if changed:
            link.save(update_fields=[*changed, "updated_at"])
        elif added or removed:
            link.save(update_fields=["updated_at"])
        if changed or added or removed:
            events_record_bulk(
                [
                    share_updated_event(
                        link,
                        changed=changed,
                        added=len(added),
                        removed=len(removed),
                        actor_id=_actor(user),
                    )
                ]
            )
    return ShareUpdated(
        link=link,
        changed=changed,
        added=added,
        removed=removed,
        made_public=made_public,
        errors=errors,
    )


def share_revoke(*, user: Any, share_id: Any) -> ShareLink:
    """Revoke a link: ``revoked_at`` set, and the gallery answers 404 from the next request
    (it reads ``ShareLink.objects.live()``). Revoking a revoked link changes nothing."""
    with transaction.atomic():
        found = share_get(user, share_id)
        link = ShareLink.objects.select_for_update().get(pk=found.pk)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at", "updated_at"])
            events_record_bulk([share_revoked_event(link, actor_id=_actor(user))])
    return link


def share_picks_apply(
    *, user: Any, share_id: Any, values: dict[str, Any], dry_run: bool = False
) -> BulkUpdated:
    """Apply ``values`` (``keep_jpg``, ``keep_raw``, ``rating``, ``label``) to every photo of
    the link a client picked, through the keep and rating services (their checks, events,
    XMP sidecars). Picks never change a photo by themselves: this is the editor's one action,
    and its dry run answers per photo what would change.

    ``updated`` counts photos that changed (once, whatever number of fields changed).
    """
    keep = {k: values[k] for k in APPLY_KEEP if k in values}
    rating = {k: values[k] for k in APPLY_RATING if k in values}
    if not keep and not rating:
        raise ApplicationError(f"Name at least one of {', '.join(APPLY_KEEP + APPLY_RATING)}.")
    link = share_get(user, share_id)
    photo_ids = share_picked_photo_ids(link)
    steps = []
    if keep:
        # A flag only for a file the photo has: "keep the JPG" of a RAW-only photo would make a
        # keep mismatch, not a keep.
        present = Photo.objects.filter(pk__in=photo_ids).values_list(
            "pk", "jpg_available", "raw_available"
        )
        keep_items = []
        for pid, jpg, raw in present:
            flags = {k: v for k, v in keep.items() if (jpg if k == "keep_jpg" else raw)}
            if flags:
                keep_items.append({"photo_id": pid, **flags})
        steps.append((photos_keep_update, keep_items))
    if rating:
        steps.append((photos_rating_update, [{"photo_id": pid, **rating} for pid in photo_ids]))
    # What would change, per photo (both services' dry runs merged): the reply of a dry run,
    # and the count of photos an applied change touched.
    would: dict[int, dict[str, Any]] = {pid: {} for pid in photo_ids}
    errors: list[dict[str, Any]] = []
    for service, items in steps:
        dry = service(user=user, items=items, dry_run=True)
        errors += dry.errors
        for row in dry.per_item or []:
            would.setdefault(row["photo_id"], {}).update(row.get("would_update", {}))
    changing = [pid for pid, diff in would.items() if diff]
    if dry_run:
        per_item = [{"photo_id": pid, "would_update": diff} for pid, diff in would.items()]
        return BulkUpdated(updated=len(changing), errors=errors, per_item=per_item)
    with transaction.atomic():
        applied: list[dict[str, Any]] = []
        for service, items in steps:
            applied += service(user=user, items=items).errors
    return BulkUpdated(updated=len(changing), errors=applied, per_item=None)
