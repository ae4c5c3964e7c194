"""Reads for the studio's home page (the admin index for tenant members; issue 22, item 6).

What a studio owner asks first: what was shot and uploaded this week, which projects wait to
be culled and how far culling got, how much disk each project and the trash take, and each
project's shoot date, cover and photo count. Everything starts from ``for_user(user)``.

**Cull progress.** Each photo of a project is exactly one of:

- *discarded*: a commit would trash one of its files (``PENDING_DELETE_Q``: a file present
  whose keep flag is off);
- *untouched*: not discarded, rating 0, no colour label, keep flags equal to availability (keep
  what is there), and no *cull event*: an ``item`` event made by a person (``actor`` set) that
  changed keep flags, rating, label or tags (an upload's event, made by a person too, is not
  one: it has ``created``);
- *kept*: every other photo (looked at and not discarded).

**Budget.** ``studio_home`` runs a fixed number of queries whatever the number of photos and
projects (``HOME_QUERIES``; tests pin it): the member's studio, the week's counts, the listed
projects with their counts, shoot date and cover (subqueries), their cull counts (one grouped
query) and one cache read. Disk sizes come from walking the listed projects' folders
(``os.scandir``: one ``stat`` per file, no file read), at most ``HOME_PROJECTS`` folders,
cached in one entry per studio for ``STORAGE_CACHE_SECONDS``: a folder is walked at most once
per five minutes whatever the page views (plus the cache's write, when something was walked).
A size is up to five minutes old.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from jobs.events import EventType
from jobs.models import Event
from projects.models import Project
from projects.selectors import projects_with_counts

from .fsrules import TRASH_DIR
from .models import KEEP_MISMATCH_Q, PENDING_DELETE_Q, DerivativeStatus, Label, Photo
from .storage import project_dir

HOME_PROJECTS = 12
# The member's studio, the week, the projects, their cull counts, the disk sizes' cache entry.
HOME_QUERIES = 5
STORAGE_CACHE_SECONDS = 300
CULL_FIELDS = ["keep_jpg", "keep_raw", "rating", "label", "tags_added", "tags_removed"]


@dataclass
class ProjectCard:
    id: int
    name: str
    photo_count: int
    shoot_date: datetime | None
    cover_id: int | None
    kept: int = 0
    discarded: int = 0
    untouched: int = 0
    disk_bytes: int | None = None
    trash_bytes: int | None = None

    def percent(self, count: int) -> float:
        return round(100 * count / self.photo_count, 1) if self.photo_count else 0.0

    @property
    def kept_percent(self) -> float:
        return self.percent(self.kept)

    @property
    def discarded_percent(self) -> float:
        return self.percent(self.discarded)

    @property
    def untouched_percent(self) -> float:
        return self.percent(self.untouched)

    @property
    def discarded_x(self) -> float:
        """Where the bar's discarded part starts (after the kept part), in percent."""
        return self.kept_percent

    @property
    def untouched_x(self) -> float:
        return round(self.kept_percent + self.discarded_percent, 1)


@dataclass
class StudioHome:
    shot_this_week: int
    uploaded_this_week: int
    projects: list[ProjectCard] = field(default_factory=list)

    @property
    def waiting(self) -> list[ProjectCard]:
        """Projects with photos nobody has culled yet, most waiting first."""
        return sorted((p for p in self.projects if p.untouched), key=lambda p: -p.untouched)

    @property
    def disk_bytes(self) -> int:
        return sum(p.disk_bytes or 0 for p in self.projects)

    @property
    def trash_bytes(self) -> int:
        return sum(p.trash_bytes or 0 for p in self.projects)


def cull_event_q() -> Q:
    """Events that mean a person culled the photo (see the module's docstring)."""
    return (
        Q(type=EventType.ITEM, actor__isnull=False)
        & Q(payload__has_any_keys=CULL_FIELDS)
        & ~Q(payload__has_key="created")
    )


def untouched_q(culled: str = "culled") -> Q:
    """Photos nobody has culled; ``culled`` names an ``Exists(cull events)`` annotation."""
    return Q(rating=0, label=Label.NONE, **{culled: False}) & ~KEEP_MISMATCH_Q & ~PENDING_DELETE_Q


def studio_home(*, user: Any, now: datetime | None = None) -> StudioHome:
    """The home page's numbers for ``user``'s studio (``HOME_QUERIES`` queries, cached disk)."""
    now = now or timezone.now()
    week_ago = now - timedelta(days=7)
    photos = Photo.objects.for_user(user).filter(project__status=Project.Status.ACTIVE)
    week = photos.aggregate(
        shot=Count("id", filter=Q(taken_at__gte=week_ago)),
        uploaded=Count("id", filter=Q(created_at__gte=week_ago)),
    )
    of_project = Photo.objects.filter(project=OuterRef("pk"))
    listed = list(
        projects_with_counts(Project.objects.for_user(user).filter(status=Project.Status.ACTIVE))
        .annotate(
            shoot_date=Subquery(
                of_project.filter(taken_at__isnull=False)
                .order_by("taken_at")
                .values("taken_at")[:1]
            ),
            # The cover: the best-rated photo with a thumbnail, the first shot among equals.
            cover_id=Subquery(
                of_project.filter(thumbnail_status=DerivativeStatus.GENERATED)
                .order_by("-rating", "taken_at", "id")
                .values("pk")[:1]
            ),
        )
        .select_related("tenant")
        .order_by("-updated_at", "-id")[:HOME_PROJECTS]
    )
    cards = {
        p.pk: ProjectCard(
            id=p.pk,
            name=p.name,
            photo_count=p.photo_count,  # type: ignore[attr-defined]
            shoot_date=p.shoot_date,
            cover_id=p.cover_id,
        )
        for p in listed
    }
    if cards:
        culled = Event.objects.filter(cull_event_q(), photo=OuterRef("pk"))
        rows = (
            Photo.objects.filter(project_id__in=list(cards))
            .annotate(culled=Exists(culled))
            .values("project_id")
            .annotate(
                total=Count("id"),
                discarded=Count("id", filter=PENDING_DELETE_Q),
                untouched=Count("id", filter=untouched_q()),
            )
            .order_by()
        )
        for row in rows:
            card = cards[row["project_id"]]
            card.photo_count = row["total"]
            card.discarded = row["discarded"]
            card.untouched = row["untouched"]
            card.kept = row["total"] - row["discarded"] - row["untouched"]
    sizes = project_disk_sizes(listed)
    for pk, (disk, trash) in sizes.items():
        cards[pk].disk_bytes, cards[pk].trash_bytes = disk, trash
    return StudioHome(
        shot_this_week=week["shot"],
        uploaded_this_week=week["uploaded"],
        projects=list(cards.values()),
    )


def _folder_bytes(folder: Path) -> tuple[int, int]:
    """(bytes of everything under ``folder``, bytes of its trash); never follows a link."""
    total = trash = 0
    stack = [(folder, False)]
    while stack:
        current, in_trash = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), in_trash or entry.name == TRASH_DIR))
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    total += size
                    if in_trash:
                        trash += size
            except OSError:
                continue
    return total, trash


def project_disk_sizes(projects: Sequence[Project]) -> dict[int, tuple[int, int]]:
    """``{project id: (bytes on disk, bytes in its trash)}``: one cache entry per studio, a
    project walked only when missing from it, the entry kept ``STORAGE_CACHE_SECONDS`` from
    its last write (one cache read; one write when something was walked)."""
    if not projects:
        return {}
    key = f"studio-home:disk:{projects[0].tenant_id}"
    sizes: dict[int, tuple[int, int]] = dict(cache.get(key) or {})
    walked = False
    for project in projects:
        if project.pk in sizes:
            continue
        try:
            folder = project_dir(project)
        except Exception:  # an unsafe or unset folder: no size rather than no page
            continue
        sizes[project.pk] = _folder_bytes(folder)
        walked = True
    if walked:
        cache.set(key, sizes, STORAGE_CACHE_SECONDS)
    return {p.pk: sizes[p.pk] for p in projects if p.pk in sizes}
