"""Culling write paths: keep flags and tags of many photos at once (SPEC §9).

Each function runs a fixed number of queries whatever the item count (one lookup, grouped
updates, bulk inserts) and writes its events in the same transaction as the change.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.events import events_record_bulk
from jobs.models import Event
from photos.events import item_event
from photos.models import Photo, Tag
from photos.pending import pending_changes_events
from photos.selectors import photos_visible
from photos.tagging import MAX_TAGS_PER_PHOTO, TAG_MAX_LENGTH
from projects.names import name_characters_problem, name_normalize

from .fields import Changes, photo_fields_update
from .items import ItemError, item_error, item_photo_id, items_check
from .rating import sidecars_write
from .results import BulkUpdated

KEEP_FIELDS = ("keep_jpg", "keep_raw")
# One request item names at most this many tags (SPEC §14, payload limits); a photo carries at
# most MAX_TAGS_PER_PHOTO (photos.tagging).
MAX_TAGS_PER_ITEM = 50

PhotoTag = Photo.tags.through


# --- keep flags ---------------------------------------------------------------------------


def _keep_flags(item: dict[str, Any]) -> dict[str, Any]:
    flags: dict[str, bool] = {}
    for name in KEEP_FIELDS:
        if name in item:
            if not isinstance(item[name], bool):
                raise ItemError(f"{name} must be true or false.")
            flags[name] = item[name]
    return flags


def photos_keep_update(*, user: Any, items: list[dict], dry_run: bool = False) -> BulkUpdated:
    """Set ``keep_jpg`` / ``keep_raw`` of many photos; a flag left out of an item is unchanged.

    An item with neither flag is ignored. The rows are locked (PostgreSQL) while the change is
    computed, and only the requested field is written, so two concurrent requests that touch
    different flags of one photo both win. ``updated`` counts photos that actually changed.
    The projects whose pending deletes changed get a ``pending_changes`` event.
    """

    def pending_events(photos: dict[int, Photo], changes: Changes) -> list[Event]:
        affected = {photos[pid].project_id: photos[pid].project.tenant_id for pid in changes}
        return pending_changes_events(projects=affected, actor_id=getattr(user, "pk", None))

    return photo_fields_update(
        user=user,
        items=items,
        values_of=_keep_flags,
        only=KEEP_FIELDS,
        dry_run=dry_run,
        more_events=pending_events,
    ).reply


# --- tags ---------------------------------------------------------------------------------


def tag_name_clean(value: Any) -> str:
    """A tag name stripped, in NFC and checked: 1–100 characters, no control or invisible characters."""
    if not isinstance(value, str):
        raise ItemError("Tags must be strings.")
    name = name_normalize(value.strip())
    if not name:
        raise ItemError("A tag name cannot be empty.")
    if len(name) > TAG_MAX_LENGTH:
        raise ItemError(f"A tag name is at most {TAG_MAX_LENGTH} characters.")
    if problem := name_characters_problem(name, what="A tag name"):
        raise ItemError(problem)
    return name


def _tag_item_parse(item: Any) -> tuple[int, list[str]]:
    """The photo id and the cleaned tag names of one item; ``ItemError`` if it is malformed."""
    photo_id = item_photo_id(item)
    tags = item.get("tags")
    if not isinstance(tags, list | tuple):
        raise ItemError("tags must be a list of strings.")
    if len(tags) > MAX_TAGS_PER_ITEM:
        raise ItemError(f"At most {MAX_TAGS_PER_ITEM} tags per item, got {len(tags)}.")
    return photo_id, [tag_name_clean(t) for t in tags]


def _parse_tag_items(
    user: Any, items: Any, *, lock: bool
) -> tuple[dict[int, Photo], dict[int, list[str]], list[dict[str, Any]]]:
    """Photos found, the tag names asked per photo (merged, in order), and item errors."""
    items = items_check(items)
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[Any, int, list[str]]] = []
    for item in items:
        try:
            photo_id, names = _tag_item_parse(item)
        except ItemError as exc:
            errors.append(item_error(item, str(exc)))
            continue
        if names:
            parsed.append((item, photo_id, names))

    photos = {
        p.pk: p
        for p in photos_visible(user, {pid for _, pid, _ in parsed}, for_update=lock)
        .select_related("project")
        .only("id", "project_id", "project__tenant_id")
    }
    wanted: dict[int, list[str]] = {}
    for item, photo_id, names in parsed:
        if photo_id not in photos:
            errors.append(item_error(item, "Photo not found."))
            continue
        merged = wanted.setdefault(photo_id, [])
        merged.extend(n for n in names if n not in merged)
    return photos, wanted, errors


def _current_tags(photo_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{photo_id: {tag name: link id}}`` for the photos (one query)."""
    current: dict[int, dict[str, int]] = defaultdict(dict)
    for link_id, photo_id, name in PhotoTag.objects.filter(photo_id__in=photo_ids).values_list(
        "id", "photo_id", "tag__name"
    ):
        current[photo_id][name] = link_id
    return current


def _tag_events(
    *, user: Any, photos: dict[int, Photo], final: dict[int, list[str]], key: str, changed: dict
) -> list[Event]:
    return [
        item_event(
            tenant_id=photos[pid].project.tenant_id,
            project_id=photos[pid].project_id,
            photo_id=pid,
            fields={"tags": sorted(final[pid]), key: names},
            actor_id=getattr(user, "pk", None),
        )
        for pid, names in changed.items()
    ]


def photos_tags_add(*, user: Any, items: list[dict], dry_run: bool = False) -> BulkUpdated:
    """Add tags to photos; a tag is created in the photo's project when it does not exist yet.

    Tag rows and links are inserted with ``ignore_conflicts`` so a concurrent request that
    adds the same tag does not fail this one.
    """
    with transaction.atomic():
        photos, wanted, errors = _parse_tag_items(user, items, lock=not dry_run)
        current = _current_tags(list(wanted))
        to_add = {pid: [n for n in names if n not in current[pid]] for pid, names in wanted.items()}
        for pid, adding in list(to_add.items()):
            if len(current[pid]) + len(adding) > MAX_TAGS_PER_PHOTO:
                errors.append(
                    {
                        "photo_id": pid,
                        "error": f"A photo carries at most {MAX_TAGS_PER_PHOTO} tags; it has "
                        f"{len(current[pid])} and {len(adding)} more were asked.",
                    }
                )
                del to_add[pid], wanted[pid]
        changed = {pid: names for pid, names in to_add.items() if names}
        if dry_run:
            per_item = [{"photo_id": pid, "would_add": to_add[pid]} for pid in wanted]
            return BulkUpdated(updated=len(changed), errors=errors, per_item=per_item)
        if not changed:
            return BulkUpdated(updated=0, errors=errors, per_item=None)

        needed = {(photos[pid].project_id, n) for pid, names in changed.items() for n in names}
        project_ids = {p for p, _ in needed}
        names = {n for _, n in needed}
        tag_ids = _tag_ids(project_ids, names)
        missing = needed - tag_ids.keys()
        if missing:
            Tag.objects.bulk_create(
                [Tag(project_id=p, name=n) for p, n in sorted(missing)], ignore_conflicts=True
            )
            tag_ids = _tag_ids(project_ids, names)
        PhotoTag.objects.bulk_create(
            [
                PhotoTag(photo_id=pid, tag_id=tag_ids[(photos[pid].project_id, n)])
                for pid, names in changed.items()
                for n in names
            ],
            ignore_conflicts=True,
        )
        Photo.objects.filter(pk__in=list(changed)).update(updated_at=timezone.now())
        final = {pid: [*current[pid], *changed[pid]] for pid in changed}
        events_record_bulk(
            _tag_events(user=user, photos=photos, final=final, key="tags_added", changed=changed)
        )
    _keywords_write_back(final)
    return BulkUpdated(updated=len(changed), errors=errors, per_item=None)


def _tag_ids(project_ids: set[int], names: set[str]) -> dict[tuple[int, str], int]:
    return {
        (p, n): i
        for i, p, n in Tag.objects.filter(project_id__in=project_ids, name__in=names).values_list(
            "id", "project_id", "name"
        )
    }


def photos_tags_remove(*, user: Any, items: list[dict], dry_run: bool = False) -> BulkUpdated:
    """Remove tags from photos. A name the photo does not carry is not an error.

    The Tag rows stay (a project's vocabulary), only the links go.
    """
    with transaction.atomic():
        photos, wanted, errors = _parse_tag_items(user, items, lock=not dry_run)
        current = _current_tags(list(wanted))
        to_remove = {pid: [n for n in names if n in current[pid]] for pid, names in wanted.items()}
        changed = {pid: names for pid, names in to_remove.items() if names}
        if dry_run:
            per_item = [{"photo_id": pid, "would_remove": to_remove[pid]} for pid in wanted]
            return BulkUpdated(updated=len(changed), errors=errors, per_item=per_item)
        if not changed:
            return BulkUpdated(updated=0, errors=errors, per_item=None)
        link_ids = [current[pid][n] for pid, names in changed.items() for n in names]
        PhotoTag.objects.filter(pk__in=link_ids).delete()
        Photo.objects.filter(pk__in=list(changed)).update(updated_at=timezone.now())
        final = {pid: [n for n in current[pid] if n not in set(changed[pid])] for pid in changed}
        events_record_bulk(
            _tag_events(user=user, photos=photos, final=final, key="tags_removed", changed=changed)
        )
    _keywords_write_back(final)
    return BulkUpdated(updated=len(changed), errors=errors, per_item=None)


def _keywords_write_back(final: dict[int, list[str]]) -> None:
    """With ``PIPELINE_WRITE_XMP`` on, the photos' tags after a change as their sidecars'
    ``dc:subject``, after the commit (as ratings and labels are: ``sidecars_write``)."""
    if not settings.PIPELINE_WRITE_XMP or not final:
        return
    photos = list(Photo.objects.select_related("project__tenant").filter(pk__in=list(final)))
    sidecars_write(photos=photos, changes={p.pk: {"keywords": sorted(final[p.pk])} for p in photos})
