"""Thumbnails first (SPEC §6): an upload's thumbnails exist, and are announced, before any
preview; a RAW alone makes derivatives wherever its photo goes (commit, move, arrival)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jobs.definitions import TASK_DEFINITIONS
from jobs.models import Event, Job, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import imaging
from photos.definitions import PREVIEW_PRIORITY
from photos.models import DerivativeStatus, Photo, needs_derivatives_q
from photos.services import photos_move, project_commit
from photos.storage import project_dir
from tests.factories import jpeg_bytes, make_photo, make_project, write_file
from tests.raw_fixtures import dng_bytes
from tests.urls import api_path

GENERATED = DerivativeStatus.GENERATED
PENDING = DerivativeStatus.PENDING


def derivative(project, kind: str, basename: str) -> Path:
    return project_dir(project) / f".{kind}" / f"{basename}.webp"


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def status_changes(field: str) -> list[Event]:
    """``item`` events that set ``field`` to generated, in the order they were written."""
    return [
        event
        for event in Event.objects.filter(type="item").order_by("id")
        if (event.payload.get("changes") or {}).get(field) == GENERATED
    ]


# --- the upload task ----------------------------------------------------------------------------


def test_upload_task_makes_previews_in_a_default_lane_step_after_reconciling():
    steps = [(step.type, step.priority) for step in TASK_DEFINITIONS["upload_postprocess"].steps]
    assert steps == [
        ("upload_postprocess", 90),
        ("manifest_check", 95),
        ("folder_check", 95),
        ("generate_previews", PREVIEW_PRIORITY),
    ]
    from django.conf import settings

    assert PREVIEW_PRIORITY < settings.PIPELINE_PRIORITY_THRESHOLD


def test_upload_announces_every_thumbnail_before_the_first_preview(
    api_client, project, small_sizes
):
    files = [
        SimpleUploadedFile(f"IMG_{i}.jpg", jpeg_bytes(size=(640, 480)), content_type="image/jpeg")
        for i in range(4)
    ]
    files.append(
        SimpleUploadedFile(
            "DSC_9.dng",
            dng_bytes(raw_size=(400, 300), preview_size=(320, 240)),
            content_type="image/x-adobe-dng",
        )
    )
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 201, response.content
    bases = sorted(p.basename for p in Photo.objects.filter(project=project))
    assert len(bases) == 5

    seen: dict[str, dict] = {}

    def after(job: Job) -> None:
        rows = Photo.objects.filter(project=project)
        seen[job.type] = {
            "statuses": {p.basename: (p.thumbnail_status, p.preview_status) for p in rows},
            "previews": sorted(b for b in bases if derivative(project, "preview", b).exists()),
            "thumbs": sorted(b for b in bases if derivative(project, "thumb", b).exists()),
            "priority": job.priority,
            "status": job.status,
        }

    drain(on_job=after)

    # After the thumbnail pass: every thumbnail, no preview, previews still pending.
    first = seen["upload_postprocess"]
    assert first["thumbs"] == bases
    assert first["previews"] == []
    assert set(first["statuses"].values()) == {(GENERATED, PENDING)}
    # The previews follow in their own step, in the default lane.
    last = seen["generate_previews"]
    assert (last["status"], last["priority"]) == (JobStatus.COMPLETED, PREVIEW_PRIORITY)
    assert last["previews"] == bases
    assert set(last["statuses"].values()) == {(GENERATED, GENERATED)}

    thumbs = status_changes("thumbnail_status")
    previews = status_changes("preview_status")
    assert sorted(e.payload["basename"] for e in thumbs) == bases
    assert sorted(e.payload["basename"] for e in previews) == bases
    # Each thumbnail is announced by its own item event, all before the first preview.
    assert max(e.pk for e in thumbs) < min(e.pk for e in previews)
    assert all("preview_status" not in e.payload["changes"] for e in thumbs)
    raw = Photo.objects.get(project=project, basename="DSC_9")
    assert raw.metadata["derivative_source"] == "embedded preview"
    assert size_of(derivative(project, "preview", "DSC_9")) == (320, 240)
    assert size_of(derivative(project, "thumb", "DSC_9")) == (100, 75)


def test_a_project_walk_of_upload_postprocess_makes_every_thumbnail_then_every_preview(
    project, small_sizes
):
    for i in range(3):
        make_photo(project, f"IMG_{i}")
    started = start_task("upload_postprocess", project.tenant, project=project)
    drain(task_id=started["task_id"])
    thumbs = status_changes("thumbnail_status")
    previews = status_changes("preview_status")
    assert len(thumbs) == len(previews) == 3
    assert max(e.pk for e in thumbs) < min(e.pk for e in previews)
    assert set(
        Photo.objects.filter(project=project).values_list("thumbnail_status", "preview_status")
    ) == {(GENERATED, GENERATED)}


def test_preview_pass_skips_a_photo_whose_thumbnail_failed(project, small_sizes):
    photo = make_photo(project, "BAD_1", write=False)
    write_file(project_dir(project) / "BAD_1.jpg", jpeg_bytes(size=(640, 480))[:300])
    started = start_task("upload_postprocess", project.tenant, project=project, items=[photo.pk])
    drain(task_id=started["task_id"])
    photo.refresh_from_db()
    assert (photo.thumbnail_status, photo.preview_status) == ("failed", "failed")
    previews = Job.objects.get(task_id=started["task_id"], type="generate_previews")
    item = previews.items.get()
    assert item.status == "skipped"
    assert "thumbnail failed" in item.message


# --- the thumbnail pass decodes small -----------------------------------------------------------


@pytest.mark.parametrize("engine", ["pyvips", "pillow"])
def test_thumbnail_alone_is_decoded_at_a_reduced_scale(tmp_path, engine, monkeypatch):
    if engine == "pyvips" and not imaging.vips_available():
        pytest.skip("pyvips is not installed")
    source = write_file(tmp_path / "big.jpg", jpeg_bytes(size=(3200, 2400)))
    decoded: list[tuple[int, int]] = []
    real_resize = imaging._resize

    def spy_resize(image, size):  # type: ignore[no-untyped-def]
        decoded.append(image.size)
        return real_resize(image, size)

    monkeypatch.setattr(imaging, "_resize", spy_resize)
    loads: list[int] = []
    if engine == "pyvips":
        import pyvips

        real_thumbnail = pyvips.Image.thumbnail_source

        def spy_thumbnail(source, width, **kwargs):  # type: ignore[no-untyped-def]
            loads.append(width)
            return real_thumbnail(source, width, **kwargs)

        monkeypatch.setattr(pyvips.Image, "thumbnail_source", staticmethod(spy_thumbnail))

    result = imaging.make_derivatives(
        source,
        thumb_path=tmp_path / "t.webp",
        thumb_size=400,
        thumb_quality=50,
        preview_path=tmp_path / "p.webp",
        preview_size=3000,
        preview_quality=60,
        engine=engine,
        only=imaging.THUMBNAIL,
    )
    assert (result.thumbnail_size, result.preview_size) == ((400, 300), None)
    assert size_of(tmp_path / "t.webp") == (400, 300)
    assert not (tmp_path / "p.webp").exists()
    if engine == "pyvips":
        assert result.engine == "pyvips"
        assert loads == [400]  # one load, straight at the thumbnail's size
    else:
        # DCT-scaled decode: 3200×2400 at 1/8 is already the thumbnail's 400×300.
        assert decoded == [(400, 300)]


def test_preview_alone_leaves_the_thumbnail_untouched(tmp_path):
    source = write_file(tmp_path / "a.jpg", jpeg_bytes(size=(1200, 900)))
    thumb = write_file(tmp_path / "t.webp", b"old thumbnail")
    result = imaging.make_derivatives(
        source,
        thumb_path=thumb,
        thumb_size=100,
        thumb_quality=50,
        preview_path=tmp_path / "p.webp",
        preview_size=600,
        preview_quality=60,
        only=imaging.PREVIEW,
    )
    assert (result.thumbnail_size, result.preview_size) == (None, (600, 450))
    assert thumb.read_bytes() == b"old thumbnail"
    assert size_of(tmp_path / "p.webp") == (600, 450)


def test_raw_thumbnail_alone_comes_from_the_embedded_preview(tmp_path):
    source = write_file(tmp_path / "R.dng", dng_bytes(raw_size=(400, 300), preview_size=(320, 240)))
    result = imaging.make_derivatives(
        source,
        thumb_path=tmp_path / "t.webp",
        thumb_size=100,
        thumb_quality=50,
        preview_path=tmp_path / "p.webp",
        preview_size=1000,
        preview_quality=60,
        only=imaging.THUMBNAIL,
    )
    assert result.thumbnail_size == (100, 75)
    assert result.exif.metadata["derivative_source"] == "embedded preview"
    assert not (tmp_path / "p.webp").exists()


# --- a RAW alone makes derivatives wherever the photo goes --------------------------------------


def test_needs_derivatives_counts_a_raw_only_photo(project):
    raw_only = make_photo(project, "R_1", jpg=False, raw=True, write=False)
    done = make_photo(
        project, "J_1", write=False, thumbnail_status=GENERATED, preview_status=GENERATED
    )
    no_file = make_photo(project, "N_1", jpg=False, write=False)
    ids = set(Photo.objects.filter(needs_derivatives_q()).values_list("pk", flat=True))
    assert raw_only.pk in ids
    assert done.pk not in ids
    assert no_file.pk not in ids


def test_committing_the_jpg_away_remakes_the_derivatives_from_the_raw(user, project, small_sizes):
    photo = make_photo(
        project,
        "IMG_1",
        keep_jpg=False,
        raw=True,
        thumbnail_status=GENERATED,
        preview_status=GENERATED,
    )
    (project_dir(project) / "IMG_1.cr2").unlink()
    write_file(
        project_dir(project) / "IMG_1.dng", dng_bytes(raw_size=(400, 300), preview_size=(320, 240))
    )
    for kind in ("thumb", "preview"):
        write_file(derivative(project, kind, "IMG_1"), b"from the jpg")
    statuses: dict[str, tuple[str, str]] = {}

    def after(job: Job) -> None:
        row = Photo.objects.get(pk=photo.pk)
        statuses[job.type] = (row.thumbnail_status, row.preview_status)

    project_commit(user=user, project=project)
    drain(on_job=after)

    # Visible throughout: pending (never not_supported) until the RAW's derivatives exist.
    assert statuses["file_removal"] == (PENDING, PENDING)
    assert statuses["generate_derivatives"] == (GENERATED, GENERATED)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.jpg_available, row.raw_available) == (False, True)
    assert row.metadata["derivative_source"] == "embedded preview"
    assert size_of(derivative(project, "thumb", "IMG_1")) == (100, 75)
    assert size_of(derivative(project, "preview", "IMG_1")) == (320, 240)


def test_a_moved_raw_only_photo_gets_its_derivatives(user, project, small_sizes):
    dest = make_project(project.tenant, name="Dest")
    photo = Photo.objects.create(
        project=project,
        basename="R_1",
        ext="dng",
        raw_available=True,
        keep_raw=True,
        thumbnail_status=PENDING,
        preview_status=PENDING,
    )
    write_file(
        project_dir(project) / "R_1.dng", dng_bytes(raw_size=(400, 300), preview_size=(320, 240))
    )
    assert photo.thumbnail_status == PENDING
    moved = photos_move(user=user, items=[{"photo_id": photo.pk}], dest_project_id=dest.pk)
    drain()
    row = Photo.objects.get(pk=photo.pk)
    assert row.project_id == dest.pk
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert Job.objects.filter(task_id=moved.task_id, type="generate_derivatives").exists()
    assert size_of(derivative(dest, "thumb", "R_1")) == (100, 75)


def test_a_raw_arriving_alone_on_disk_makes_derivatives_pending_then_generated(
    project, small_sizes
):
    photo = Photo.objects.create(
        project=project,
        basename="R_1",
        ext="dng",
        thumbnail_status=DerivativeStatus.MISSING,
        preview_status=DerivativeStatus.MISSING,
    )
    write_file(
        project_dir(project) / "R_1.dng", dng_bytes(raw_size=(400, 300), preview_size=(320, 240))
    )
    started = start_task("maintenance", project.tenant, project=project)
    drain()
    assert Job.objects.get(task_id=started["task_id"], type="manifest_check").status == (
        JobStatus.COMPLETED
    )
    row = Photo.objects.get(pk=photo.pk)
    assert row.raw_available
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert derivative(project, "thumb", "R_1").is_file()
    assert derivative(project, "preview", "R_1").is_file()


# --- an explicit re-process ---------------------------------------------------------------------


def test_reprocessing_a_selection_makes_every_thumbnail_before_the_first_preview(
    project, small_sizes
):
    photos = [make_photo(project, f"IMG_{i}") for i in range(4)]
    started = start_task(
        "generate_derivatives",
        project.tenant,
        items=[photo.pk for photo in photos],
        payload={"force": True},
    )
    drain(task_id=started["task_id"])
    thumbs, previews = status_changes("thumbnail_status"), status_changes("preview_status")
    assert len(thumbs) == len(previews) == 4
    assert max(event.pk for event in thumbs) < min(event.pk for event in previews)
    for photo in photos:
        photo.refresh_from_db()
        assert (photo.thumbnail_status, photo.preview_status) == (GENERATED, GENERATED)
        assert derivative(project, "thumb", photo.basename).exists()
        assert derivative(project, "preview", photo.basename).exists()


def test_reprocessing_fails_the_item_whose_thumbnail_failed_and_does_the_rest(project, small_sizes):
    good = make_photo(project, "IMG_good")
    bad = make_photo(project, "IMG_bad")
    write_file(project_dir(project) / "IMG_bad.jpg", b"\xff\xd8\xff\xe0 not really a JPEG")
    started = start_task(
        "generate_derivatives", project.tenant, items=[good.pk, bad.pk], payload={"force": True}
    )
    drain(task_id=started["task_id"])
    job = Job.objects.get(task_id=started["task_id"])
    assert job.status == JobStatus.COMPLETED
    items = {item.basename: item for item in job.items.all()}
    assert items["IMG_good"].status == "done"
    assert items["IMG_bad"].status == "failed", items["IMG_bad"].message
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.thumbnail_status, good.preview_status) == (GENERATED, GENERATED)
    assert bad.thumbnail_status == DerivativeStatus.FAILED
