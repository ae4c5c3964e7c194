"""Thumbnails, previews and EXIF of photos: the service and the two job handlers.

Every test runs on both image engines (``PIPELINE_IMAGE_ENGINE``): pyvips and Pillow.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from jobs.exceptions import ItemFailed, ItemSkipped
from jobs.models import Event, Job, JobItem, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import imaging
from photos.models import DerivativeStatus, Photo
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import jpeg_bytes, make_photo, make_project, write_file

GENERATED = DerivativeStatus.GENERATED


@pytest.fixture(autouse=True, params=["pyvips", "pillow"])
def image_engine(request, settings, monkeypatch):
    """Run the test with this engine, and check that every derivative was made by it."""
    settings.PIPELINE_IMAGE_ENGINE = request.param
    used: list[str] = []
    make_derivatives = imaging.make_derivatives

    def recording(*args, **kwargs):
        result = make_derivatives(*args, **kwargs)
        used.append(result.engine)
        return result

    monkeypatch.setattr(imaging, "make_derivatives", recording)
    yield request.param
    assert set(used) <= {request.param}, used


def thumb_of(photo: Photo) -> Path:
    return project_dir(photo.project) / ".thumb" / f"{photo.basename}.webp"


def preview_of(photo: Photo) -> Path:
    return project_dir(photo.project) / ".preview" / f"{photo.basename}.webp"


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "WEBP"
        return image.size


def photo_with_jpeg(project, basename: str, data: bytes, **fields) -> Photo:
    photo = make_photo(project, basename, write=False, **fields)
    write_file(project_dir(project) / f"{basename}.jpg", data)
    return photo


# --- the service -----------------------------------------------------------------------------


def test_generate_writes_oriented_webp_and_records_exif(project):
    taken = datetime(2025, 7, 14, 9, 30)  # noqa: DTZ001 - EXIF times are naive
    photo = photo_with_jpeg(
        project,
        "IMG_0001",
        jpeg_bytes(size=(600, 400), orientation=6, taken_at=taken, make="Nikon", model="Z8"),
    )

    message = photo_derivatives_generate(photo=photo, job_id=None)

    assert size_of(thumb_of(photo)) == (400, 600)
    assert size_of(preview_of(photo)) == (400, 600)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert (row.orientation, row.width, row.height) == (6, 400, 600)
    assert row.taken_at == datetime(2025, 7, 14, 9, 30, tzinfo=UTC)
    assert row.metadata["make"] == "Nikon"
    assert row.metadata["model"] == "Z8"
    assert "400×600" in message
    event = Event.objects.get(photo_id=photo.pk, type="item")
    assert event.payload["changes"]["width"] == 400
    assert event.payload["changes"]["taken_at"] == "2025-07-14T09:30:00"
    assert event.payload["changes"]["thumbnail_status"] == GENERATED


def test_derivatives_fit_the_configured_boxes_and_are_never_enlarged(project, settings):
    big = photo_with_jpeg(project, "BIG", jpeg_bytes(size=(1600, 1200)))
    small = photo_with_jpeg(project, "SMALL", jpeg_bytes(size=(64, 48)))

    photo_derivatives_generate(photo=big)
    photo_derivatives_generate(photo=small)
    settings.PIPELINE_THUMB_SIZE, settings.PIPELINE_PREVIEW_SIZE = 200, 1000
    photo_derivatives_generate(photo=big, force=True)

    assert (settings.PIPELINE_THUMB_SIZE, settings.PIPELINE_PREVIEW_SIZE) == (200, 1000)
    assert size_of(thumb_of(big)) == (200, 150)
    assert size_of(preview_of(big)) == (1000, 750)
    assert size_of(thumb_of(small)) == size_of(preview_of(small)) == (64, 48)


def test_default_sizes_are_800_and_5000(project):
    photo = photo_with_jpeg(project, "BIG", jpeg_bytes(size=(1600, 1200)))

    photo_derivatives_generate(photo=photo)

    assert size_of(thumb_of(photo)) == (800, 600)
    assert size_of(preview_of(photo)) == (1600, 1200)  # fits 5000: kept, not enlarged


def test_up_to_date_derivatives_are_skipped_unless_forced(project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes(size=(300, 200)))
    photo_derivatives_generate(photo=photo)
    first = thumb_of(photo).stat().st_mtime_ns
    events = Event.objects.filter(photo_id=photo.pk).count()

    with pytest.raises(ItemSkipped, match="up to date"):
        photo_derivatives_generate(photo=photo)
    assert thumb_of(photo).stat().st_mtime_ns == first
    assert Event.objects.filter(photo_id=photo.pk).count() == events

    time.sleep(0.01)
    photo_derivatives_generate(photo=photo, force=True)
    assert thumb_of(photo).stat().st_mtime_ns > first


def test_a_changed_source_is_regenerated(project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes(size=(300, 200)))
    photo_derivatives_generate(photo=photo)
    source = project_dir(project) / "IMG_1.jpg"
    source.write_bytes(jpeg_bytes(size=(200, 300)))
    later = time.time() + 5
    os.utime(source, (later, later))

    photo_derivatives_generate(photo=photo)

    assert size_of(thumb_of(photo)) == (200, 300)
    assert Photo.objects.get(pk=photo.pk).height == 300


def test_existing_derivatives_of_a_rebuilt_row_are_adopted_without_rewriting(project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes(size=(300, 200), make="Sony"))
    photo_derivatives_generate(photo=photo)
    written = thumb_of(photo).stat().st_mtime_ns
    Photo.objects.filter(pk=photo.pk).update(
        thumbnail_status=DerivativeStatus.PENDING,
        preview_status=DerivativeStatus.PENDING,
        metadata={},
        width=None,
    )
    photo.refresh_from_db()

    message = photo_derivatives_generate(photo=photo)

    assert "already up to date" in message
    assert thumb_of(photo).stat().st_mtime_ns == written
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.width, row.metadata["make"]) == (GENERATED, 300, "Sony")


def test_keep_flags_and_visibility_are_never_touched(project):
    photo = photo_with_jpeg(
        project,
        "IMG_1",
        jpeg_bytes(),
        raw=True,
        keep_jpg=False,
        keep_raw=True,
        visibility=Photo.Visibility.PUBLIC,
    )
    # The user culls while the job works from an older copy of the row.
    Photo.objects.filter(pk=photo.pk).update(keep_raw=False)

    photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.keep_jpg, row.keep_raw, row.visibility) == (False, False, "public")
    assert row.thumbnail_status == GENERATED
    changes = Event.objects.get(photo_id=photo.pk, type="item").payload["changes"]
    assert not {"keep_jpg", "keep_raw", "visibility"} & set(changes)


def test_corrupt_source_fails_with_a_message_and_drops_stale_derivatives(project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes(size=(300, 200)))
    photo_derivatives_generate(photo=photo)
    source = project_dir(project) / "IMG_1.jpg"
    source.write_bytes(b"not a jpeg any more")
    later = time.time() + 5
    os.utime(source, (later, later))

    with pytest.raises(ItemFailed, match="IMG_1.jpg"):
        photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (DerivativeStatus.FAILED,) * 2
    assert not thumb_of(photo).exists()
    assert not preview_of(photo).exists()


def test_missing_source_marks_missing(project):
    photo = make_photo(project, "GONE", write=False)

    with pytest.raises(ItemFailed, match="no original"):
        photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (DerivativeStatus.MISSING,) * 2
    assert not (project_dir(project) / ".thumb").exists()


def test_raw_only_photo_is_not_supported(project):
    photo = make_photo(project, "RAWONLY", jpg=False, raw=True)

    with pytest.raises(ItemSkipped, match="not supported"):
        photo_derivatives_generate(photo=photo)

    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == (DerivativeStatus.NOT_SUPPORTED,) * 2
    assert not thumb_of(photo).exists()


def test_jpg_is_the_source_when_a_raw_exists_and_other_images_work_alone(project):
    both = make_photo(project, "BOTH", raw=True)
    png = make_photo(project, "PNG", jpg=False, write=False, other_available=True)
    Image.new("RGB", (90, 60), (1, 2, 3)).save(project_dir(project) / "PNG.png")

    assert photo_derivatives_generate(photo=both).startswith("BOTH.jpg:")
    assert photo_derivatives_generate(photo=png).startswith("PNG.png:")
    assert size_of(thumb_of(png)) == (90, 60)


def test_upper_case_extension_is_found(project):
    photo = make_photo(project, "IMG_9", write=False)
    write_file(project_dir(project) / "IMG_9.JPG", jpeg_bytes(size=(120, 80)))

    photo_derivatives_generate(photo=photo)

    assert size_of(thumb_of(photo)) == (120, 80)


def test_a_photo_deleted_meanwhile_is_skipped(project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes())
    Photo.objects.filter(pk=photo.pk).delete()

    with pytest.raises(ItemSkipped, match="no longer exists"):
        photo_derivatives_generate(photo=photo)


# --- the handlers ----------------------------------------------------------------------------


def test_item_job_marks_corrupt_photo_failed_and_completes_the_others(tenant, project):
    good = [photo_with_jpeg(project, f"OK_{i}", jpeg_bytes(size=(320, 240))) for i in range(3)]
    bad = make_photo(project, "BAD", write=False)
    write_file(project_dir(project) / "BAD.jpg", b"\xff\xd8\xff garbage")
    ids = [good[0].pk, bad.pk, good[1].pk, good[2].pk]

    started = start_task("generate_derivatives", tenant, items=ids)
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert job.status == JobStatus.COMPLETED
    assert job.progress_done == job.progress_total == 4
    items = {i.photo_id: i for i in JobItem.objects.filter(job=job)}
    assert items[bad.pk].status == "failed"
    assert "BAD.jpg" in items[bad.pk].message
    for photo in good:
        assert items[photo.pk].status == "done"
        assert size_of(thumb_of(photo)) == (320, 240)
        assert Photo.objects.get(pk=photo.pk).preview_status == GENERATED
    assert Photo.objects.get(pk=bad.pk).thumbnail_status == DerivativeStatus.FAILED
    # Thumbnails first: each good photo's thumbnail is announced, then its preview; the bad
    # one's failure once.
    assert Event.objects.filter(type="item", job_id=job.pk).count() == 2 * 3 + 1


def test_item_job_with_a_failed_item_says_so_in_its_message_and_event(tenant, project):
    good = photo_with_jpeg(project, "OK", jpeg_bytes(size=(64, 48)))
    bad = make_photo(project, "BAD", write=False)
    write_file(project_dir(project) / "BAD.jpg", b"\xff\xd8\xff garbage")

    started = start_task("generate_derivatives", tenant, items=[good.pk, bad.pk])
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert job.status == JobStatus.COMPLETED
    assert job.error_message.startswith("1 of 2 items failed; first error: BAD")
    event = Event.objects.get(type="job_completed", job=job)
    assert event.payload["failed_items"] == 1
    assert event.payload["total_items"] == 2
    assert event.payload["message"] == job.error_message


def test_project_job_with_a_corrupt_photo_completes_but_reports_the_failure(tenant, project):
    good = [photo_with_jpeg(project, f"OK_{i}", jpeg_bytes(size=(64, 48))) for i in range(2)]
    make_photo(project, "BAD", write=False)
    write_file(project_dir(project) / "BAD.jpg", b"\xff\xd8\xff garbage")

    started = start_task("generate_derivatives", tenant, project=project)
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert job.status == JobStatus.COMPLETED
    assert job.error_message.startswith("1 of 3 items failed; first error: BAD")
    assert "BAD.jpg" in job.error_message
    event = Event.objects.get(type="job_completed", job=job)
    assert (event.payload["failed_items"], event.payload["total_items"]) == (1, 3)
    assert event.payload["message"] == job.error_message
    assert all(thumb_of(p).exists() for p in good)


def test_project_job_without_failures_has_no_message(tenant, project):
    photo_with_jpeg(project, "OK", jpeg_bytes(size=(64, 48)))

    started = start_task("generate_derivatives", tenant, project=project)
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert job.error_message == ""
    assert Event.objects.get(type="job_completed", job=job).payload["failed_items"] == 0


def test_project_job_without_items_processes_every_photo_in_the_project(tenant, project):
    photos = [photo_with_jpeg(project, f"P_{i}", jpeg_bytes(size=(100, 80))) for i in range(3)]
    elsewhere = photo_with_jpeg(make_project(tenant, "Other"), "X", jpeg_bytes())

    started = start_task("generate_derivatives", tenant, project=project)
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert (job.scope, job.status) == ("project", JobStatus.COMPLETED)
    # Two passes (every thumbnail, then every preview) over the 3 photos.
    assert job.progress_done == job.progress_total == 2 * 3
    assert all(thumb_of(p).exists() for p in photos)
    assert not thumb_of(elsewhere).exists()


def test_force_payload_regenerates_up_to_date_photos(tenant, project):
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes())
    photo_derivatives_generate(photo=photo)
    first = thumb_of(photo).stat().st_mtime_ns

    plain = start_task("generate_derivatives", tenant, items=[photo.pk])
    drain()
    assert JobItem.objects.get(job_id=plain["first_job_id"]).status == "skipped"
    assert thumb_of(photo).stat().st_mtime_ns == first

    time.sleep(0.01)
    forced = start_task("generate_derivatives", tenant, items=[photo.pk], payload={"force": True})
    drain()
    assert JobItem.objects.get(job_id=forced["first_job_id"]).status == "done"
    assert thumb_of(photo).stat().st_mtime_ns > first


def test_project_job_stops_between_photos_when_canceled(tenant, project, monkeypatch, settings):
    from photos.handlers import derivatives as handler_module

    # One photo per batch, and the cancel request read at the next boundary.
    settings.PIPELINE_BATCH_SECONDS = 0
    settings.PIPELINE_CANCEL_POLL_SECONDS = 0

    photos = [photo_with_jpeg(project, f"C_{i}", jpeg_bytes()) for i in range(3)]
    real = handler_module.photo_derivatives_make
    started = start_task("generate_derivatives", tenant, project=project)

    def generate_then_cancel(**kwargs):
        Job.objects.filter(pk=started["first_job_id"]).update(cancel_requested=True)
        return real(**kwargs)

    monkeypatch.setattr(handler_module, "photo_derivatives_make", generate_then_cancel)
    drain()

    job = Job.objects.get(pk=started["first_job_id"])
    assert job.status == JobStatus.CANCELED
    assert [thumb_of(p).exists() for p in photos] == [True, False, False]


def test_a_derivative_folder_that_links_outside_the_project_is_refused(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project_dir(project) / ".thumb").symlink_to(outside, target_is_directory=True)
    photo = photo_with_jpeg(project, "IMG_1", jpeg_bytes())

    with pytest.raises(ItemFailed, match="'.thumb' in the project folder is a symlink"):
        photo_derivatives_generate(photo=photo)

    assert list(outside.iterdir()) == []
