"""Uploads into a project (photo_files_save, upload_finish) and rows for files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError
from jobs.models import Event, Job, JobStatus, TaskRun
from jobs.runtime import drain
from photos import storage
from photos.ingest import photo_files_save, photos_rows_for_disk, upload_finish
from photos.models import DerivativeStatus, Photo
from photos.storage import project_dir
from projects.models import Project
from tests.factories import (
    image_bytes,
    jpeg_bytes,
    make_photo,
    make_project,
    raw_bytes,
    write_file,
)


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes() if data is None else data)


class RawUpload:
    """An upload-like object that keeps its name as sent (Django's own files strip folders)
    and can declare a size other than what it streams."""

    def __init__(self, name: str, chunks: list[bytes], size: int | None = None) -> None:
        self.name, self._chunks = name, chunks
        self.size = sum(map(len, chunks)) if size is None else size

    def chunks(self, chunk_size=None):  # type: ignore[no-untyped-def]
        yield from self._chunks

    def read(self, size: int = -1) -> bytes:
        data = b"".join(self._chunks)
        return data if size < 0 else data[:size]

    def seek(self, offset: int) -> int:
        return offset


def names_on_disk(project) -> list[str]:
    return sorted(p.name for p in project_dir(project).iterdir() if p.is_file())


def error_for(result, name: str) -> str:
    return next(e["error"] for e in result.errors if e["file"] == name)


# --- accepted and refused files --------------------------------------------------------------


def test_accepted_types_are_saved_case_insensitively_and_rows_created(project, user):
    result = photo_files_save(
        project=project,
        files=[upload("IMG_1.JPG"), upload("IMG_2.jpeg"), upload("IMG_3.Cr2", raw_bytes())],
        actor_id=user.pk,
    )

    assert result.errors == []
    assert result.files == ["IMG_1.JPG", "IMG_2.jpeg", "IMG_3.Cr2"]
    assert names_on_disk(project) == ["IMG_1.JPG", "IMG_2.jpeg", "IMG_3.Cr2"]
    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert sorted(result.photo_ids) == sorted(p.pk for p in rows.values())
    jpg = rows["IMG_1"]
    assert (jpg.ext, jpg.jpg_available, jpg.keep_jpg, jpg.raw_available) == (
        "jpg",
        True,
        True,
        False,
    )
    assert jpg.thumbnail_status == DerivativeStatus.PENDING
    raw = rows["IMG_3"]
    assert (raw.ext, raw.raw_available, raw.keep_raw, raw.jpg_available) == (
        "cr2",
        True,
        True,
        False,
    )
    assert raw.thumbnail_status == DerivativeStatus.PENDING  # a RAW is a derivative source
    event = Event.objects.get(photo_id=jpg.pk, type="item")
    assert event.actor_id == user.pk
    assert event.payload["created"] is True
    assert event.payload["source"] == "upload"


def test_unaccepted_types_are_refused_and_nothing_is_written(project):
    result = photo_files_save(
        project=project,
        files=[upload("notes.txt", b"hi"), upload("evil.exe", b"MZ"), upload("README", b"x")],
    )

    assert result.files == []
    assert result.photo_ids == []
    assert "'.txt' files are not accepted" in error_for(result, "notes.txt")
    assert "without an extension" in error_for(result, "README")
    assert [e["file"] for e in result.errors] == ["notes.txt", "evil.exe", "README"]
    assert names_on_disk(project) == []
    assert not Photo.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["../x.jpg", "a/b.jpg", "a\\b.jpg", "x\x00.jpg", "..", ".hidden.jpg", ".project.yaml", ""],
)
def test_unsafe_and_hidden_names_are_refused(project, photos_root, name):
    result = photo_files_save(project=project, files=[RawUpload(name, [jpeg_bytes()])])

    assert result.files == []
    assert [e["file"] for e in result.errors] == [name]
    assert names_on_disk(project) == []
    assert sorted(p.name for p in (photos_root / project.tenant.slug).iterdir()) == [project.folder]


def test_files_over_the_size_limit_are_refused(project, settings):
    settings.PHOTOS_MAX_UPLOAD_BYTES = 1000
    result = photo_files_save(
        project=project,
        files=[
            upload("BIG.jpg", b"\xff\xd8\xff" + b"x" * 998),
            upload("EMPTY.jpg", b""),
            upload("OK.jpg", b"\xff\xd8\xff" + b"y" * 997),
        ],
    )

    assert result.files == ["OK.jpg"]
    assert "over the limit" in error_for(result, "BIG.jpg")
    assert "empty" in error_for(result, "EMPTY.jpg")
    assert names_on_disk(project) == ["OK.jpg"]


def test_a_file_larger_than_it_claims_is_refused_while_streaming(project, settings):
    settings.PHOTOS_MAX_UPLOAD_BYTES = 1000
    liar = RawUpload("LIAR.jpg", [b"\xff\xd8\xff" + b"a" * 597, b"b" * 600], size=10)

    result = photo_files_save(project=project, files=[liar])

    assert result.files == []
    assert "over the limit" in error_for(result, "LIAR.jpg")
    assert list(project_dir(project).iterdir()) == []  # no temporary file left behind
    assert not Photo.objects.exists()


def test_base_name_of_another_project_of_the_tenant_is_refused(tenant, other_tenant, project):
    make_photo(make_project(tenant, "Wedding"), "IMG_7")
    make_photo(make_project(other_tenant, "Foreign"), "IMG_8")

    result = photo_files_save(project=project, files=[upload("IMG_7.jpg"), upload("IMG_8.jpg")])

    assert result.files == ["IMG_8.jpg"]  # another tenant's names are no concern of ours
    assert "already belongs to project 'Wedding'" in error_for(result, "IMG_7.jpg")
    assert names_on_disk(project) == ["IMG_8.jpg"]


def test_existing_names_are_never_overwritten(project):
    write_file(project_dir(project) / "IMG_1.jpg", b"original")
    make_photo(project, "IMG_1", write=False)

    result = photo_files_save(
        project=project,
        files=[upload("IMG_1.jpg"), upload("IMG_1.JPG"), upload("IMG_1.jpeg")],
    )

    assert result.files == []
    assert "already exists" in error_for(result, "IMG_1.jpg")
    assert "already exists" in error_for(result, "IMG_1.JPG")
    assert "already has a JPG file ('IMG_1.jpg')" in error_for(result, "IMG_1.jpeg")
    assert (project_dir(project) / "IMG_1.jpg").read_bytes() == b"original"
    assert names_on_disk(project) == ["IMG_1.jpg"]


def test_the_same_name_twice_in_one_upload_keeps_the_first(project):
    result = photo_files_save(
        project=project, files=[upload("A.jpg", jpeg_bytes(size=(10, 10))), upload("A.jpg")]
    )

    assert result.files == ["A.jpg"]
    assert "already exists" in result.errors[0]["error"]
    assert Photo.objects.filter(project=project).count() == 1


def test_all_or_nothing_writes_nothing_when_one_file_is_refused(project):
    result = photo_files_save(
        project=project, files=[upload("OK.jpg"), upload("bad.txt", b"x")], all_or_nothing=True
    )

    assert result.files == []
    assert [e["file"] for e in result.errors] == ["bad.txt"]
    assert names_on_disk(project) == []


def test_archived_project_or_missing_folder_refuses_the_upload(tenant):
    archived = make_project(tenant, "Old")
    Project.objects.filter(pk=archived.pk).update(status=Project.Status.ARCHIVED)
    archived.refresh_from_db()
    gone = make_project(tenant, "Gone", create_dir=False)

    with pytest.raises(ApplicationError, match="archived"):
        photo_files_save(project=archived, files=[upload("A.jpg")])
    with pytest.raises(ApplicationError, match="missing"):
        photo_files_save(project=gone, files=[upload("A.jpg")])
    assert not (project_dir(gone)).exists()


# --- completing photos -----------------------------------------------------------------------


def test_raw_after_its_jpg_completes_the_same_photo(project):
    first = photo_files_save(project=project, files=[upload("IMG_5.jpg")])
    photo_id = first.photo_ids[0]
    Photo.objects.filter(pk=photo_id).update(thumbnail_status=DerivativeStatus.GENERATED)

    second = photo_files_save(project=project, files=[upload("IMG_5.NEF", raw_bytes(make="Nikon"))])

    assert second.photo_ids == [photo_id]
    photo = Photo.objects.get(pk=photo_id)
    assert (photo.jpg_available, photo.raw_available, photo.keep_jpg, photo.keep_raw) == (
        True,
        True,
        True,
        True,
    )
    assert photo.ext == "jpg"
    assert photo.thumbnail_status == DerivativeStatus.GENERATED  # a RAW changes no derivative
    event = Event.objects.filter(photo_id=photo_id, type="item").latest("id")
    assert event.payload["created"] is False
    assert event.payload["changes"] == {"raw_available": True, "keep_raw": True}


def test_completing_a_photo_keeps_the_users_cull(project):
    photo = make_photo(project, "IMG_6", keep_jpg=False)

    photo_files_save(project=project, files=[upload("IMG_6.arw", raw_bytes(make="Sony"))])

    photo.refresh_from_db()
    assert (photo.keep_jpg, photo.raw_available, photo.keep_raw) == (False, True, True)


def test_upload_runs_a_fixed_number_of_queries(project, django_assert_max_num_queries):
    # 8, plus the project's row lock and the savepoint of the transaction that holds it.
    with django_assert_max_num_queries(11):
        photo_files_save(project=project, files=[upload(f"A_{i}.jpg") for i in range(2)])
    with django_assert_max_num_queries(11):
        photo_files_save(project=project, files=[upload(f"B_{i}.jpg") for i in range(30)])
    assert Photo.objects.filter(project=project).count() == 32


# --- rows for files found on disk ------------------------------------------------------------


def test_rows_for_disk_creates_new_rows_and_updates_availability(project):
    culled = make_photo(project, "OLD", keep_jpg=False, write=False)
    groups = {
        "NEW": storage.BaseFiles("NEW", jpg=["NEW.jpg"], raw=["NEW.dng"]),
        "OLD": storage.BaseFiles("OLD", jpg=["OLD.jpg"], raw=["OLD.CR2"]),
        "SAME": storage.BaseFiles("SAME", jpg=["SAME.jpg"]),
        "EMPTY": storage.BaseFiles("EMPTY"),
    }
    same = make_photo(project, "SAME", write=False)

    rows = photos_rows_for_disk(project=project, groups=groups)

    assert [r.basename for r in rows] == ["NEW", "OLD"]
    new = Photo.objects.get(project=project, basename="NEW")
    assert (new.jpg_available, new.raw_available, new.keep_jpg, new.keep_raw) == (True,) * 4
    assert new.thumbnail_status == DerivativeStatus.PENDING
    culled.refresh_from_db()
    # Availability follows the disk; the keep flags stay as the user left them.
    assert (culled.raw_available, culled.keep_raw, culled.keep_jpg) == (True, False, False)
    assert not Photo.objects.filter(basename="EMPTY").exists()
    assert Photo.objects.get(pk=same.pk).updated_at == same.updated_at


def test_rows_for_disk_runs_a_fixed_number_of_queries(project, django_assert_max_num_queries):
    def groups(prefix: str, n: int) -> dict[str, storage.BaseFiles]:
        return {
            f"{prefix}{i}": storage.BaseFiles(f"{prefix}{i}", jpg=[f"{prefix}{i}.jpg"])
            for i in range(n)
        }

    with django_assert_max_num_queries(7):
        photos_rows_for_disk(project=project, groups=groups("a", 3))
    with django_assert_max_num_queries(7):
        photos_rows_for_disk(project=project, groups=groups("b", 50))
    assert Photo.objects.filter(project=project).count() == 53


# --- upload_finish and the pipeline ----------------------------------------------------------


def test_upload_finish_without_photos_starts_nothing(project):
    assert upload_finish(project=project, photo_ids=[]) is None
    assert not TaskRun.objects.exists()


def test_upload_then_postprocess_generates_derivatives_end_to_end(project, user):
    result = photo_files_save(
        project=project,
        files=[
            upload("IMG_1.jpg", jpeg_bytes(size=(600, 400), orientation=6)),
            upload("IMG_2.JPG", jpeg_bytes(size=(64, 48))),
            upload("IMG_3.cr2", raw_bytes()),
        ],
        actor_id=user.pk,
    )

    started = upload_finish(project=project, photo_ids=result.photo_ids, actor_id=user.pk)
    drain()

    task = TaskRun.objects.get(pk=started["task_id"])
    assert (task.type, task.source) == ("upload_postprocess", "upload")
    job = Job.objects.get(task=task, type="upload_postprocess")
    assert job.status == JobStatus.COMPLETED
    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert (rows["IMG_1"].width, rows["IMG_1"].height) == (400, 600)
    assert rows["IMG_1"].thumbnail_status == DerivativeStatus.GENERATED
    assert rows["IMG_2"].preview_status == DerivativeStatus.GENERATED
    assert rows["IMG_3"].thumbnail_status == DerivativeStatus.NOT_SUPPORTED
    assert (project_dir(project) / ".thumb" / "IMG_1.webp").is_file()
    assert (project_dir(project) / ".preview" / "IMG_2.webp").is_file()
    assert not (project_dir(project) / ".thumb" / "IMG_3.webp").exists()


def test_another_image_next_to_a_jpg_leaves_the_derivative_statuses(project):
    photo = make_photo(project, "IMG_4", thumbnail_status=DerivativeStatus.GENERATED)
    raw_only = make_photo(project, "RAW_4", jpg=False, raw=True)

    photo_files_save(
        project=project,
        files=[upload("IMG_4.png", image_bytes("PNG")), upload("RAW_4.tif", image_bytes("TIFF"))],
    )

    photo.refresh_from_db()
    raw_only.refresh_from_db()
    assert (photo.other_available, photo.thumbnail_status) == (True, DerivativeStatus.GENERATED)
    assert (raw_only.other_available, raw_only.ext) == (True, "tif")
    assert raw_only.thumbnail_status == DerivativeStatus.PENDING


@pytest.mark.parametrize("name", ["IMG\x1b[31m.jpg", "IMG\u202egpj.jpg", "IMG\x07.jpg"])
def test_names_with_control_or_invisible_characters_are_refused(project, name):
    from photos.ingest import photo_files_save

    result = photo_files_save(project=project, files=[upload(name)])
    assert result.files == []
    assert "control" in result.errors[0]["error"]
    assert not Photo.objects.exists()


# --- content, not only the extension (SPEC §14) -----------------------------------------------

PHP = b"<?php system($_GET['cmd']); ?>\n"


def test_a_script_named_jpg_is_refused_and_nothing_is_written(project):
    result = photo_files_save(
        project=project,
        files=[upload("shell.jpg", PHP), upload("notes.JPG", b"just some text"), upload("OK.jpg")],
    )

    assert result.files == ["OK.jpg"]
    assert error_for(result, "shell.jpg") == (
        "The content does not match the '.jpg' extension: expected a JPEG image, found not a "
        "recognised image or RAW format."
    )
    assert "'.JPG' extension" in error_for(result, "notes.JPG")
    assert names_on_disk(project) == ["OK.jpg"]
    assert list(Photo.objects.values_list("basename", flat=True)) == ["OK"]


def test_a_png_named_jpg_is_refused(project):
    """Within the accepted image types too: the file would be served and processed as JPEG."""
    result = photo_files_save(project=project, files=[upload("IMG_1.jpg", image_bytes("PNG"))])

    assert result.files == []
    assert "expected a JPEG image, found a PNG image" in error_for(result, "IMG_1.jpg")
    assert names_on_disk(project) == []


def test_a_mismatch_refuses_the_whole_request_when_all_or_nothing(project):
    result = photo_files_save(
        project=project, files=[upload("IMG_1.jpg"), upload("IMG_2.cr2", PHP)], all_or_nothing=True
    )

    assert result.files == []
    assert "expected a TIFF container" in error_for(result, "IMG_2.cr2")
    assert names_on_disk(project) == []
    assert not Photo.objects.exists()


@pytest.mark.parametrize("name", ["IMG_1.cr2", "IMG_1.NEF", "IMG_1.arw", "IMG_1.dng", "IMG_1.raw"])
def test_tiff_based_raw_files_are_accepted(project, name):
    result = photo_files_save(project=project, files=[upload(name, raw_bytes())])

    assert result.errors == []
    assert result.files == [name]
    assert Photo.objects.get().raw_available is True


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("IMG_1.orf", b"IIRO\x08\x00\x00\x00" + b"\x00" * 64),
        ("IMG_1.rw2", b"IIU\x00\x18\x00\x00\x00" + b"\x00" * 64),
        ("IMG_1.raf", b"FUJIFILMCCD-RAW 0201FF383501" + b"\x00" * 64),
        ("IMG_1.cr3", b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + b"\x00" * 64),
        ("IMG_1.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        ("IMG_1.webp", None),
        ("IMG_1.tif", None),
    ],
)
def test_other_containers_are_recognised(project, name, data):
    if data is None:
        data = image_bytes("WEBP" if name.endswith("webp") else "TIFF")

    result = photo_files_save(project=project, files=[upload(name, data)])

    assert result.errors == []
    assert result.files == [name]


@pytest.mark.parametrize(
    ("name", "data", "found"),
    [
        ("IMG_1.cr2", None, "a JPEG image"),
        ("IMG_1.raf", b"II*\x00" + b"\x00" * 64, "a TIFF container"),
        ("IMG_1.cr3", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "a HEIC/HEIF image"),
        ("IMG_1.png", None, "a JPEG image"),
        ("IMG_1.heic", b"GIF89a" + b"\x00" * 64, "not a recognised image or RAW format"),
    ],
)
def test_a_raw_or_image_extension_with_other_content_is_refused(project, name, data, found):
    result = photo_files_save(project=project, files=[upload(name, data)])

    assert result.files == []
    assert f"found {found}." in error_for(result, name)
    assert names_on_disk(project) == []


# --- racing a project delete or a name taken meanwhile (issue 20 item 13) ------------------


class DeletingUpload:
    """A file whose bytes arrive while something else happens: ``during()`` runs once, when
    the upload starts reading it (a project deleted, a file put in the folder)."""

    def __init__(self, name: str, during) -> None:  # type: ignore[no-untyped-def]
        self.name = name
        self.data = jpeg_bytes()
        self.size = len(self.data)
        self.content_type = "image/jpeg"
        self._during = during
        self._pos = 0

    def chunks(self, chunk_size=None):  # type: ignore[no-untyped-def]
        if self._during is not None:
            during, self._during = self._during, None
            during()
        yield self.data

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self._pos + size
        data, self._pos = self.data[self._pos : end], min(end, len(self.data))
        return data

    def seek(self, offset: int) -> None:
        self._pos = offset


def _leftovers(root: Path) -> list[str]:
    """Originals and upload temporaries anywhere under ``root`` (tombstones included)."""
    return sorted(
        p.name
        for p in root.rglob("*")
        if p.is_file() and ("IMG_" in p.name or p.name.endswith(".tmp"))
    )


@pytest.mark.parametrize("strict", [True, False])
def test_an_upload_racing_a_project_delete_keeps_no_file_and_says_so(
    tenant, user, project, photos_root, strict
):
    from photos.project_deletion import project_delete

    files = [
        upload("IMG_1.jpg"),
        DeletingUpload("IMG_2.jpg", lambda: project_delete(user=user, project=project)),
        upload("IMG_3.jpg"),
    ]

    result = photo_files_save(project=project, files=files, all_or_nothing=strict)

    # Never "saved" for a file that went into a deleted project's folder.
    assert result.files == []
    assert result.photo_ids == []
    refused = {e["file"] for e in result.errors}
    if strict:
        assert refused  # At least one file said why; nothing kept.
    else:
        assert refused == {"IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"}
    assert not Photo.objects.filter(project=project).exists()
    # No original and no temporary file left behind, in the tombstone or anywhere.
    assert _leftovers(photos_root) == []


def test_a_project_deleted_before_publishing_refuses_every_staged_file(
    tenant, user, project, photos_root
):
    from photos import ingest
    from photos.project_deletion import project_delete

    files = [upload("IMG_1.jpg"), upload("IMG_2.jpg")]
    staged = ingest._stage

    def stage_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        done = staged(*args, **kwargs)
        project_delete(user=user, project=project)
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest, "_stage", stage_then_delete)
        result = photo_files_save(project=project, files=files, all_or_nothing=False)

    assert result.files == []
    assert [e["error"] for e in result.errors] == [ingest.PROJECT_GONE] * 2
    assert _leftovers(photos_root) == []


@pytest.mark.parametrize("strict", [True, False])
def test_a_name_taken_during_a_strict_upload_keeps_nothing_of_it(project, photos_root, strict):
    folder = storage.project_dir(project)
    theirs = b"a file someone copied in through the share"
    files = [
        upload("IMG_1.jpg"),
        DeletingUpload("IMG_2.jpg", lambda: (folder / "IMG_3.jpg").write_bytes(theirs)),
        upload("IMG_3.jpg"),
    ]

    result = photo_files_save(project=project, files=files, all_or_nothing=strict)

    assert [e["file"] for e in result.errors] == ["IMG_3.jpg"]
    assert (folder / "IMG_3.jpg").read_bytes() == theirs
    if strict:
        assert result.files == []
        assert not (folder / "IMG_1.jpg").exists()
        assert not (folder / "IMG_2.jpg").exists()
        assert not Photo.objects.filter(project=project).exists()
    else:
        assert result.files == ["IMG_1.jpg", "IMG_2.jpg"]
        assert (folder / "IMG_1.jpg").read_bytes() == jpeg_bytes()
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
