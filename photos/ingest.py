"""Files into a project: uploads and rows for files found on disk (SPEC §3, §4, §9).

``photo_files_save`` checks every uploaded file (name, type, size, name clashes) before it
publishes anything; each accepted file is in a hidden temporary file of the project folder
(``photos/staging.py``: streamed there as the request arrived, or copied there now) and is
published without ever replacing an existing file, under the project's row lock, in the
transaction that creates or completes the photo rows with their ``item`` events. ``upload_finish`` starts the
``upload_postprocess`` task for the photos. ``photos_rows_for_disk`` is the row part alone,
for maintenance steps that find files on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from jobs.events import events_record_bulk
from jobs.models import Event
from jobs.tasks import start_task
from photos.events import item_event
from projects.models import Project

from . import fsrules, metadata, renaming, signatures, staging, storage
from .models import DerivativeStatus, Photo
from .staging import size_text

MAX_NAME_BYTES = staging.MAX_NAME_BYTES
# Rows are read and written in batches of this many base names.
BATCH = 500
CLASSES = ("jpg", "raw", "other")


class UploadedFileLike(Protocol):
    name: str | None
    size: int | None

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...

    def read(self, size: int = -1) -> bytes: ...

    def seek(self, offset: int) -> Any: ...


@dataclass
class IngestResult:
    """What an upload did: saved file names, per-file errors and the photos touched."""

    files: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)
    # Photos already in the project that only got sidecars (their XMP is read now).
    sidecar_photo_ids: list[int] = field(default_factory=list)
    # ``{"file": name sent, "saved_as": name kept}`` of files renamed by the rename template.
    renamed: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, name: str, error: str) -> None:
        self.errors.append({"file": name, "error": error})


# --- rows ------------------------------------------------------------------------------------


def _new_row(project: Project, files: storage.BaseFiles) -> Photo:
    # Every original can be a derivative source now (a RAW through its embedded preview).
    status = DerivativeStatus.PENDING
    return Photo(
        project=project,
        basename=files.basename,
        ext=files.ext,
        jpg_available=bool(files.jpg),
        raw_available=bool(files.raw),
        other_available=bool(files.other),
        keep_jpg=bool(files.jpg),
        keep_raw=bool(files.raw),
        thumbnail_status=status,
        preview_status=status,
    )


def _changes(row: Photo, files: storage.BaseFiles, *, keep_arrivals: bool) -> dict[str, Any]:
    """Field changes that make an existing row match its files on disk."""
    wanted: dict[str, Any] = {
        "jpg_available": bool(files.jpg),
        "raw_available": bool(files.raw),
        "other_available": bool(files.other),
        "ext": files.ext or row.ext,
    }
    if keep_arrivals:
        # An uploaded file is one the user wants: keep defaults to availability at ingest.
        if files.jpg and not row.jpg_available:
            wanted["keep_jpg"] = True
        if files.raw and not row.raw_available:
            wanted["keep_raw"] = True
    # Derivatives come from the JPG, else the other image, else the RAW: pending again when
    # that source is new.
    source_arrived = (
        (files.jpg and not row.jpg_available)
        or (files.other and not files.jpg and not row.other_available)
        or (files.raw and not files.jpg and not files.other and not row.raw_available)
    )
    if source_arrived:
        wanted["thumbnail_status"] = DerivativeStatus.PENDING
        wanted["preview_status"] = DerivativeStatus.PENDING
    return {k: v for k, v in wanted.items() if getattr(row, k) != v}


def _rows_for(project: Project, bases: Sequence[str]) -> dict[str, Photo]:
    return {p.basename: p for p in Photo.objects.filter(project=project, basename__in=bases)}


def _rows_upsert(
    *,
    project: Project,
    groups: dict[str, storage.BaseFiles],
    keep_arrivals: bool,
    actor_id: int | None,
    source: str,
) -> tuple[dict[str, Photo], set[str]]:
    """Create or update the rows of ``groups``; the rows by base name and the changed names.

    Five queries per batch of ``BATCH`` base names whatever the batch holds: read, insert the
    missing (``ignore_conflicts``: a row created meanwhile by another process wins), read
    again, update, events.
    """
    rows: dict[str, Photo] = {}
    touched: set[str] = set()
    names = sorted(base for base, files in groups.items() if files.all)
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        with transaction.atomic():
            before = _rows_for(project, batch)
            missing = [_new_row(project, groups[base]) for base in batch if base not in before]
            if missing:
                Photo.objects.bulk_create(missing, ignore_conflicts=True)
            now_rows = _rows_for(project, batch) if missing else before
            updates: list[Photo] = []
            events: list[Event] = []
            changed_fields: set[str] = set()
            now = timezone.now()
            for base in batch:
                row = now_rows.get(base)
                if row is None:
                    continue  # Deleted between the insert and the read: nothing to do.
                created = base not in before
                changes = (
                    {} if created else _changes(row, groups[base], keep_arrivals=keep_arrivals)
                )
                if changes:
                    for name, value in changes.items():
                        setattr(row, name, value)
                    row.updated_at = now
                    updates.append(row)
                    changed_fields.update(changes)
                if created or changes:
                    touched.add(base)
                    events.append(
                        item_event(
                            tenant_id=project.tenant_id,
                            project_id=project.pk,
                            photo_id=row.pk,
                            actor_id=actor_id,
                            fields={
                                "basename": base,
                                "created": created,
                                "changes": _row_state(row) if created else changes,
                                "files": groups[base].all,
                                "source": source,
                            },
                        )
                    )
                rows[base] = row
            if updates:
                Photo.objects.bulk_update(updates, [*sorted(changed_fields), "updated_at"])
            if events:
                events_record_bulk(events)
    return rows, touched


def _row_state(row: Photo) -> dict[str, Any]:
    return {
        "ext": row.ext,
        "jpg_available": row.jpg_available,
        "raw_available": row.raw_available,
        "other_available": row.other_available,
        "keep_jpg": row.keep_jpg,
        "keep_raw": row.keep_raw,
    }


def photos_rows_for_disk(*, project: Project, groups: dict[str, storage.BaseFiles]) -> list[Photo]:
    """Create or update the rows of base names scanned on disk; the rows created or changed.

    ``groups`` holds every original of each base name (``storage.folder_files`` or
    ``files_for_basename``); base names with no file are ignored. A new row gets availability
    from its files, keep flags equal to availability and ``pending`` derivative statuses. An
    existing row gets availability and ext from disk and ``pending`` statuses when its
    derivative source (a JPG, else another image, else a RAW) appeared; its keep flags
    are left alone (a changed keep flag would silently undo a cull), as ``manifest_check`` does.

    A fixed number of queries per batch of 500 base names. Cross-project duplicates are not
    checked here: ``duplicate_resolution`` renames those first.
    """
    rows, touched = _rows_upsert(
        project=project, groups=groups, keep_arrivals=False, actor_id=None, source="disk"
    )
    return [rows[base] for base in sorted(touched)]


# --- uploads ---------------------------------------------------------------------------------

# What a file of an upload that lost its project meanwhile is told.
PROJECT_GONE = (
    "The project was deleted or its folder moved during the upload; the file was not kept."
)


def upload_folder(project: Project) -> Path:
    """The folder an upload into ``project`` writes to; ``ApplicationError`` when the project is
    archived or its folder is missing. Checked before an upload's body is read
    (``config/upload_gate.py``) and again by ``photo_files_save``."""
    if project.status != Project.Status.ACTIVE:
        raise ApplicationError("The project is archived; files cannot be added to it.")
    folder = storage.project_dir(project)
    if not folder.is_dir():
        raise ApplicationError("The project's folder is missing on disk; run maintenance first.")
    return folder


_name_problem = staging.upload_name_problem


def _content_problem(upload: UploadedFileLike, name: str) -> str | None:
    """Whether the file's first bytes are what its extension says (``photos/signatures.py``)."""
    try:
        upload.seek(0)
        head = upload.read(signatures.HEAD_BYTES)
        upload.seek(0)
    except (OSError, ValueError) as exc:
        return f"The file could not be read ({exc})."
    _, ext = fsrules.split_name(name)
    return signatures.content_problem(ext, head)


def _size_problem(size: int | None, *, limit: int) -> str | None:
    if size is not None and size > limit:
        return f"The file is {size_text(size)}, over the limit of {size_text(limit)}."
    if size == 0:
        return "The file is empty."
    return None


def photo_files_save(
    *,
    project: Project,
    files: Sequence[UploadedFileLike],
    actor_id: int | None = None,
    all_or_nothing: bool = False,
    rename: str | None = None,
) -> IngestResult:
    """Save uploaded originals (and their sidecars) into the project folder and create or
    complete their photos.

    Refused per file, with a reason, before anything is published: unsafe or hidden names,
    unaccepted types (extensions compare case-insensitively), content that does not match the
    extension (a text file or a PNG named ``.jpg``: ``photos/signatures.py``), files over
    ``PHOTOS_MAX_UPLOAD_BYTES`` or empty, a name that exists (in any letter case), a second
    file of a class the photo already has (``IMG_1.jpeg`` next to ``IMG_1.jpg``), and a base
    name that belongs to a photo of another project of the tenant. With ``all_or_nothing``
    one refusal publishes nothing at all.

    With a ``rename`` template (``photos/renaming.py``), a photo whose name clashes with one of
    the project (or another project's photo) is not refused: all its files of this upload get
    a new, free base name, listed in ``renamed``. A sidecar (``.xmp``, ``.pp3``…) is accepted
    when its photo is in the upload or already in the project, and follows a renamed photo.

    A file is never replaced. Its bytes are in a hidden temporary file of the project folder
    (``photos/staging.py``: streamed there by the upload handler, or copied there now), fsynced,
    then published under its name only if that name is still free. Publishing and the rows
    happen in one transaction holding the project's row lock, the lock ``project_delete``
    takes: an upload racing a delete keeps every file or none, never some (a project deleted
    or its folder moved first refuses every file). Rows are created, or completed (a RAW
    after its JPG: ``raw_available`` and ``keep_raw`` go true), with ``item`` events.
    Temporary files not published are removed. Raises ``ApplicationError`` when the project is
    archived or its folder is missing (``upload_folder``), except for a project deleted since
    ``project`` was read (the request's files arrived meanwhile): then every file is refused
    as not kept.
    """
    result = IngestResult()
    try:
        folder = upload_folder(project)
    except ApplicationError:
        active = Project.objects.filter(pk=project.pk, status=Project.Status.ACTIVE)
        if project.status != Project.Status.ACTIVE or active.exists():
            raise
        # Deleted while the request's files arrived: each file is told it was not kept.
        for upload in files:
            result.refuse(upload.name or "", PROJECT_GONE)
        return result
    limit = settings.PHOTOS_MAX_UPLOAD_BYTES
    on_disk = storage.folder_files(folder)
    # Names compare in NFC and in any letter case: a Mac's ``É.jpg`` (NFD) on disk is taken
    # for an upload of ``É.jpg`` (NFC).
    names_taken = {
        fsrules.nfc(name).lower(): name
        for group in on_disk.values()
        for name in group.with_sidecars
    }
    classes_taken: dict[str, dict[str, str]] = {
        base: {kind: min(names) for kind in CLASSES if (names := getattr(group, kind))}
        for base, group in on_disk.items()
    }

    checked: list[tuple[UploadedFileLike, str]] = []
    for upload in files:
        # Stored in NFC (SPEC §4), whatever form the client sent.
        name = fsrules.nfc(upload.name or "")
        problem = (
            _name_problem(name)
            or _size_problem(upload.size, limit=limit)
            or getattr(upload, "problem", None)
            or _content_problem(upload, name)
        )
        if problem is not None:
            result.refuse(name, problem)
            continue
        checked.append((upload, name))
    taken = Taken(names=names_taken, classes=classes_taken)
    accepted = _originals_accept(
        project=project, checked=checked, taken=taken, template=rename, result=result
    )
    accepted += _sidecars_accept(
        checked=checked,
        taken=taken,
        photos={base for _, _, base, _ in accepted} | set(on_disk_photos(on_disk)),
        result=result,
    )
    if all_or_nothing and result.errors:
        return result

    with staging.Staging(folder, limit=limit) as copies:
        staged = _stage(accepted, copies, result)
        if all_or_nothing and result.errors:
            return result
        # One transaction from the project's row lock to the rows: a delete waits for both.
        with transaction.atomic():
            saved = _publish(project=project, staged=staged, result=result, strict=all_or_nothing)
            if saved:
                result.photo_ids = _rows_for_saved(
                    project=project, saved=saved, on_disk=on_disk, actor_id=actor_id
                )
                only_sidecars = [
                    base for base, new in saved.items() if all(k == "sidecar" for k, _ in new)
                ]
                result.sidecar_photo_ids = list(
                    Photo.objects.filter(project=project, basename__in=only_sidecars)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
    return result


@dataclass
class Taken:
    """Names and photo classes taken in the project folder (lower-case NFC names), and by
    the files of this upload accepted so far."""

    names: dict[str, str]
    classes: dict[str, dict[str, str]]
    library_names: frozenset[str] = frozenset()
    library_bases: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.library_names = frozenset(self.names)
        self.library_bases = frozenset(base.lower() for base in self.classes)

    def problem(self, name: str, base: str, kind: str) -> str | None:
        clash = self.names.get(name.lower())  # ``name`` is NFC already
        if clash is not None:
            return f"A file named {clash!r} already exists in this project."
        other = self.classes.get(base, {}).get(kind)
        if other is not None:
            return f"Photo {base!r} already has a {kind.upper()} file ({other!r})."
        return None

    def clashes_with_library(self, name: str, base: str, kind: str) -> bool:
        return name.lower() in self.library_names or bool(
            base.lower() in self.library_bases and self.classes.get(base, {}).get(kind)
        )

    def claim(self, name: str, base: str, kind: str | None) -> None:
        self.names[name.lower()] = name
        if kind:
            self.classes.setdefault(base, {})[kind] = name

    def base_free(self, base: str) -> bool:
        lowered = base.lower()
        return lowered not in {b.lower() for b in self.classes} and not any(
            n.startswith(lowered + ".") for n in self.names
        )


def on_disk_photos(on_disk: dict[str, storage.BaseFiles]) -> list[str]:
    """Base names in the folder that have an original (a photo a sidecar can join)."""
    return [base for base, group in on_disk.items() if group.all]


_Candidate = tuple[UploadedFileLike, str, str, str]


def _originals_accept(
    *,
    project: Project,
    checked: list[tuple[UploadedFileLike, str]],
    taken: Taken,
    template: str | None,
    result: IngestResult,
) -> list[_Candidate]:
    """The originals of ``checked`` that may be saved, as ``(file, name, base, class)``; the
    others refused in ``result``. A photo (the files of one base name) that clashes with the
    library is renamed by ``template`` when there is one."""
    groups: dict[str, list[tuple[UploadedFileLike, str, str]]] = {}
    for upload, name in checked:
        file_class = storage.classify(name)
        if file_class is not None:
            entry = (upload, name, str(file_class))
            groups.setdefault(fsrules.split_name(name)[0], []).append(entry)
    foreign = _foreign_bases(project, set(groups))
    accepted: list[_Candidate] = []
    for base, group in groups.items():
        clashes = base in foreign or any(
            taken.clashes_with_library(name, base, kind) for _, name, kind in group
        )
        new_base = (
            _free_base(project=project, template=template, base=base, group=group, taken=taken)
            if clashes and template
            else None
        )
        for upload, name, kind in group:
            if new_base is not None:
                saved_as = f"{new_base}.{fsrules.split_name(name)[1]}"
                problem = taken.problem(saved_as, new_base, kind)
                if problem is None:
                    result.renamed.append({"file": name, "saved_as": saved_as})
                    taken.claim(saved_as, new_base, kind)
                    accepted.append((upload, saved_as, new_base, kind))
                else:
                    result.refuse(name, problem)
                continue
            problem = taken.problem(name, base, kind)
            if problem is None and base in foreign:
                problem = (
                    f"Photo {base!r} already belongs to project {foreign[base]!r}; "
                    "rename the file or move that photo first."
                )
            if problem is None and clashes and template:
                problem = "No free name was found with the rename template."
            if problem is not None:
                result.refuse(name, problem)
                continue
            taken.claim(name, base, kind)
            accepted.append((upload, name, base, kind))
    return accepted


def _free_base(
    *,
    project: Project,
    template: str,
    base: str,
    group: list[tuple[UploadedFileLike, str, str]],
    taken: Taken,
) -> str | None:
    """A base name for a clashing photo rendered by ``template``: free in the folder, in
    this upload and in every project of the tenant."""
    facts = _name_facts(base, group)

    def is_free(candidate: str) -> bool:
        if fsrules.nfc(candidate) != candidate or not taken.base_free(candidate):
            return False
        return not _foreign_bases(project, {candidate}) and not (
            Photo.objects.filter(project=project, basename__iexact=candidate).exists()
        )

    return renaming.base_render(template, facts, is_free=is_free)


def _name_facts(base: str, group: list[tuple[UploadedFileLike, str, str]]) -> renaming.NameFacts:
    """Camera and capture date of the photo's first readable original (its JPG first)."""
    ordered = sorted(group, key=lambda entry: CLASSES.index(entry[2]))
    for upload, _, _ in ordered:
        meta = _upload_metadata(upload)
        if meta.camera or meta.taken_at:
            date = meta.taken_at.strftime("%Y%m%d") if meta.taken_at else ""
            return renaming.NameFacts(basename=base, camera=meta.camera, date=date)
    return renaming.NameFacts(basename=base)


def _upload_metadata(upload: UploadedFileLike) -> metadata.PhotoMetadata:
    try:
        if isinstance(upload, staging.StagedFile) and upload.tmp_name is not None:
            return metadata.read_metadata(upload.staging.folder / upload.tmp_name)
        path = getattr(upload, "temporary_file_path", None)
        if callable(path):
            return metadata.read_metadata(path())
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        return metadata.read_metadata_bytes(data)
    except (OSError, ValueError):
        return metadata.PhotoMetadata()


def _sidecars_accept(
    *,
    checked: list[tuple[UploadedFileLike, str]],
    taken: Taken,
    photos: set[str],
    result: IngestResult,
) -> list[_Candidate]:
    """The sidecars of ``checked`` whose photo is in the upload (``photos``, renamed ones
    under their new name) or in the project; a sidecar follows its renamed photo."""
    renamed_bases = {
        fsrules.split_name(entry["file"])[0]: fsrules.split_name(entry["saved_as"])[0]
        for entry in result.renamed
    }
    accepted: list[_Candidate] = []
    for upload, name in checked:
        bases = storage.sidecar_bases(name)
        if not bases:
            continue
        problem = _sidecar_content_problem(upload, name)
        saved_as, owner = name, None
        for base in bases:
            if base in renamed_bases:
                owner = renamed_bases[base]
                saved_as = owner + name[len(base) :]
                break
            if base in photos:
                owner = base
                break
        if problem is None and owner is None:
            problem = (
                "A sidecar is kept only with its photo: upload the photo "
                f"({bases[-1]!r}) with it, or first."
            )
        if problem is None:
            problem = taken.problem(saved_as, "", "")
        if problem is not None or owner is None:
            result.refuse(name, problem or "")
            continue
        if saved_as != name:
            result.renamed.append({"file": name, "saved_as": saved_as})
        taken.claim(saved_as, owner, None)
        accepted.append((upload, saved_as, owner, "sidecar"))
    return accepted


def _sidecar_content_problem(upload: UploadedFileLike, name: str) -> str | None:
    """An XMP sidecar is XML text; the other sidecar formats are not checked by content."""
    if fsrules.split_name(name)[1].lower() != "xmp":
        return None
    try:
        upload.seek(0)
        head = upload.read(signatures.HEAD_BYTES)
        upload.seek(0)
    except (OSError, ValueError) as exc:
        return f"The file could not be read ({exc})."
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None
    return "The content does not match the '.xmp' extension: expected XMP (XML) text."


def _rows_for_saved(
    *,
    project: Project,
    saved: dict[str, list[tuple[str, str]]],
    on_disk: dict[str, storage.BaseFiles],
    actor_id: int | None,
) -> list[int]:
    groups: dict[str, storage.BaseFiles] = {}
    for base, new in saved.items():
        group = on_disk.get(base) or storage.BaseFiles(base)
        group = storage.BaseFiles(
            base, list(group.jpg), list(group.raw), list(group.other), list(group.sidecars)
        )
        for kind, name in new:
            getattr(group, "sidecars" if kind == "sidecar" else kind).append(name)
        groups[base] = group
    rows, _ = _rows_upsert(
        project=project, groups=groups, keep_arrivals=True, actor_id=actor_id, source="upload"
    )
    return sorted(rows[base].pk for base in saved if base in rows)


_Staged = tuple[staging.StagedFile, str, str, str]


def _stage(
    accepted: list[tuple[UploadedFileLike, str, str, str]],
    copies: staging.Staging,
    result: IngestResult,
) -> list[_Staged]:
    """Every accepted file in a hidden temporary file of the project folder, fsynced: a file
    the upload handler staged as it arrived as it is, any other copied there now."""
    staged: list[_Staged] = []
    for upload, name, base, kind in accepted:
        try:
            if isinstance(upload, staging.StagedFile) and upload.tmp_name is not None:
                file = upload
            else:
                file = copies.copy(upload, name=name)
            file.sync()
        except staging.TooLarge:
            limit = copies.limit
            result.refuse(name, f"The file is over the limit of {size_text(limit)}.")
            continue
        except OSError as exc:
            result.refuse(name, f"The file could not be saved ({exc.strerror or exc}).")
            continue
        staged.append((file, name, base, kind))
    return staged


def _publish(
    *, project: Project, staged: list[_Staged], result: IngestResult, strict: bool
) -> dict[str, list[tuple[str, str]]]:
    """Publish the staged files under their names, holding the project's row lock; the
    saved names by base name. Every file is refused when the project was deleted (archived)
    or its folder is no longer the one the files were staged in; with ``strict``, one name
    taken meanwhile takes back the names already given, so nothing is kept.

    Runs in the caller's transaction (``photo_files_save``), which keeps the lock until the
    rows exist.
    """
    saved: dict[str, list[tuple[str, str]]] = {}
    current = (
        Project.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk=project.pk)
        .first()
    )
    active = current is not None and current.status == Project.Status.ACTIVE
    folder = storage.project_dir(current) if current is not None and active else None
    if folder is None or not all(file.staging.is_folder(folder) for file, *_ in staged):
        for _, name, _, _ in staged:
            result.refuse(name, PROJECT_GONE)
        return saved
    published: list[staging.StagedFile] = []
    for file, name, base, kind in staged:
        try:
            file.publish(folder / name)
        except FileExistsError:
            result.refuse(name, f"A file named {name!r} already exists in this project.")
            continue
        except OSError as exc:
            result.refuse(name, f"The file could not be saved ({exc.strerror or exc}).")
            continue
        published.append(file)
        result.files.append(name)
        saved.setdefault(base, []).append((kind, name))
    if strict and result.errors:
        for file in published:
            file.unpublish()
        result.files.clear()
        return {}
    return saved


def _foreign_bases(project: Project, bases: set[str]) -> dict[str, str]:
    """Base names that belong to a photo of another project of the tenant → that project."""
    found: dict[str, str] = {}
    names = sorted(bases)
    for start in range(0, len(names), BATCH):
        found.update(
            Photo.objects.for_tenant(project.tenant_id)
            .filter(basename__in=names[start : start + BATCH])
            .exclude(project_id=project.pk)
            .order_by("project_id")
            .values_list("basename", "project__name")
        )
    return found


def upload_finish(
    *,
    project: Project,
    photo_ids: Sequence[int],
    actor_id: int | None = None,
    source: str = "upload",
) -> dict[str, Any] | None:
    """Start ``upload_postprocess`` for uploaded photos (derivatives, EXIF, then reconcile).

    Returns the started task (``jobs.tasks.start_task``), or ``None`` when there are
    no photos. Past 2,000 photos the first step is split into chunks.
    """
    if not photo_ids:
        return None
    payload = {"actor_id": actor_id} if actor_id is not None else None
    return dict(
        start_task(
            "upload_postprocess",
            project.tenant,
            project=project,
            items=list(photo_ids),
            payload=payload,
            source=source,
        )
    )
