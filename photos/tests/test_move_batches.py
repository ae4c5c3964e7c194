"""``image_move_files`` in batches: a few statements per batch, every outcome kept per item,
and a retry after a crash inside a batch finishing it without a clash with its own files.

The kill -9 of a real worker inside a batch is tests/faults/test_worker_kill.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.events import EventType
from jobs.models import Event, Job, JobItem, JobStatus
from jobs.runtime import drain
from photos.models import Photo, Tag
from photos.services import move as move_module
from photos.services import photos_move, photos_tags_add
from photos.services.results import MoveStarted
from photos.storage import project_dir
from tests.factories import make_photo, make_project, write_file


def names(path: Path) -> list[str]:
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def start_move(user, photos, dest) -> MoveStarted:
    started = photos_move(
        user=user, items=[{"photo_id": p.pk} for p in photos], dest_project_id=dest.pk
    )
    assert isinstance(started, MoveStarted)
    return started


def move_statements(user, photos, dest) -> int:
    """Statements of the task's ``image_move_files`` job alone."""
    started = start_move(user, photos, dest)
    with CaptureQueriesContext(connection) as queries:
        assert drain(max_jobs=1) == 1
    job = Job.objects.get(task_id=started.task_id, type="image_move_files")
    assert job.status == JobStatus.COMPLETED, job.error_message
    drain()  # the task's other steps, before the next move
    return len(queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_move_statements_do_not_grow_per_photo(user, project, dest, settings):
    settings.PIPELINE_COMMIT_BATCH = 100
    small = [make_photo(project, f"A_{i:04d}", raw=True) for i in range(10)]
    few = move_statements(user, small, dest)
    large = [make_photo(project, f"B_{i:04d}", raw=True) for i in range(310)]
    many = move_statements(user, large, dest)

    # One photo cost about a dozen statements (read, destination, clash, plan, row lock, save,
    # tags, event, item running, item status...); a batch of 100 now costs about twenty.
    per_photo = (many - few) / 300
    assert per_photo < 0.5, (few, many)
    assert names(project_dir(project)) == []
    assert len(names(project_dir(dest))) == 2 * 320
    assert set(Photo.objects.values_list("project_id", flat=True)) == {dest.pk}


@pytest.mark.django_db(transaction=True)
def test_a_batch_keeps_each_photos_own_outcome_tags_and_event(user, project, dest, settings):
    settings.PIPELINE_COMMIT_BATCH = 100
    second = make_project(project.tenant, "Second shoot")
    tagged = make_photo(project, "TAGGED", raw=True)
    plain = make_photo(second, "PLAIN")
    late_clash = make_photo(project, "CLASH")
    removed = make_photo(project, "REMOVED")
    photos_tags_add(user=user, items=[{"photo_id": tagged.pk, "tags": ["best", "iceland"]}])
    Tag.objects.create(project=dest, name="best")  # already there: reused, not duplicated
    started = start_move(user, [tagged, plain, late_clash, removed], dest)
    # After the start: a same-named file lands in the destination, a row goes away.
    write_file(project_dir(dest) / "CLASH.jpg", b"dropped in meanwhile")
    Photo.objects.filter(pk=removed.pk).delete()
    drain()

    job = Job.objects.get(task_id=started.task_id, type="image_move_files")
    items = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert items == {"TAGGED": "done", "PLAIN": "done", "CLASH": "failed", "REMOVED": "skipped"}
    assert Photo.objects.get(pk=tagged.pk).project_id == dest.pk
    assert sorted(Photo.objects.get(pk=tagged.pk).tags.values_list("name", "project_id")) == [
        ("best", dest.pk),
        ("iceland", dest.pk),
    ]
    assert Tag.objects.filter(project=dest, name="best").count() == 1
    assert Photo.objects.get(pk=plain.pk).project_id == dest.pk
    assert Photo.objects.get(pk=late_clash.pk).project_id == project.pk
    assert names(project_dir(project)) == ["CLASH.jpg", "REMOVED.jpg"]  # no row: left alone
    assert names(project_dir(second)) == []
    assert (project_dir(dest) / "CLASH.jpg").read_bytes() == b"dropped in meanwhile"
    events = Event.objects.filter(job=job, type=EventType.ITEM_MOVED).order_by("photo_id")
    assert [(e.photo_id, e.payload["from_project_id"], e.payload["tags"]) for e in events] == [
        (tagged.pk, project.pk, ["best", "iceland"]),
        (plain.pk, second.pk, []),
    ]


@pytest.mark.django_db(transaction=True)
def test_retry_after_a_crash_inside_a_batch_finishes_it_without_a_clash(
    user, project, dest, settings, monkeypatch
):
    settings.PIPELINE_COMMIT_BATCH = 100
    photos = [make_photo(project, f"C_{i:02d}", raw=True) for i in range(12)]
    started = start_move(user, photos, dest)
    real_move = move_module.move_no_replace
    calls = {"n": 0}

    def dies_halfway(src, dst):  # type: ignore[no-untyped-def]
        # The crashed attempt: the plans are committed, 13 files moved, no row written.
        calls["n"] += 1
        if calls["n"] == 14:
            raise RuntimeError("worker killed")
        real_move(src, dst)

    monkeypatch.setattr(move_module, "move_no_replace", dies_halfway)
    drain()

    job = Job.objects.get(task_id=started.task_id, type="image_move_files")
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 2)
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert names(project_dir(project)) == []
    assert names(project_dir(dest)) == sorted(
        f"{p.basename}.{e}" for p in photos for e in ("cr2", "jpg")
    )
    assert set(
        Photo.objects.filter(pk__in=[p.pk for p in photos]).values_list("project_id", flat=True)
    ) == {dest.pk}
    moved = Event.objects.filter(job=job, type=EventType.ITEM_MOVED)
    assert sorted(e.photo_id for e in moved) == sorted(p.pk for p in photos)  # each once
