"""Derivative jobs in batches: their rows, events and item statuses written a batch at a time
(a few statements per batch), a batch ending after PIPELINE_BATCH_SECONDS so thumbnails are
announced as they come, each photo's own outcome kept, and a retry after a crash inside a
batch recording every photo once.

The kill -9 of a real worker inside a batch is tests/faults/test_worker_kill.py.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Event, Job, JobItem, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.handlers import derivatives as handler_module
from photos.models import DerivativeStatus, Photo
from photos.storage import project_dir
from tests.factories import jpeg_bytes, make_photo, write_file

GENERATED = DerivativeStatus.GENERATED


@pytest.fixture(autouse=True)
def tiny_derivatives(settings):
    settings.PIPELINE_THUMB_SIZE = 32
    settings.PIPELINE_PREVIEW_SIZE = 48
    settings.PIPELINE_COMMIT_BATCH = 100
    settings.PIPELINE_BATCH_SECONDS = 3600  # batches end by size unless a test says otherwise


def jpeg_photos(project, count: int, *, prefix: str) -> list[Photo]:
    data = jpeg_bytes(size=(64, 48))
    photos = []
    for i in range(count):
        photo = make_photo(project, f"{prefix}{i:04d}", write=False)
        write_file(project_dir(project) / f"{photo.basename}.jpg", data)
        photos.append(photo)
    return photos


def derivatives_job(tenant, photos: list[Photo]) -> Job:
    started = start_task("generate_derivatives", tenant, items=[p.pk for p in photos])
    return Job.objects.get(pk=started["first_job_id"])


def statements(tenant, photos: list[Photo]) -> int:
    job = derivatives_job(tenant, photos)
    with CaptureQueriesContext(connection) as queries:
        drain()
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error_message
    return len(queries.captured_queries)


def preview_events(photo: Photo) -> int:
    return sum(
        1
        for e in Event.objects.filter(type="item", photo_id=photo.pk)
        if (e.payload.get("changes") or {}).get("preview_status") == GENERATED
    )


@pytest.mark.django_db(transaction=True)
def test_derivatives_statements_do_not_grow_per_photo(tenant, project):
    small = statements(tenant, jpeg_photos(project, 10, prefix="A_"))
    large = statements(tenant, jpeg_photos(project, 130, prefix="B_"))

    # Each photo cost about a dozen statements over its two passes (a re-read and a row, an
    # event, a transaction per pass; the item running and done); a batch now costs a handful.
    per_photo = (large - small) / 120
    assert per_photo < 1, (small, large)
    assert set(Photo.objects.values_list("thumbnail_status", "preview_status")) == {
        (GENERATED, GENERATED)
    }
    assert all(preview_events(p) == 1 for p in Photo.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_batch_keeps_each_photos_own_outcome(tenant, project):
    good = jpeg_photos(project, 1, prefix="GOOD_")[0]
    corrupt = make_photo(project, "CORRUPT", write=False)
    write_file(project_dir(project) / "CORRUPT.jpg", b"\xff\xd8 not really a jpeg")
    missing = make_photo(project, "MISSING", write=False)
    removed = jpeg_photos(project, 1, prefix="REMOVED_")[0]
    job = derivatives_job(tenant, [good, corrupt, missing, removed])
    Photo.objects.filter(pk=removed.pk).delete()
    drain()

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    items = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert items == {
        "GOOD_0000": "done",
        "CORRUPT": "failed",
        "MISSING": "failed",
        "REMOVED_0000": "skipped",
    }
    rows = {
        p.basename: (p.thumbnail_status, p.preview_status)
        for p in Photo.objects.filter(project=project)
    }
    assert rows == {
        "GOOD_0000": (GENERATED, GENERATED),
        "CORRUPT": ("failed", "failed"),
        "MISSING": ("missing", "missing"),
    }
    assert preview_events(good) == 1
    assert Photo.objects.get(pk=good.pk).width == 64  # EXIF fields written in the batch too


@pytest.mark.django_db(transaction=True)
def test_a_batch_ends_after_its_time_so_each_thumbnail_is_announced_as_it_comes(
    tenant, project, settings, monkeypatch
):
    settings.PIPELINE_BATCH_SECONDS = 0  # every batch ends after its first photo
    photos = jpeg_photos(project, 4, prefix="T_")
    real = handler_module.photo_derivatives_make
    announced_before: list[int] = []

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        announced_before.append(Event.objects.filter(type="item").count())
        return real(**kwargs)

    monkeypatch.setattr(handler_module, "photo_derivatives_make", counting)
    job = derivatives_job(tenant, photos)
    drain()

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    # Thumbnails (4 calls), then previews (4 calls): each photo's row and event were written
    # before the next photo was made.
    assert announced_before == [0, 1, 2, 3, 4, 5, 6, 7]


@pytest.mark.django_db(transaction=True)
def test_retry_after_a_crash_inside_a_batch_records_each_photo_once(tenant, project, monkeypatch):
    photos = jpeg_photos(project, 6, prefix="K_")
    real_record = handler_module.photos_derivatives_record
    calls = {"n": 0}

    def dies_writing_the_previews(made, *, job_id):  # type: ignore[no-untyped-def]
        # The first call records the thumbnails; the second, the previews: the worker dies
        # with every preview on disk and none recorded.
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_record(made, job_id=job_id)

    monkeypatch.setattr(handler_module, "photos_derivatives_record", dies_writing_the_previews)
    job = derivatives_job(tenant, photos)
    drain()

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 2)
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    for photo in Photo.objects.filter(project=project):
        assert (photo.thumbnail_status, photo.preview_status) == (GENERATED, GENERATED)
        assert preview_events(photo) == 1  # the crashed batch wrote none, the retry one
    messages = set(JobItem.objects.filter(job=job).values_list("message", flat=True))
    assert messages == {f"{p.basename}.jpg: preview already up to date." for p in photos}
