"""Pending deletes, commit and revert (SPEC §3 "pending delete", §5, §9).

Committing never touches files here: it starts a ``change_commit`` / ``change_commit_all``
task whose ``file_removal`` step moves the discarded files to ``.trash/`` (jobs/handlers/files.py).
Reverting is a pure database change: keep flags go back to availability.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from core.errors import ApplicationError
from core.limits import MAX_ITEMS_PER_JOB
from jobs.events import events_record_bulk, item_event
from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.tasks import StartedTask, start_task
from photos.fsrules import (
    TRASH_DIR,
    UnsafePath,
    split_name,
    system_dir,
    trash_move,
    trashed_at,
    unlink_quietly,
)
from photos.models import (
    PENDING_JPG_Q,
    PENDING_RAW_Q,
    DerivativeStatus,
    Photo,
    TrashedFile,
)
from photos.pending import pending_changes_events, pending_totals  # noqa: F401  (re-exported)
from photos.storage import (
    FolderIndex,
    classify,
    originals,
    preview_path,
    preview_paths,
    project_dir,
    sidecar_bases,
    thumbnail_path,
)
from projects.models import Project, Tenant, tenant_id_for_user
from projects.selectors import project_for_user, project_require_active

from .items import acting_tenant_id, id_parse
from .results import (
    CommitStarted,
    NothingPending,
    ProjectPending,
    ProjectReverted,
    Reverted,
)

ROTATED_ORIENTATIONS = (5, 6, 7, 8)


# --- pending-deletes summary --------------------------------------------------------------


def _parse_when(value: Any, *, name: str, end: bool) -> tuple[datetime | None, bool]:
    """A filter bound and whether it is inclusive.

    A date covers its whole day: as an upper bound it becomes the start of the next day,
    exclusive. A date-time is taken as given, inclusive; a naive one is in the current zone.
    """
    if value in (None, ""):
        return None, True
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ApplicationError(f"{name} must be an ISO date or date-time.") from None
    if isinstance(value, datetime):
        return (value if timezone.is_aware(value) else timezone.make_aware(value)), True
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return timezone.make_aware(datetime.combine(day, time.min)), not end
    raise ApplicationError(f"{name} must be an ISO date or date-time.")


def _orientation_q(orientation: Any) -> Q | None:
    """``landscape``/``portrait``/``square`` as displayed (EXIF 5–8 swap the sides), or 1–8."""
    if orientation in (None, "", "any", "all"):
        return None
    if isinstance(orientation, int) and not isinstance(orientation, bool):
        return Q(orientation=orientation)
    if isinstance(orientation, str) and orientation.isdigit():
        return Q(orientation=int(orientation))
    rotated = Q(orientation__in=ROTATED_ORIENTATIONS)
    upright = ~rotated
    wide, tall = Q(width__gt=F("height")), Q(height__gt=F("width"))
    if orientation == "landscape":
        return (upright & wide) | (rotated & tall)
    if orientation == "portrait":
        return (upright & tall) | (rotated & wide)
    if orientation == "square":
        return Q(width__isnull=False, width=F("height"))
    raise ApplicationError("orientation must be landscape, portrait, square or an EXIF value 1–8.")


def photos_pending_deletes(
    *,
    user: Any,
    date_from: Any = None,
    date_to: Any = None,
    file_type: str | None = None,
    orientation: Any = None,
) -> dict[str, Any]:
    """What a commit would trash in the user's active projects, in total and per project.

    ``file_type`` ``jpg`` or ``raw`` counts only that class (``all``/None: both); dates filter
    ``taken_at`` (a date is its whole day, both ends inclusive).
    """
    kind = (file_type or "all").strip().lower() if isinstance(file_type, str | None) else None
    if kind in ("all", "any", "both"):
        kinds: tuple[str, ...] = ("jpg", "raw")
    elif kind in ("jpg", "raw"):
        kinds = (kind,)
    else:
        raise ApplicationError("file_type must be jpg, raw or all.")
    qs = Photo.objects.for_user(user).filter(project__status=Project.Status.ACTIVE)
    start, _ = _parse_when(date_from, name="date_from", end=False)
    stop, stop_inclusive = _parse_when(date_to, name="date_to", end=True)
    if start is not None:
        qs = qs.filter(taken_at__gte=start)
    if stop is not None:
        qs = qs.filter(taken_at__lte=stop) if stop_inclusive else qs.filter(taken_at__lt=stop)
    orientation_q = _orientation_q(orientation)
    if orientation_q is not None:
        qs = qs.filter(orientation_q)
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


# --- selecting projects -------------------------------------------------------------------


def projects_select(
    *, user: Any, project_ids: list[int] | None
) -> tuple[Tenant | None, list[Project], list[Any]]:
    """The active projects a commit or revert acts on, and the ids that name none.

    ``None`` means every active project of the user's tenant; an explicit list is never
    widened: unknown, foreign, archived or malformed ids go to ``missing``.
    """
    visible = Project.objects.for_user(user).active().select_related("tenant")
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


# --- commit -------------------------------------------------------------------------------


def _pending_rows(projects: list[Project]) -> list[tuple[int, str, int]]:
    return list(
        Photo.objects.filter(project__in=[p.pk for p in projects])
        .pending_delete()
        .order_by("project_id", "id")
        .values_list("pk", "basename", "project_id")
    )


def _commit_started(
    started: StartedTask,
    projects: list[Project],
    rows: list[tuple[int, str, int]],
    missing: list[Any],
) -> CommitStarted:
    per_project: dict[int, int] = {}
    for _, _, project_id in rows:
        per_project[project_id] = per_project.get(project_id, 0) + 1
    listed = [
        ProjectPending(project_id=p.pk, name=p.name, pending=per_project[p.pk])
        for p in projects
        if p.pk in per_project
    ]
    return CommitStarted(task=started, projects=listed, total_pending=len(rows), missing=missing)


def photos_commit(
    *, user: Any, project_ids: list[int] | None = None
) -> CommitStarted | NothingPending:
    """Start one ``change_commit_all`` task over the pending photos of the given projects.

    Its items are exactly the photos pending at this moment, each once (auto-chunked at
    ``MAX_ITEMS_PER_JOB``). A photo whose keep flags change before ``file_removal`` reaches it
    is handled as it then is: the handler re-reads the row. ``NothingPending`` when no selected
    project has a pending delete (nothing starts).
    """
    tenant, projects, missing = projects_select(user=user, project_ids=project_ids)
    with transaction.atomic():
        rows = _pending_rows(projects)
        if not rows or tenant is None:
            return NothingPending(missing=missing)
        started = start_task(
            "change_commit_all",
            tenant,
            scope="photo_set",
            items=[{"photo_id": pk, "basename": base} for pk, base, _ in rows],
            source="commit",
        )
    return _commit_started(started, projects, rows, missing)


def project_commit(*, user: Any, project: Project | int) -> CommitStarted | NothingPending:
    """Start a ``change_commit`` task for one project's pending photos.

    ``NotFoundError`` for another tenant's project, ``ProjectArchived`` for an archived one.
    """
    project = project_require_active(project_for_user(user=user, project=project))
    with transaction.atomic():
        rows = _pending_rows([project])
        if not rows:
            return NothingPending()
        started = start_task(
            "change_commit",
            project.tenant,
            project=project,
            scope="project",
            items=[{"photo_id": pk, "basename": base} for pk, base, _ in rows],
            source="commit",
        )
    return _commit_started(started, [project], rows, [])


# --- revert -------------------------------------------------------------------------------


def _revert_batch(
    *, project: Project, actor_id: int | None, after_id: int, size: int
) -> list[tuple[int, bool, bool, bool, bool]]:
    """Revert the next ``size`` mismatched photos of ``project`` after ``after_id`` (id order):
    one ``UPDATE`` and one insert of their ``item`` events, in the caller's transaction."""
    rows = list(
        Photo.objects.filter(project=project, id__gt=after_id)
        .keep_mismatch()
        .select_for_update()
        .order_by("id")
        .values_list("pk", "jpg_available", "raw_available", "keep_jpg", "keep_raw")[:size]
    )
    if not rows:
        return rows
    Photo.objects.filter(pk__in=[r[0] for r in rows]).update(
        keep_jpg=F("jpg_available"), keep_raw=F("raw_available"), updated_at=timezone.now()
    )
    events = []
    for pk, jpg, raw, keep_jpg, keep_raw in rows:
        changed = {}
        if keep_jpg != jpg:
            changed["keep_jpg"] = jpg
        if keep_raw != raw:
            changed["keep_raw"] = raw
        events.append(
            item_event(
                tenant_id=project.tenant_id,
                project_id=project.pk,
                photo_id=pk,
                fields=changed,
                actor_id=actor_id,
            )
        )
    events_record_bulk(events)
    return rows


def _revert_project(*, user: Any, project: Project) -> int:
    """Keep flags back to availability for one project's mismatched photos; returns the count.

    ``PIPELINE_COMMIT_BATCH`` photos per transaction, each batch with its ``item`` events, so
    a large project never holds the write lock (SQLite's only one) for long. An interrupted
    revert leaves each photo reverted with its event, or untouched: reverting again finishes
    the rest and writes no event twice. ``pending_changes`` commits with the last batch.
    """
    actor_id = getattr(user, "pk", None)
    size = max(1, settings.PIPELINE_COMMIT_BATCH)
    count = 0
    after_id = 0
    while True:
        with transaction.atomic():
            rows = _revert_batch(project=project, actor_id=actor_id, after_id=after_id, size=size)
            count += len(rows)
            last = len(rows) < size
            if last and count:
                events_record_bulk(
                    pending_changes_events(
                        projects={project.pk: project.tenant_id}, actor_id=actor_id
                    )
                )
        if last:
            return count
        after_id = rows[-1][0]


def _revert(user: Any, projects: list[Project], missing: list[Any]) -> Reverted:
    listed = []
    for project in projects:
        updated = _revert_project(user=user, project=project)
        if updated:
            listed.append(
                ProjectReverted(project_id=project.pk, name=project.name, updated=updated)
            )
    return Reverted(projects=listed, missing=missing)


def photos_revert(*, user: Any, project_ids: list[int] | None = None) -> Reverted:
    """Undo culling in the given projects (None: all active projects of the user's tenant).

    A transaction per batch of photos (``_revert_project``), so a large tenant never holds one
    long lock. Only projects that changed are listed; unknown ids are reported in ``missing``.
    """
    _, projects, missing = projects_select(user=user, project_ids=project_ids)
    return _revert(user, projects, missing)


def project_revert(*, user: Any, project: Project | int) -> Reverted:
    """Undo culling in one project."""
    project = project_require_active(project_for_user(user=user, project=project))
    return _revert(user, [project], [])


# --- the per-photo work of file_removal, written in batches -------------------------------

# A photo's outcome in a batch: the item's message when it is done, or the skip / failure.
RemovalOutcome = str | ItemSkipped | ItemFailed


class TrashFailed(ItemFailed):
    """A photo's files could not all be trashed; ``trashed`` lists those that were."""

    def __init__(self, message: str, *, photo: Photo, trashed: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.photo = photo
        self.trashed = trashed


@dataclass
class _RowChange:
    """What one photo's row needs once its files are in the trash.

    ``whole``: its last original went, the row is trashed (``trashed_at``), not deleted.
    ``trashed``: ``{"file", "trash"}`` of each file moved into ``.trash/`` by this run.
    """

    photo: Photo
    whole: bool
    changed: dict[str, Any]
    payload: dict[str, Any]
    message: str
    trashed: list[dict[str, str]]


_TRASH_SUFFIX = re.compile(r"~\d+(?=(\.[^.]*)?$)")


def _trashed_earlier(
    folder: Path,
    basename: str,
    *,
    since: float,
    recorded: set[str],
    classes: set[str],
    sidecars: bool,
) -> list[dict[str, str]]:
    """Files of ``basename`` an interrupted attempt of this job moved into ``.trash/`` without
    recording them: unrecorded entries trashed since ``since`` whose name, without the
    ``~<n>`` a clash in the trash added, is an original of a class in ``classes`` (or, with
    ``sidecars``, a sidecar) of this photo. Only read on a retry, when a discarded file is
    already gone from the folder."""
    trash = system_dir(folder, TRASH_DIR)  # a linked .trash is refused, never listed
    found = []
    try:
        entries = list(os.scandir(trash))
    except OSError:
        return []
    for entry in entries:
        if entry.name in recorded or not entry.is_file(follow_symlinks=False):
            continue
        original = _TRASH_SUFFIX.sub("", entry.name, count=1)
        kind = classify(original)
        if kind is not None:
            if split_name(original)[0] != basename or kind.value not in classes:
                continue
        elif not (sidecars and basename in sidecar_bases(original)):
            continue
        try:
            if trashed_at(entry.stat(follow_symlinks=False)) < since:
                continue
        except OSError:
            continue
        found.append({"file": original, "trash": entry.name})
    return sorted(found, key=lambda t: t["trash"])


def _photo_files_remove(
    photo: Photo | None,
    *,
    project_id: int | None,
    index: FolderIndex | None,
    folders: dict[int, Path],
    since: float | None = None,
    recorded: Callable[[int], set[str]] | None = None,
) -> _RowChange:
    """Trash one photo's discarded files; return the row change, writing nothing in the DB.

    Raises ``ItemSkipped`` / ``ItemFailed`` for this photo only. ``folders`` holds the batch's
    project folders, checked (containment, present) once per batch.
    """
    if photo is None:
        raise ItemSkipped("The photo no longer exists.")
    if project_id is not None and photo.project_id != project_id:
        raise ItemSkipped("The photo is no longer in this project.")
    project = photo.project
    if project.status != Project.Status.ACTIVE:
        raise ItemSkipped("The photo's project is archived.")
    if not photo.pending_delete:
        raise ItemSkipped("Nothing to remove: no discarded file is pending.")

    drop_jpg = photo.jpg_available and not photo.keep_jpg
    drop_raw = photo.raw_available and not photo.keep_raw
    try:
        folder = folders.get(project.pk)
        if folder is None:
            # Once per project and batch: the folder stays inside the tenant root, and
            # .thumb/.preview are real folders (a photo keeping its JPG fails on a linked
            # .thumb too: nothing of a project with an unsafe system folder moves).
            thumbnail_path(project, photo.basename)
            preview_path(project, photo.basename)
            folder = folders[project.pk] = project_dir(project)
        # Only a photo losing its JPG loses its derivatives: build their paths then.
        derivatives = (
            [thumbnail_path(project, photo.basename), *preview_paths(project, photo.basename)]
            if drop_jpg
            else []
        )
    except UnsafePath as exc:
        raise ItemFailed(str(exc)) from exc
    if not folder.is_dir():
        # An unmounted share looks like an empty folder: never delete rows on that evidence.
        raise ItemFailed(f"The folder of project {project.pk} is missing.")
    present = originals(folder, photo.basename, index=index)
    names = (present.jpg if drop_jpg else []) + (present.raw if drop_raw else [])
    # The last original going: the photo goes to the trash whole (its row stays, trashed) and
    # keeps its derivatives until the purge, so the trash can show it.
    whole = not (set(present.all) - set(names))
    trashed = []
    gone: list[str] = []
    try:
        for name in sorted(names):
            target = trash_move(folder, name)
            gone.append(name)  # Trashed now, or already gone (None): out of the folder.
            if target is not None:
                trashed.append({"file": name, "trash": target})
        missing = {
            k
            for k, drop, now in (("jpg", drop_jpg, present.jpg), ("raw", drop_raw, present.raw))
            if drop and not now
        }
        if since is not None and recorded is not None and missing:
            # A retry: an earlier attempt trashed some of these files and died before their
            # records were written. Find them in the trash so a restore can bring them back.
            seen = recorded(project.pk) | {t["trash"] for t in trashed}
            earlier = _trashed_earlier(
                folder, photo.basename, since=since, recorded=seen, classes=missing, sidecars=whole
            )
            trashed.extend(earlier)
            recorded(project.pk).update(t["trash"] for t in earlier)
        if not whole:
            for path in derivatives:
                unlink_quietly(path)
        if index is not None:
            index.record(folder, removed=gone)  # our own renames: no rescan for the lookup
        left = originals(folder, photo.basename, index=index)
        if not left.all:
            # The last original went: its edit files (XMP, pp3…) follow it into the trash, so
            # a restore from the trash brings the photo back with its edits.
            for name in sorted(left.sidecars):
                target = trash_move(folder, name)
                gone.append(name)
                if target is not None:
                    trashed.append({"file": name, "trash": target})
    except (OSError, UnsafePath) as exc:
        # One unreadable file (or a .trash that is a link or a file) fails its photo, not the
        # commit: the photo stays pending, what was trashed stays trashed (and recorded, so it
        # can be restored), and the next commit finishes it.
        raise TrashFailed(
            f"Could not trash the files of '{photo.basename}': {exc}", photo=photo, trashed=trashed
        ) from exc
    finally:
        if index is not None:
            index.record(folder, removed=gone)

    left = originals(folder, photo.basename, index=index)  # after the recorded removals
    base = {"photo_id": photo.pk, "project_id": project.pk, "basename": photo.basename}
    if not left.all:
        # The row stays, trashed and hidden, until the purge deletes its files (SPEC §3).
        fields: dict[str, Any] = {
            "jpg_available": False,
            "raw_available": False,
            "other_available": False,
            "keep_jpg": False,
            "keep_raw": False,
        }
        changed = {k: v for k, v in fields.items() if getattr(photo, k) != v}
        return _RowChange(
            photo=photo,
            whole=True,
            changed=changed,
            payload={**base, "reason": "trashed", "trashed": trashed},
            message=f"Trashed {len(trashed)} file(s); no file left, photo moved to the trash.",
            trashed=trashed,
        )
    fields = {
        "jpg_available": bool(left.jpg),
        "raw_available": bool(left.raw),
        "other_available": bool(left.other),
        "keep_jpg": False if drop_jpg else photo.keep_jpg,
        "keep_raw": False if drop_raw else photo.keep_raw,
        "ext": left.ext,
    }
    if drop_jpg:
        # The derivatives went with the JPG; what is left (another image, or the RAW's
        # embedded preview) makes them again: the commit task's last step regenerates them.
        fields["thumbnail_status"] = DerivativeStatus.PENDING
        fields["preview_status"] = DerivativeStatus.PENDING
    changed = {k: v for k, v in fields.items() if getattr(photo, k) != v}
    return _RowChange(
        photo=photo,
        whole=False,
        changed=changed,
        payload={**base, **changed, "trashed": trashed},
        message=f"Trashed {len(trashed)} file(s).",
        trashed=trashed,
    )


def _row_changes_write(
    changes: list[_RowChange],
    *,
    tenant_id: int,
    job_id: int | None,
    failed: Sequence[TrashFailed] = (),
) -> None:
    """Write a batch's rows, trash records and events with a fixed number of statements.

    Rows that take the same new values (most of a batch: the discarded class gone, its keep
    flag off) share one ``UPDATE`` of exactly those fields, so a field this commit did not
    change is never written back with the value read before it. A photo whose last original
    went gets ``trashed_at`` (its row stays, hidden, until the purge). Every file moved into
    ``.trash/`` gets a ``TrashedFile`` record (also those of a photo that failed halfway), so
    a restore knows its trash name.
    """
    now = timezone.now()
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for change in changes:
        values = dict(change.changed)
        if change.whole:
            values["trashed_at"] = now
        groups.setdefault(tuple(sorted(values.items())), []).append(change.photo.pk)
    for values_key, ids in groups.items():
        Photo.objects.filter(pk__in=ids).update(**dict(values_key), updated_at=now)
    records = [
        TrashedFile(photo_id=photo.pk, name=t["file"], trash_name=t["trash"], trashed_at=now)
        for photo, trashed in [(c.photo, c.trashed) for c in changes]
        + [(f.photo, f.trashed) for f in failed]
        for t in trashed
    ]
    if records:
        TrashedFile.objects.bulk_create(records)
    events_record_bulk(
        item_event(
            tenant_id=tenant_id,
            project_id=c.photo.project_id,
            photo_id=c.photo.pk,
            fields={**c.payload, "trashed_at": now.isoformat()} if c.whole else c.payload,
            job_id=job_id,
            removed=c.whole,
        )
        for c in changes
    )


def photos_file_removal(
    *,
    tenant_id: int,
    photo_ids: list[int],
    project_id: int | None = None,
    job_id: int | None = None,
    index: FolderIndex | None = None,
    since: float | None = None,
) -> dict[int, RemovalOutcome]:
    """Trash the discarded JPG and/or RAW files of a batch of photos; update or trash their rows.

    Returns each photo id's outcome: the message of a photo done, or the ``ItemSkipped`` /
    ``ItemFailed`` of a photo skipped (gone, moved out of ``project_id``, archived, no longer
    pending) or failed (a file that cannot be trashed, a missing folder). Sidecars
    (``storage.sidecar_bases``) go to the trash only with the photo's last original; such a
    photo's row is trashed (``trashed_at``), never deleted here, and keeps its derivatives
    until the purge. Each trashed file is recorded (``TrashedFile``) for a restore.

    Files first, rows last: every photo's files are renamed into the trash (each a single
    rename, so every original is in its folder or in ``.trash/`` at every instant), then the
    batch's rows and events are written in a few statements. The caller commits them with the
    items' statuses in one transaction. A crash in between leaves files in the trash whose rows
    still list them: the retry re-reads the rows, finds those files gone from the folder,
    counts them as done (never trashing anything twice) and finishes the rows. The rows are
    read when the batch starts, so a keep flag changed after the commit started is honoured.

    ``since`` (the job's creation time) lets a retry find files an interrupted attempt of the
    job trashed without recording them (``_trashed_earlier``), so they stay restorable.

    ``index`` is the job's ``FolderIndex``: the folder is then listed once per job, and the
    files trashed here are recorded in it. Without one (``None``) each lookup scans the folder.
    """
    wanted = list(dict.fromkeys(photo_ids))
    photos = Photo.objects.select_related("project__tenant").filter(project__tenant_id=tenant_id)
    found = photos.in_bulk(wanted)
    outcomes: dict[int, RemovalOutcome] = {}
    changes: list[_RowChange] = []
    failed: list[TrashFailed] = []
    folders: dict[int, Path] = {}
    names_recorded: dict[int, set[str]] = {}

    def recorded(project_pk: int) -> set[str]:
        """The trash names already recorded in a project (read once per batch, on a retry)."""
        if project_pk not in names_recorded:
            names_recorded[project_pk] = set(
                TrashedFile.objects.filter(photo__project_id=project_pk).values_list(
                    "trash_name", flat=True
                )
            )
        return names_recorded[project_pk]

    for photo_id in wanted:
        try:
            change = _photo_files_remove(
                found.get(photo_id),
                project_id=project_id,
                index=index,
                folders=folders,
                since=since,
                recorded=recorded,
            )
        except TrashFailed as exc:
            outcomes[photo_id] = exc
            if exc.trashed:
                failed.append(exc)
            continue
        except (ItemSkipped, ItemFailed) as exc:
            outcomes[photo_id] = exc
            continue
        changes.append(change)
        outcomes[photo_id] = change.message
    _row_changes_write(changes, tenant_id=tenant_id, job_id=job_id, failed=failed)
    return outcomes


def photo_file_removal(
    *,
    tenant_id: int,
    photo_id: int | None,
    project_id: int | None = None,
    job_id: int | None = None,
    index: FolderIndex | None = None,
) -> tuple[str, int | None]:
    """``photos_file_removal`` of one photo: returns ``(message, project_id touched)``.

    Raises the photo's ``ItemSkipped`` / ``ItemFailed``.
    """
    if photo_id is None:
        raise ItemSkipped("The photo no longer exists.")
    project = Photo.objects.filter(pk=photo_id).values_list("project_id", flat=True).first()
    outcome = photos_file_removal(
        tenant_id=tenant_id, photo_ids=[photo_id], project_id=project_id, job_id=job_id, index=index
    )[photo_id]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome, project
