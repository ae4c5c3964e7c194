"""kill -9 of a worker in the middle of derivatives, a commit and a move (SPEC §7 crash recovery),
each inside a batch (PIPELINE_COMMIT_BATCH): some of its files done, none of its rows written.

Each test runs the real task on real ``qcluster`` processes, with each unit of work slowed
down after it is done on disk (tests/faults/injection.py), and the kill lands when the
running item's file has changed but the database does not know yet. The sweeper then requeues the job, another worker finishes
it, and no original file is lost.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
from django.db import connection
from PIL import Image

from jobs.models import Event, Job, JobItem, JobStatus, TaskRun
from jobs.sweeper import sweep
from photos.models import DerivativeStatus, Photo, TrashedFile
from photos.services import photos_commit, photos_move, photos_process
from photos.services.results import CommitStarted, MoveStarted, ProcessStarted
from photos.storage import project_dir
from tests.factories import make_project
from tests.workers import wait_for

from .disk import add_photos, assert_no_original_lost, originals, sha

pytestmark = [pytest.mark.fault, pytest.mark.workers, pytest.mark.timeout(240)]

INJECT = "tests.handlers,tests.faults.injection"


def kill_worker_mid_job(
    job_type: str, task_id: str, *, in_window: Callable[[JobItem], bool], after_items: int = 2
) -> Job:
    """Kill -9 the worker of the task's ``job_type`` job once ``after_items`` items are
    finished and the running item's work is on disk (``in_window``) but not yet recorded."""
    deadline = time.monotonic() + 60
    while True:
        connection.close()
        job = Job.objects.filter(task_id=task_id, type=job_type, status="running").first()
        if job is not None:
            # Count the finished items before looking for a running one: in the other order a
            # batch can commit between the two reads, and the "running" item seen is done.
            finished = JobItem.objects.filter(
                job=job, status__in=["done", "skipped", "failed"]
            ).count()
            running = JobItem.objects.filter(job=job, status="running").first()
            if finished >= after_items and running is not None and in_window(running):
                os.kill(int(job.worker_id.split(":")[1]), signal.SIGKILL)
                return job
        assert time.monotonic() < deadline, f"{job_type} never reached the kill window"
        time.sleep(0.03)


def recover(job: Job, task_id: str, *, timeout: float = 120) -> TaskRun:
    """The sweeper requeues the dead worker's job; wait for the whole task to end."""
    requeued = wait_for(
        lambda: sweep(stale_seconds=3)["requeued"], timeout=30, what="stale job requeued"
    )
    assert requeued == [job.pk]
    return wait_for(
        lambda: TaskRun.objects.filter(
            pk=task_id, status__in=["completed", "failed", "canceled"]
        ).first(),
        timeout=timeout,
        what="task end",
    )


def preview_events(photo: Photo) -> int:
    """``item`` events that announced the photo's preview."""
    return sum(
        1
        for e in Event.objects.filter(type="item", photo_id=photo.pk)
        if (e.payload.get("changes") or {}).get("preview_status") == DerivativeStatus.GENERATED
    )


def test_kill_during_derivatives_resumes_and_writes_every_derivative(workers, user, project):
    photos = add_photos(project, 6, raw=False, size=(1200, 800))
    before = originals(project)
    # Batches of 3: the thumbnail pass and the first batch of previews commit, the kill lands
    # in the second batch of previews, after a preview is written and before its row knows.
    workers.start(
        PIPELINE_EXTRA_HANDLER_MODULES=INJECT,
        FAULT_SLOW="derivatives:0.4",
        PIPELINE_COMMIT_BATCH="3",
        PIPELINE_BATCH_SECONDS="3600",
    )
    started = photos_process(user=user, items=[{"photo_id": p.pk} for p in photos])
    assert isinstance(started, ProcessStarted)

    def written_not_recorded(item: JobItem) -> bool:
        return (project_dir(project) / ".preview" / f"{item.basename}.webp").exists()

    job = kill_worker_mid_job(
        "generate_derivatives", started.task_id, in_window=written_not_recorded, after_items=3
    )
    killed = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert list(killed.values()).count("running") == 3, killed  # killed inside a batch...
    assert list(killed.values()).count("done") == 3, killed  # ...after the first committed
    unrecorded = [p for p in photos if killed[p.basename] == "running"]
    first = Photo.objects.get(pk=unrecorded[0].pk)
    assert (first.thumbnail_status, first.preview_status) == (DerivativeStatus.GENERATED, None)
    task = recover(job, started.task_id)

    assert task.status == "completed", workers.logs()
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 2
    for photo in Photo.objects.filter(project=project):
        assert (photo.thumbnail_status, photo.preview_status) == (
            DerivativeStatus.GENERATED,
            DerivativeStatus.GENERATED,
        ), photo.basename
        assert preview_events(photo) == 1, photo.basename  # recorded once, by one attempt
        for kind in (".thumb", ".preview"):
            with Image.open(project_dir(project) / kind / f"{photo.basename}.webp") as image:
                image.load()  # a complete WebP, not a torn write
                assert image.size == ((1200, 800) if kind == ".preview" else (800, 533))
    # Originals untouched, byte for byte, where they were.
    assert originals(project) == before


def test_kill_during_commit_trashes_each_discarded_file_once_and_loses_nothing(
    workers, user, project
):
    photos = add_photos(project, 10, raw=True, keep_raw=False)
    before = originals(project)
    jpgs = {sha(project_dir(project) / f"{p.basename}.jpg"): p.basename for p in photos}
    # Batches of 4: the first batch commits, the kill lands inside the second one, after
    # some of its files are in the trash and before any of its rows or items are written.
    workers.start(
        PIPELINE_EXTRA_HANDLER_MODULES=INJECT, FAULT_SLOW="trash:0.5", PIPELINE_COMMIT_BATCH="4"
    )
    started = photos_commit(user=user, project_ids=[project.pk])
    assert isinstance(started, CommitStarted)

    def trashed_not_recorded(item: JobItem) -> bool:
        return (project_dir(project) / ".trash" / f"{item.basename}.cr2").exists()

    job = kill_worker_mid_job(
        "file_removal", started.task_id, in_window=trashed_not_recorded, after_items=4
    )
    killed = list(JobItem.objects.filter(job=job).values_list("status", flat=True))
    assert killed.count("running") == 4, killed  # killed inside a batch...
    assert killed.count("done") in (4, 8), killed  # ...after at least one batch committed
    task = recover(job, started.task_id)

    assert task.status == "completed", workers.logs()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 2)
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert_no_original_lost(before, project)
    trash = sorted(p.name for p in (project_dir(project) / ".trash").iterdir())
    assert trash == sorted(f"{p.basename}.cr2" for p in photos)  # each RAW once, no ~2 copy
    # Every trashed RAW is recorded, those of the killed batch too: a restore can bring it back.
    recorded = TrashedFile.objects.filter(photo__project=project)
    assert sorted(recorded.values_list("trash_name", flat=True)) == trash
    assert not list(project_dir(project).glob("*.cr2"))
    for digest, base in jpgs.items():  # the kept JPGs never moved
        assert sha(project_dir(project) / f"{base}.jpg") == digest
    assert not Photo.objects.filter(project=project, raw_available=True).exists()
    assert Photo.objects.filter(project=project).count() == 10


def test_kill_during_move_finishes_the_move_and_loses_nothing(workers, user, tenant, project):
    dest = make_project(tenant, "Destination")
    photos = add_photos(project, 10, raw=True)
    for photo in photos:  # derivatives travel with the photo
        for kind in (".thumb", ".preview"):
            path = project_dir(project) / kind / f"{photo.basename}.webp"
            path.parent.mkdir(exist_ok=True)
            Image.new("RGB", (8, 6), (photo.pk % 256, 0, 0)).save(path, "WEBP")
    Photo.objects.filter(project=project).update(
        thumbnail_status=DerivativeStatus.GENERATED, preview_status=DerivativeStatus.GENERATED
    )
    before = originals(project)
    # Batches of 4: the first batch commits, the kill lands inside the second one, after some
    # of its files are in the destination and before any of its rows or items are written.
    workers.start(
        PIPELINE_EXTRA_HANDLER_MODULES=INJECT, FAULT_SLOW="move:0.25", PIPELINE_COMMIT_BATCH="4"
    )
    started = photos_move(
        user=user, items=[{"photo_id": p.pk} for p in photos], dest_project_id=dest.pk
    )
    assert isinstance(started, MoveStarted)

    def moved_not_recorded(item: JobItem) -> bool:
        return (project_dir(dest) / f"{item.basename}.jpg").exists()

    job = kill_worker_mid_job(
        "image_move_files", started.task_id, in_window=moved_not_recorded, after_items=4
    )
    killed = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert list(killed.values()).count("running") == 4, killed  # killed inside a batch...
    assert list(killed.values()).count("done") in (4, 8), killed  # ...after one committed
    in_flight = [p for p in photos if killed[p.basename] == "running"]
    assert Photo.objects.get(pk=in_flight[0].pk).project_id == project.pk  # row not moved yet
    task = recover(job, started.task_id)

    assert task.status == "completed", workers.logs()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 2)
    items = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert set(items.values()) == {"done"}, items
    assert_no_original_lost(before, project, dest)
    assert originals(dest).keys() == before.keys()  # every original now in the destination
    assert originals(project) == {}
    # Each file moved once, under its own name: no copy, no renamed clash with itself.
    assert sorted(
        p.name for p in project_dir(dest).iterdir() if p.is_file() and p.name[0] != "."
    ) == (sorted(f"{p.basename}.{e}" for p in photos for e in ("cr2", "jpg")))
    assert set(
        Photo.objects.filter(pk__in=[p.pk for p in photos]).values_list("project", flat=True)
    ) == {dest.pk}
    moved_events = Event.objects.filter(type="item_moved", job=job)
    assert sorted(e.photo_id for e in moved_events) == sorted(p.pk for p in photos)  # once each
    for photo in photos:
        for kind in (".thumb", ".preview"):
            assert (project_dir(dest) / kind / f"{photo.basename}.webp").is_file()
            assert not (project_dir(project) / kind / f"{photo.basename}.webp").exists()
