"""Reads of photos: what services and views look at before they act (STYLE.md habit 1).

Selectors read and never write; services (``photos/services/``) write and use these to find
their rows. Every read starts from the user's tenant (``for_user``) and, for photos they work
on, from ``Photo.objects.visible_to(user)``: their tenant's photos in active projects.

- **Visible photos and projects** (``photos_visible``, ``projects_select``,
  ``acting_tenant_id``): the rows a bulk request or a commit/revert acts on; another
  tenant's and an archived project's rows are "not found".
- **Pending deletes** (``pending_totals``, ``photos_pending_deletes``): what a commit would
  trash, per project (for events) and filtered for the API (``photos.filters``).
- **The studio's home page** (``studio_home``; issue 22, item 6), below.

What a studio owner asks first: what was shot and uploaded this week, which projects wait to
be culled and how far culling got, how much disk each project and the trash take, and each
project's shoot date, cover and photo count.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from core.errors import ApplicationError
from core.limits import MAX_ITEMS_PER_JOB, id_parse
from jobs.events import EventType
from jobs.models import Event
from projects.models import Project, Tenant, tenant_id_for_user
from projects.selectors import projects_with_counts

from .filters import PendingDeletesFilter
from .fsrules import TRASH_DIR
from .models import (
    KEEP_MISMATCH_Q,
    PENDING_DELETE_Q,
    PENDING_JPG_Q,
    PENDING_RAW_Q,
    DerivativeStatus,
    Label,
    Photo,
)
from .storage import project_dir

HOME_PROJECTS = 12
# The member's studio, the week, the projects, their cull counts, the disk sizes' cache entry.
HOME_QUERIES = 5
STORAGE_CACHE_SECONDS = 300
CULL_FIELDS = ["keep_jpg", "keep_raw", "rating", "label", "tags_added", "tags_removed"]


# --- visible photos and projects ----------------------------------------------------------


def photos_visible(user: Any, photo_ids: Iterable[int], *, for_update: bool = False) -> Any:
    """The user's photos in active projects among ``photo_ids`` (one query when evaluated).

    Another tenant's photo and a photo of an archived (deleted) project are "not found".
    ``pk__in`` rather than ``in_bulk`` keeps it one query whatever the count.
    """
    qs = Photo.objects.visible_to(user).filter(pk__in=list(photo_ids))
    if for_update:
        qs = qs.select_for_update(of=("self",))
    return qs


def acting_tenant_id(user: Any, candidates: Sequence[int]) -> int | None:
    """The tenant a task-starting request acts in: the user's own, else the first candidate's.

    Only a superuser without a membership sees several tenants; a task belongs to one, so rows
    of any other tenant in the same request are reported as not found.
    """
    own = tenant_id_for_user(user)
    if own is not None:
        return own
    return candidates[0] if candidates else None


def projects_select(
    *, user: Any, project_ids: list[int] | None
) -> tuple[Tenant | None, list[Project], list[Any]]:
    """The active projects a commit or revert acts on, and the ids that name none.

    ``None`` means every active project of the user's tenant; an explicit list is never
    widened: unknown, foreign, archived or malformed ids go to ``missing``.
    """
    visible = Project.objects.visible_to(user).select_related("tenant")
    missing: list[Any] = []
    if project_ids is None:
        own = tenant_id_for_user(user)
        if own is not None:
            visible = visible.filter(tenant_id=own)
        projects = list(visible.order_by("id"))
        if own is None and len({p.tenant_id for p in projects}) > 1:
            raise ApplicationError("Name the projects: your account sees several tenants.")
    else:
        if not isinstance(project_ids, list | tuple):
            raise ApplicationError("projects must be a list of project ids.")
        if len(project_ids) > MAX_ITEMS_PER_JOB:
            raise ApplicationError(f"At most {MAX_ITEMS_PER_JOB} projects at once.")
        parsed: list[tuple[Any, int | None]] = []
        parsed = [(raw, id_parse(raw)) for raw in project_ids]
        ids = [pk for _, pk in parsed if pk is not None]
        found = {p.pk: p for p in visible.filter(pk__in=ids)}
        tenant_id = acting_tenant_id(user, [found[i].tenant_id for i in ids if i in found])
        chosen = {pk for pk, p in found.items() if p.tenant_id == tenant_id}
        for raw, pk in parsed:
            if pk not in chosen and raw not in missing:
                missing.append(raw)
        projects = [found[pk] for pk in sorted(chosen)]
    tenant = projects[0].tenant if projects else None
    return tenant, projects, missing


# --- pending deletes ----------------------------------------------------------------------


def pending_totals(project_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{project_id: {"jpg", "raw", "total", "photos"}}`` in one grouped query.

    ``jpg``/``raw`` count files that a commit would trash, ``total`` is their sum and
    ``photos`` the number of photos with a pending delete. Projects with nothing pending
    are present with zeros.
    """
    ids = sorted(set(project_ids))
    totals = {pid: {"jpg": 0, "raw": 0, "total": 0, "photos": 0} for pid in ids}
    if not ids:
        return totals
    rows = (
        Photo.objects.filter(project_id__in=ids)
        .filter(PENDING_DELETE_Q)
        .order_by()
        .values("project_id")
        .annotate(
            jpg=Count("pk", filter=PENDING_JPG_Q),
            raw=Count("pk", filter=PENDING_RAW_Q),
            photos=Count("pk"),
        )
    )
    for row in rows:
        totals[row["project_id"]] = {
            "jpg": row["jpg"],
            "raw": row["raw"],
            "total": row["jpg"] + row["raw"],
            "photos": row["photos"],
        }
    return totals


def photos_pending_deletes(
    *, user: Any, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a commit would trash in the user's active projects, in total and per project.

    ``filters`` are the parameters of ``PendingDeletesFilter`` (parsed there, once):
    ``file_type`` ``jpg`` or ``raw`` counts only that class (``all``/empty: both), dates
    filter ``taken_at`` (a date is its whole day, both ends inclusive), ``orientation`` the
    displayed shape. ``ApplicationError`` names the first invalid parameter.
    """
    filterset = PendingDeletesFilter(filters or {}, queryset=Photo.objects.visible_to(user))
    if not filterset.is_valid():
        raise ApplicationError(filterset.first_error())
    kinds = filterset.kinds
    qs = filterset.qs
    pending = Q()
    if "jpg" in kinds:
        pending |= PENDING_JPG_Q
    if "raw" in kinds:
        pending |= PENDING_RAW_Q
    rows = (
        qs.filter(pending)
        .order_by()
        .values("project_id", "project__name")
        .annotate(
            jpg=Count("pk", filter=PENDING_JPG_Q),
            raw=Count("pk", filter=PENDING_RAW_Q),
        )
    )
    by_project = []
    for row in rows:
        jpg_n = row["jpg"] if "jpg" in kinds else 0
        raw_n = row["raw"] if "raw" in kinds else 0
        by_project.append(
            {
                "project_id": row["project_id"],
                "name": row["project__name"],
                "jpg": jpg_n,
                "raw": raw_n,
                "total": jpg_n + raw_n,
            }
        )
    by_project.sort(key=lambda r: (r["name"], r["project_id"]))
    jpg = sum(r["jpg"] for r in by_project)
    raw = sum(r["raw"] for r in by_project)
    return {"jpg": jpg, "raw": raw, "total": jpg + raw, "by_project": by_project}


# --- the studio's home page ---------------------------------------------------------------


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
    photos = Photo.objects.visible_to(user)
    week = photos.aggregate(
        shot=Count("id", filter=Q(taken_at__gte=week_ago)),
        uploaded=Count("id", filter=Q(created_at__gte=week_ago)),
    )
    of_project = Photo.objects.filter(project=OuterRef("pk"))
    listed = list(
        projects_with_counts(Project.objects.visible_to(user))
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
