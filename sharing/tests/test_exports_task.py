"""The ``export`` task (SPEC §18) run by the engine: real JPEGs and DNGs on disk, the ZIP
opened and its members read back, a crash in the middle, expiry by maintenance."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image, ImageCms

from jobs.models import Job, JobItem, JobStatus, TaskRun
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import storage
from photos.fsrules import temp_create
from sharing import exportfiles, exports
from sharing.models import Export
from tests.factories import jpeg_bytes, make_photo, make_user, write_file
from tests.raw_fixtures import dng_bytes


@pytest.fixture
def editor(tenant):
    return make_user(tenant, "eddie", role="editor")


def _photo(project, basename, *, data=None, raw=None, raw_ext="dng", **fields):
    photo = make_photo(project, basename, write=False, raw=raw is not None, **fields)
    folder = storage.project_dir(project)
    write_file(folder / f"{basename}.jpg", data if data is not None else jpeg_bytes())
    if raw is not None:
        write_file(folder / f"{basename}.{raw_ext}", raw)
    return photo


def _items(*photos):  # type: ignore[no-untyped-def]
    return [{"photo_id": p.pk} for p in photos]


def _run(export: Export) -> Export:
    drain()
    export.refresh_from_db()
    return export


def _zip(export: Export) -> zipfile.ZipFile:
    return zipfile.ZipFile(exportfiles.zip_path(export.tenant.slug, export.pk))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_originals_export_holds_every_file_byte_for_byte_and_leaves_the_originals_alone(
    project, editor
):
    raw = dng_bytes()
    a = _photo(project, "IMG_0001", data=jpeg_bytes(color=(10, 20, 30)), raw=raw)
    b = _photo(project, "IMG_0002", data=jpeg_bytes(color=(40, 50, 60)))
    folder = storage.project_dir(project)
    before = _snapshot(folder)

    started = exports.export_start(user=editor, kind="originals", items=_items(a, b))
    export = _run(started.export)

    assert export.status == Export.Status.COMPLETED, export.error
    with _zip(export) as archive:
        assert archive.namelist() == ["IMG_0001.jpg", "IMG_0001.dng", "IMG_0002.jpg"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.read("IMG_0001.dng") == raw
        assert archive.read("IMG_0001.jpg") == before["IMG_0001.jpg"][0]
        assert archive.read("IMG_0002.jpg") == before["IMG_0002.jpg"][0]
        assert archive.testzip() is None
    assert _snapshot(folder) == before  # read, never moved or changed
    path = exportfiles.zip_path(export.tenant.slug, export.pk)
    assert export.size == path.stat().st_size
    assert export.photo_count == 2
    assert export.completed_at is not None
    assert export.expires_at == export.completed_at + timedelta(hours=72)
    # Nothing left beside the ZIP: no staging folder, no temporary file.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    task = TaskRun.objects.get(pk=started.task["task_id"])
    assert task.status == JobStatus.COMPLETED
    assert task.payload["title"] == "Exporting 2 photos"


def test_jpeg_export_resizes_turns_upright_converts_to_srgb_and_names_from_the_template(
    project, editor
):
    when = datetime(2026, 7, 14, 9, 30, tzinfo=UTC)
    # Landscape pixels with orientation 6: a portrait photo once turned.
    shots = [
        _photo(
            project,
            f"DSC_{n}",
            data=jpeg_bytes(size=(1600, 1200), orientation=6, color=(200, 30 * n, 30)),
            taken_at=when,
            camera="Canon EOS R5",
        )
        for n in range(1, 4)
    ]
    started = exports.export_start(
        user=editor,
        kind="jpeg",
        items=_items(*reversed(shots)),
        long_edge=800,
        quality=80,
        name_template="{date}_{seq}_{camera}",
    )
    export = _run(started.export)

    assert export.status == Export.Status.COMPLETED, export.error
    assert (export.long_edge, export.quality) == (800, 80)
    with _zip(export) as archive:
        names = archive.namelist()
        assert names == [
            "2026-07-14_001_Canon EOS R5.jpg",
            "2026-07-14_002_Canon EOS R5.jpg",
            "2026-07-14_003_Canon EOS R5.jpg",
        ]
        first = Image.open(io.BytesIO(archive.read(names[0])))
        assert first.format == "JPEG"
        assert first.size == (600, 800)  # upright (portrait), long edge 800
        profile = ImageCms.ImageCmsProfile(io.BytesIO(first.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile)
        # Request order is the sequence: the first member is the last photo (green 90).
        assert first.convert("RGB").getpixel((300, 400))[1] == pytest.approx(90, abs=8)
    assert not exportfiles.staging_dir(export.tenant.slug, export.pk).exists()


def test_jpeg_export_never_enlarges_and_draws_the_watermark(project, editor):
    plain = _photo(project, "SMALL", data=jpeg_bytes(size=(320, 240), color=(60, 60, 60)))
    started = exports.export_start(
        user=editor, kind="jpeg", items=_items(plain), long_edge=2048, watermark="© Acme Studio"
    )
    export = _run(started.export)
    with _zip(export) as archive:
        image = Image.open(io.BytesIO(archive.read("SMALL.jpg"))).convert("L")
    assert image.size == (320, 240)
    # The text is drawn in the bottom right corner; the top left stays the photo's grey.
    corner = image.crop((160, 180, 320, 240))
    assert corner.getextrema()[1] > 150
    assert image.crop((0, 0, 80, 60)).getextrema() == pytest.approx((60, 60), abs=6)


def test_names_are_cleaned_and_unique_inside_the_zip(project, editor):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    a = _photo(project, "A", taken_at=when, camera="Nikon/Z 9: *pro*")
    b = _photo(project, "B", taken_at=when, camera="Nikon/Z 9: *pro*", raw=dng_bytes())
    c = _photo(project, "C")  # no date, no camera
    started = exports.export_start(
        user=editor,
        kind="originals",
        items=_items(a, b, c),
        name_template="{date} {camera}",
    )
    export = _run(started.export)
    with _zip(export) as archive:
        assert archive.namelist() == [
            "2026-01-02 Nikon_Z 9_ _pro_.jpg",
            "2026-01-02 Nikon_Z 9_ _pro_-2.jpg",
            "2026-01-02 Nikon_Z 9_ _pro_-2.dng",
            "undated.jpg",
        ]


def test_a_photo_without_its_file_fails_alone_and_the_zip_has_the_others(project, editor):
    a = _photo(project, "HERE")
    gone = _photo(project, "GONE")
    (storage.project_dir(project) / "GONE.jpg").unlink()
    export = _run(exports.export_start(user=editor, kind="jpeg", items=_items(a, gone)).export)
    assert export.status == Export.Status.COMPLETED
    assert export.photo_count == 1
    assert export.error == "1 photo could not be exported."
    with _zip(export) as archive:
        assert archive.namelist() == ["HERE.jpg"]
    item = JobItem.objects.get(photo=gone)
    assert item.status == "failed"
    assert "GONE" in item.message


def test_an_export_with_no_readable_photo_fails_with_its_reason(project, editor):
    gone = _photo(project, "GONE")
    (storage.project_dir(project) / "GONE.jpg").unlink()
    export = _run(exports.export_start(user=editor, kind="originals", items=_items(gone)).export)
    assert export.status == Export.Status.FAILED
    assert export.error == "No photo could be exported (1 failed)."
    assert not exportfiles.zip_path(export.tenant.slug, export.pk).exists()


def test_a_raw_only_photo_is_rendered_from_its_embedded_preview(project, editor):
    photo = make_photo(project, "RAWONLY", jpg=False, raw=True, write=False)
    write_file(
        storage.project_dir(project) / "RAWONLY.dng",
        dng_bytes(preview_size=(600, 400), preview_color=(20, 200, 40)),
    )
    export = _run(exports.export_start(user=editor, kind="jpeg", items=_items(photo)).export)
    assert export.status == Export.Status.COMPLETED, export.error
    with _zip(export) as archive:
        image = Image.open(io.BytesIO(archive.read("RAWONLY.jpg")))
    assert image.size == (600, 400)


def test_a_crash_mid_way_resumes_and_never_renders_a_photo_twice(project, editor, monkeypatch):
    photos = [_photo(project, f"IMG_{n}", data=jpeg_bytes(size=(400, 300))) for n in range(5)]
    rendered: list[str] = []
    real = exportfiles.rendition_write
    crashed = []

    def rendition_then_crash(photo, path, **kw):  # type: ignore[no-untyped-def]
        size = real(photo, path, **kw)
        rendered.append(photo.basename)
        if photo.basename == "IMG_2" and not crashed:
            crashed.append(path)
            # The worker dies after the file is written, before its item is marked done.
            raise RuntimeError("worker killed")
        return size

    monkeypatch.setattr(exportfiles, "rendition_write", rendition_then_crash)
    started = exports.export_start(user=editor, kind="jpeg", items=_items(*photos))
    job = Job.objects.get(task_id=started.task["task_id"])

    def after_first_attempt(ran: Job) -> None:
        # State right after the crash: two items done, their renditions in staging, no ZIP.
        if ran.attempts == 1:
            statuses = list(
                JobItem.objects.filter(job=ran).order_by("id").values_list("status", flat=True)
            )
            assert statuses[:2] == ["done", "done"]
            staged = exportfiles.staging_dir(ran.tenant.slug, started.export.pk)
            assert sorted(p.name for p in staged.iterdir() if not p.name.startswith(".")) == [
                f"{i.pk}.jpg" for i in JobItem.objects.filter(job=ran).order_by("id")[:3]
            ]

    drain(on_job=after_first_attempt)
    job.refresh_from_db()
    export = Export.objects.get(pk=started.export.pk)

    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 2
    assert rendered == [f"IMG_{n}" for n in range(5)]  # each exactly once
    assert export.status == Export.Status.COMPLETED
    with _zip(export) as archive:
        assert archive.namelist() == [f"IMG_{n}.jpg" for n in range(5)]
        assert archive.testzip() is None


def test_a_stale_temporary_zip_of_a_crash_is_not_the_export(project, editor, monkeypatch):
    photo = _photo(project, "IMG_1")
    calls = []
    real = exportfiles.zip_write

    def crash_once(target, members, **kw):  # type: ignore[no-untyped-def]
        if not calls:
            # Die half-way through writing: the temporary ZIP stays behind.
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = temp_create(target)
            os.write(fd, b"PK\x03\x04 half a zip")
            os.close(fd)
            calls.append(tmp)
            raise RuntimeError("worker killed while writing the ZIP")
        return real(target, members, **kw)

    monkeypatch.setattr(exportfiles, "zip_write", crash_once)
    export = _run(exports.export_start(user=editor, kind="originals", items=_items(photo)).export)
    assert export.status == Export.Status.COMPLETED
    folder = exportfiles.tenant_exports_dir(export.tenant.slug)
    assert calls[0].parent == folder
    assert not calls[0].exists()
    assert sorted(p.name for p in folder.iterdir()) == [f"{export.pk}.zip"]
    with _zip(export) as archive:
        assert archive.namelist() == ["IMG_1.jpg"]


def test_zip_write_leaves_no_file_when_a_member_is_unreadable(tmp_path):
    good = write_file(tmp_path / "in" / "a.jpg", b"a" * 10)
    target = tmp_path / "out" / "1.zip"
    with pytest.raises(FileNotFoundError):
        exportfiles.zip_write(
            target,
            [
                exportfiles.Member("a.jpg", good),
                exportfiles.Member("b.jpg", tmp_path / "in" / "missing.jpg"),
            ],
        )
    assert list(target.parent.iterdir()) == []


# --- expiry --------------------------------------------------------------------------------


def _completed(project, editor) -> Export:
    photo = _photo(project, f"IMG_{Export.objects.count()}")
    return _run(exports.export_start(user=editor, kind="originals", items=_items(photo)).export)


def test_expired_exports_are_deleted_and_others_kept(project, editor):
    old, fresh = _completed(project, editor), _completed(project, editor)
    Export.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    old_zip = exportfiles.zip_path(old.tenant.slug, old.pk)
    fresh_zip = exportfiles.zip_path(fresh.tenant.slug, fresh.pk)
    originals = _snapshot(storage.project_dir(project))

    assert exports.exports_expired_delete(now=timezone.now()) == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Export.Status.EXPIRED
    assert not old_zip.exists()
    assert fresh.status == Export.Status.COMPLETED
    assert fresh_zip.exists()
    assert _snapshot(storage.project_dir(project)) == originals
    assert exports.exports_expired_delete(now=timezone.now()) == 0


def test_the_scheduled_export_expiry_deletes_the_tenants_expired_exports(
    project, editor, other_tenant, settings
):
    from jobs.registry import schedules

    # Registered by the app on the maintenance interval (sharing/definitions.py).
    assert "pipeline: export_expiry" in {spec.name for spec in schedules()}
    settings.EXPORT_TTL_HOURS = 1
    export = _completed(project, editor)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    other = Export.objects.create(
        tenant=other_tenant,
        kind="originals",
        status=Export.Status.COMPLETED,
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    start_task("export_expiry", project.tenant, source="scheduler")
    drain()

    export.refresh_from_db()
    other.refresh_from_db()
    assert export.status == Export.Status.EXPIRED
    assert not exportfiles.zip_path(export.tenant.slug, export.pk).exists()
    assert other.status == Export.Status.COMPLETED  # another tenant's maintenance


def test_a_canceled_exports_staging_is_deleted_when_it_expires(project, editor):
    photo = _photo(project, "IMG_1")
    started = exports.export_start(user=editor, kind="jpeg", items=_items(photo))
    export = started.export
    staging = exportfiles.staging_dir(export.tenant.slug, export.pk)
    write_file(staging / "1.jpg", b"a rendition of a canceled export")
    TaskRun.objects.filter(pk=started.task["task_id"]).update(status=JobStatus.CANCELED)
    Job.objects.filter(task_id=started.task["task_id"]).update(status=JobStatus.CANCELED)

    assert exports.exports_expired_delete(now=timezone.now()) == 0  # not due yet
    assert exports.exports_expired_delete(now=timezone.now() + timedelta(hours=73)) == 1
    export.refresh_from_db()
    assert export.status == Export.Status.EXPIRED
    assert not staging.exists()


def test_a_running_export_is_never_expired(project, editor):
    photo = _photo(project, "IMG_1")
    export = exports.export_start(user=editor, kind="jpeg", items=_items(photo)).export
    assert exports.exports_expired_delete(now=timezone.now() + timedelta(days=30)) == 0
    export.refresh_from_db()
    assert export.status == Export.Status.QUEUED


def test_assembling_again_after_completion_keeps_the_zip(project, editor):
    photo = _photo(project, "IMG_1")
    export = _run(exports.export_start(user=editor, kind="jpeg", items=_items(photo)).export)
    path = exportfiles.zip_path(export.tenant.slug, export.pk)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    job = Job.objects.get(task_id=export.task_id)
    # A retry whose previous attempt published the ZIP (and removed its renditions).
    again = exports.export_zip_make(export, job_id=job.pk)
    assert again.status == Export.Status.COMPLETED
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_exports_root_inside_the_photos_root_is_refused(settings, photos_root):
    from django.core.exceptions import ImproperlyConfigured

    settings.EXPORTS_ROOT = photos_root / "exports"
    with pytest.raises(ImproperlyConfigured, match="must not be inside PHOTOS_ROOT"):
        exportfiles.exports_root()
