"""Keep the sharpest frame of each burst and discard the rest (SPEC §17).

The decision is made here; the change goes through the one keep-flag write path
(``photos_keep_update``): the same per-item checks, locking, dry run, events and
``pending_changes``, so nothing here writes a photo row itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.errors import ApplicationError
from core.limits import MAX_ITEMS_PER_JOB
from photos.models import Photo
from photos.selectors import photos_visible, projects_select

from .bulk import photos_keep_update
from .items import ItemError, item_error, item_photo_id, items_check
from .results import BulkUpdated


@dataclass(frozen=True)
class SharpestKept:
    """What ``bursts_keep_sharpest`` did (or would do): the keep change's own reply, the
    bursts it decided (``{burst id: sharpest photo id}``) and those it left alone because a
    frame has no sharpness yet (its thumbnail was never made with hints)."""

    reply: BulkUpdated
    kept: dict[int, int] = field(default_factory=dict)
    undecided: list[int] = field(default_factory=list)


def _frames_chosen(
    *, user: Any, projects: list[Any] | None, items: Any
) -> tuple[list[Photo], list[dict[str, Any]]]:
    """The frames of the bursts the request names, and its errors."""
    errors: list[dict[str, Any]] = []
    frames = Photo.objects.visible_to(user).filter(burst__isnull=False)
    if projects is not None:
        _, chosen, missing = projects_select(user=user, project_ids=projects)
        errors += [{"project_id": raw, "error": "Project not found."} for raw in missing]
        frames = frames.filter(project__in=chosen)
    if items is not None:
        wanted: list[tuple[Any, int]] = []
        for item in items_check(items):
            try:
                wanted.append((item, item_photo_id(item)))
            except ItemError as exc:
                errors.append(item_error(item, str(exc)))
        found = dict(photos_visible(user, {pid for _, pid in wanted}).values_list("id", "burst"))
        for item, pid in wanted:
            if pid not in found:
                errors.append(item_error(item, "Photo not found."))
        frames = frames.filter(burst__in={b for b in found.values() if b is not None})
    chosen_frames = list(
        frames.only("id", "burst", "sharpness", "jpg_available", "raw_available").order_by("id")
    )
    return chosen_frames, errors


def bursts_keep_sharpest(
    *,
    user: Any,
    projects: list[Any] | None = None,
    photo_ids: list[Any] | None = None,
    dry_run: bool = False,
) -> SharpestKept:
    """Keep the sharpest frame of each burst (its keep flags set to its files' availability)
    and discard the others (both keep flags off), in the named projects (``None``: not by
    project) or in the bursts of the named photos (``photo_ids``: items ``{"photo_id"}``).

    At least one of the two is needed. The sharpest frame is the one with the highest
    ``sharpness`` (the lowest id among equals); a burst with a frame of unknown sharpness is
    left as it is (``undecided``). A fixed number of queries: the projects, the frames, then
    ``photos_keep_update``'s own. Raises ``ApplicationError`` when neither selection is given.
    """
    if projects is None and photo_ids is None:
        raise ApplicationError("Name the projects or the photos whose bursts to cull.")
    frames, errors = _frames_chosen(user=user, projects=projects, items=photo_ids)
    by_burst: dict[int, list[Photo]] = defaultdict(list)
    for frame in frames:
        assert frame.burst is not None
        by_burst[frame.burst].append(frame)
    kept: dict[int, int] = {}
    undecided: list[int] = []
    items: list[dict[str, Any]] = []
    for burst, members in sorted(by_burst.items()):
        if len(members) < 2:
            continue
        if any(m.sharpness is None for m in members):
            undecided.append(burst)
            continue
        best = max(members, key=lambda m: (m.sharpness, -m.pk))
        kept[burst] = best.pk
        for member in members:
            if member is best:
                items.append(
                    {
                        "photo_id": member.pk,
                        "keep_jpg": member.jpg_available,
                        "keep_raw": member.raw_available,
                    }
                )
            else:
                items.append({"photo_id": member.pk, "keep_jpg": False, "keep_raw": False})
    if len(items) > MAX_ITEMS_PER_JOB:
        raise ApplicationError(
            f"{len(items)} frames in these bursts; at most {MAX_ITEMS_PER_JOB} at once: "
            "name fewer projects or photos."
        )
    reply = photos_keep_update(user=user, items=items, dry_run=dry_run)
    return SharpestKept(
        reply=BulkUpdated(
            updated=reply.updated, errors=errors + reply.errors, per_item=reply.per_item
        ),
        kept=kept,
        undecided=undecided,
    )
