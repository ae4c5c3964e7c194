"""Tags a photo's own files give it: XMP keywords (``dc:subject``) read into tags at ingest
(SPEC §4). The user's tag writes are ``photos.services.bulk``'s; both share the limits here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from photos.models import Photo, Tag
from projects.names import name_characters_problem, name_normalize

logger = logging.getLogger(__name__)

TAG_MAX_LENGTH = 100
# Tags are for culling, not storage: a photo carries at most this many (SPEC §14).
MAX_TAGS_PER_PHOTO = 100

PhotoTag = Photo.tags.through


def keyword_names(keywords: Iterable[str]) -> list[str]:
    """The keywords that make valid tag names (stripped, NFC, 1–100 characters, no control or
    invisible characters), in order, without duplicates; the others are left out (logged)."""
    names: list[str] = []
    for keyword in keywords:
        name = name_normalize(keyword.strip())
        if not name or len(name) > TAG_MAX_LENGTH or name_characters_problem(name, what="A tag"):
            logger.info("XMP keyword %r is not a valid tag name; not read.", keyword[:120])
            continue
        if name not in names:
            names.append(name)
    return names


def keyword_tags_add(wanted: dict[int, tuple[int, list[str]]]) -> dict[int, list[str]]:
    """Give each photo (``{photo id: (project id, names)}``) the tags it does not carry yet,
    creating a project's missing tags; never removes one. Returns, for each photo that gained
    tags, all of its tag names after (sorted), for its ``item`` event.

    A fixed number of statements whatever the count; inserts ignore conflicts, so a user
    adding the same tag meanwhile does not fail this. A photo stops at ``MAX_TAGS_PER_PHOTO``.
    Run it inside the caller's transaction.
    """
    if not wanted:
        return {}
    current: dict[int, set[str]] = defaultdict(set)
    for photo_id, name in PhotoTag.objects.filter(photo_id__in=list(wanted)).values_list(
        "photo_id", "tag__name"
    ):
        current[photo_id].add(name)
    adding: dict[int, list[str]] = {}
    for photo_id, (_, names) in wanted.items():
        room = MAX_TAGS_PER_PHOTO - len(current[photo_id])
        new = [n for n in names if n not in current[photo_id]][: max(room, 0)]
        if new:
            adding[photo_id] = new
    if not adding:
        return {}
    needed = {(wanted[pid][0], n) for pid, names in adding.items() for n in names}
    Tag.objects.bulk_create(
        [Tag(project_id=p, name=n) for p, n in sorted(needed)], ignore_conflicts=True
    )
    ids = {
        (p, n): i
        for i, p, n in Tag.objects.filter(
            project_id__in={p for p, _ in needed}, name__in={n for _, n in needed}
        ).values_list("id", "project_id", "name")
    }
    PhotoTag.objects.bulk_create(
        [
            PhotoTag(photo_id=pid, tag_id=ids[(wanted[pid][0], n)])
            for pid, names in adding.items()
            for n in names
        ],
        ignore_conflicts=True,
    )
    return {pid: sorted(current[pid] | set(names)) for pid, names in adding.items()}
