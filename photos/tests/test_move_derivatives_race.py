"""A move that lands while a photo's derivatives are being made (issue 20 item 10).

The derivative job reads the photo's row, then works in the folder of the project the row
named; ``image_move`` moves the files outside any transaction, then the row. Each test runs
the move at one exact point of the derivative work (the derivative writer is wrapped so the
move happens right before its first file is written, or between reading the row and making
the files), then checks what a user would see: the photo's statuses match the files in its
own folder, and no derivative is left behind in the folder it left.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from photos import imaging
from photos.derivatives import (
    photo_derivatives_make,
    photos_current,
    photos_derivatives_record,
)
from photos.models import DerivativeStatus, Photo
from photos.services.move import (
    photo_move_files,
    photos_move_files_prepare,
    photos_move_files_record,
)
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import make_photo, make_project


def derivative_files(project) -> list[str]:
    found = []
    for sub in (".thumb", ".preview"):
        path = project_dir(project) / sub
        if path.is_dir():
            found += [f"{sub}/{p.name}" for p in path.iterdir()]
    return sorted(found)


@pytest.fixture
def photo(project):
    """A photo just uploaded: its derivatives are still to be made."""
    return make_photo(project, "IMG_1", thumbnail_status="pending", preview_status="pending")


def _move_before_the_first_write(monkeypatch, move) -> None:
    """Run ``move`` once, right before the derivative writer writes its first file (the
    source is decoded by then: the derivative job read the row and the original before)."""
    real = imaging.write_atomic
    done = []

    def write_atomic(path, *args, **kwargs):
        if not done:
            done.append(True)
            move()
        return real(path, *args, **kwargs)

    monkeypatch.setattr(imaging, "write_atomic", write_atomic)


def _whole_move(photo, dest):
    return lambda: photo_move_files(
        tenant_id=dest.tenant_id, photo_id=photo.pk, dest_project_id=dest.pk
    )


def test_derivatives_written_after_a_whole_move_are_not_left_in_the_old_folder(
    monkeypatch, project, dest, photo
):
    _move_before_the_first_write(monkeypatch, _whole_move(photo, dest))
    with pytest.raises(Exception, match="moved to another project meanwhile"):
        photo_derivatives_generate(photo=photo)
    row = Photo.objects.get(pk=photo.pk)
    assert row.project_id == dest.pk
    assert derivative_files(project) == []  # no stray thumbnail or preview left behind
    # Nothing recorded that the destination does not show: still pending, for the move's
    # generate_derivatives step, which makes them where the photo is now.
    assert (row.thumbnail_status, row.preview_status) == ("pending", "pending")
    monkeypatch.undo()
    photo_derivatives_generate(photo=row)
    row.refresh_from_db()
    assert (row.thumbnail_status, row.preview_status) == ("generated", "generated")
    assert derivative_files(dest) == [".preview/IMG_1.webp", ".thumb/IMG_1.webp"]


def test_derivatives_recorded_between_the_file_work_and_the_row_of_a_move_follow_the_photo(
    monkeypatch, project, dest, photo
):
    batch = {}

    def file_work():
        batch["moved"] = photos_move_files_prepare(
            tenant_id=dest.tenant_id, photos=[(photo.pk, None)], dest_project_id=dest.pk
        )

    _move_before_the_first_write(monkeypatch, file_work)
    photo_derivatives_generate(photo=photo)  # recorded while the row is still in the source
    with transaction.atomic():
        photos_move_files_record(batch["moved"], tenant_id=dest.tenant_id)
    row = Photo.objects.get(pk=photo.pk)
    assert row.project_id == dest.pk
    assert derivative_files(project) == []
    assert derivative_files(dest) == [".preview/IMG_1.webp", ".thumb/IMG_1.webp"]
    assert (row.thumbnail_status, row.preview_status) == ("generated", "generated")


def test_a_missing_original_seen_in_the_emptied_folder_is_never_recorded_on_the_moved_photo(
    project, dest, photo
):
    stale = photos_current([photo.pk])  # the derivative job reads the row...
    photo_move_files(tenant_id=dest.tenant_id, photo_id=photo.pk, dest_project_id=dest.pk)
    made = photo_derivatives_make(photo=photo, current=stale[photo.pk])  # ...then the folder
    outcome = photos_derivatives_record([made], job_id=None)[photo.pk]
    assert "moved to another project meanwhile" in str(outcome)
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status) == ("pending", "pending")


def test_a_missing_recorded_before_the_move_recorded_its_row_is_corrected_by_the_move(
    project, dest, photo
):
    batch = photos_move_files_prepare(
        tenant_id=dest.tenant_id, photos=[(photo.pk, None)], dest_project_id=dest.pk
    )
    # The derivative job looks in the source folder after the files left, before the row did.
    with pytest.raises(Exception, match="no original file on disk"):
        photo_derivatives_generate(photo=photo)
    assert Photo.objects.get(pk=photo.pk).thumbnail_status == DerivativeStatus.MISSING
    with transaction.atomic():
        photos_move_files_record(batch, tenant_id=dest.tenant_id)
    row = Photo.objects.get(pk=photo.pk)
    assert row.project_id == dest.pk
    # Its original is in the destination: pending, so the move's next step makes them.
    assert (row.thumbnail_status, row.preview_status) == ("pending", "pending")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_derivative_record_waits_for_the_moves_row_lock_and_sees_the_move(tenant):
    """Two connections, as two workers: the move holds the row lock; the derivative job's
    record waits for it (seen in ``pg_locks``, not timed) and then finds the photo moved."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    project = make_project(tenant, "Source")
    dest = make_project(tenant, "Destination")
    photo = make_photo(project, "IMG_1", thumbnail_status="pending", preview_status="pending")
    stale = photos_current([photo.pk])[photo.pk]
    made = photo_derivatives_make(photo=photo, current=stale)  # written in the source folder
    assert made.written
    # Its files land only later: set them aside while the move's file work runs.
    for path in made.written:
        path.rename(path.with_name("later-" + path.name))
    batch = photos_move_files_prepare(
        tenant_id=dest.tenant_id, photos=[(photo.pk, None)], dest_project_id=dest.pk
    )

    locked, release, result = threading.Event(), threading.Event(), {}

    def move() -> None:
        try:
            with transaction.atomic():
                photos_move_files_record(batch, tenant_id=dest.tenant_id)
                # The derivative job's files land in the source folder now, while the move
                # holds the lock: after its sweep, before the job's record.
                for path in made.written:
                    path.with_name("later-" + path.name).rename(path)
                locked.set()
                release.wait(60)
        finally:
            connections.close_all()

    def record() -> None:
        try:
            result["outcome"] = photos_derivatives_record([made], job_id=None)[photo.pk]
        finally:
            connections.close_all()

    mover = threading.Thread(target=move)
    mover.start()
    assert locked.wait(60)
    recorder = threading.Thread(target=record)
    recorder.start()
    with connection.cursor() as cursor:
        for _ in range(6000):  # until the record waits for the lock (not a timed assertion)
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.01)
    assert "outcome" not in result  # still waiting for the move's lock
    release.set()
    mover.join(60)
    recorder.join(60)
    assert "moved to another project meanwhile" in str(result["outcome"])
    row = Photo.objects.get(pk=photo.pk)
    assert row.project_id == dest.pk
    assert (row.thumbnail_status, row.preview_status) == ("pending", "pending")
    assert derivative_files(project) == []  # the job's files, removed by its record


def test_a_derivative_job_whose_photos_move_midway_leaves_every_photo_right(
    monkeypatch, tenant, project, dest
):
    """The job as the workers run it: ten photos, half of them moved while the job makes
    their derivatives (each right before its thumbnail is written)."""
    from jobs.runtime import drain
    from jobs.tasks import start_task

    photos = [
        make_photo(project, f"IMG_{i}", thumbnail_status="pending", preview_status="pending")
        for i in range(10)
    ]
    movers = {p.pk for p in photos[::2]}
    real = imaging.write_atomic

    def write_atomic(path, *args, **kwargs):
        base = path.name.removesuffix(".webp")
        photo = next((p for p in photos if p.basename == base), None)
        if photo is not None and photo.pk in movers and path.parent.name == ".thumb":
            movers.discard(photo.pk)
            photo_move_files(tenant_id=tenant.pk, photo_id=photo.pk, dest_project_id=dest.pk)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(imaging, "write_atomic", write_atomic)
    start_task("generate_derivatives", tenant, items=[p.pk for p in photos])
    drain()
    monkeypatch.undo()

    assert movers == set()
    moved = Photo.objects.filter(project=dest)
    assert moved.count() == 5
    assert derivative_files(project) == sorted(
        f"{sub}/IMG_{i}.webp" for sub in (".preview", ".thumb") for i in range(1, 10, 2)
    )
    # The job's preview pass re-reads each row and makes a moved photo's derivatives in its
    # new folder: every photo ends generated, with its files where it is.
    for row in Photo.objects.all():
        assert (row.thumbnail_status, row.preview_status) == ("generated", "generated")
    assert derivative_files(dest) == sorted(
        f"{sub}/IMG_{i}.webp" for sub in (".preview", ".thumb") for i in range(0, 10, 2)
    )
