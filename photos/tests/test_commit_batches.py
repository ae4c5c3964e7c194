"""``file_removal`` and revert in batches: a few statements per batch, every outcome kept per
item, and a retry after a crash inside a batch finishing it without trashing anything twice
(a revert: without an event twice).

The kill -9 of a real worker inside a batch is tests/faults/test_worker_kill.py.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.events import EventType
from jobs.models import Event, Job, JobItem
from jobs.runtime import drain
from photos.fsrules import trash_move
from photos.models import Photo
from photos.services import project_commit, project_revert, removal, revert
from photos.services.results import CommitStarted
from photos.storage import project_dir
from tests.factories import make_photo


def trash(project) -> list[str]:
    where = project_dir(project) / ".trash"
    return sorted(p.name for p in where.iterdir()) if where.is_dir() else []


def raw_discarded(project, count: int, *, prefix: str) -> list[Photo]:
    """Photos with a kept JPG and a discarded RAW (the row stays, availability changes)."""
    return [make_photo(project, f"{prefix}{i:04d}", raw=True, keep_raw=False) for i in range(count)]


def file_removal_statements(user, project) -> int:
    """Statements of the commit's ``file_removal`` job alone (the task's first step)."""
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    with CaptureQueriesContext(connection) as queries:
        assert drain(max_jobs=1) == 1
    job = Job.objects.get(task_id=started.task_id, type="file_removal")
    assert job.status == "completed", job.error
    return len(queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_file_removal_statements_do_not_grow_per_photo(user, project, settings):
    settings.PIPELINE_COMMIT_BATCH = 100
    raw_discarded(project, 10, prefix="A_")
    small = file_removal_statements(user, project)
    raw_discarded(project, 310, prefix="B_")
    large = file_removal_statements(user, project)

    # One photo used to cost 6-7 statements (read, item running, row, event, item status...);
    # a batch of 100 now costs about ten, whatever its size.
    per_photo = (large - small) / 300
    assert per_photo < 0.5, (small, large)
    assert len(trash(project)) == 320
    assert not Photo.objects.filter(project=project, raw_available=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_keeps_each_photos_own_outcome(user, project, settings, monkeypatch):
    settings.PIPELINE_COMMIT_BATCH = 100
    removed = make_photo(project, "GONE", jpg=False, raw=True, keep_raw=False)
    updated = make_photo(project, "KEEPJPG", raw=True, keep_raw=False)
    changed_mind = make_photo(project, "KEPT", raw=True, keep_raw=False)
    unreadable = make_photo(project, "LOCKED", raw=True, keep_raw=False)
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    Photo.objects.filter(pk=changed_mind.pk).update(keep_raw=True)  # after the commit
    real_trash_move = removal.trash_move

    def refusing(where, name):  # type: ignore[no-untyped-def]
        if name.startswith("LOCKED"):
            raise PermissionError(13, "Permission denied")
        return real_trash_move(where, name)

    monkeypatch.setattr(removal, "trash_move", refusing)
    drain()

    job = Job.objects.get(task_id=started.task_id, type="file_removal")
    statuses = dict(JobItem.objects.filter(job=job).values_list("basename", "status"))
    assert statuses["GONE"] == "done"
    assert statuses["KEEPJPG"] == "done"
    assert statuses["KEPT"] == "skipped"
    assert not Photo.objects.filter(pk=removed.pk).exists()
    row = Photo.objects.get(pk=updated.pk)
    assert (row.raw_available, row.jpg_available, row.keep_jpg) == (False, True, True)
    assert (project_dir(project) / "KEPT.cr2").exists()
    assert Photo.objects.get(pk=changed_mind.pk).raw_available
    removed_events = Event.objects.filter(job=job, type=EventType.ITEM_REMOVED)
    assert [e.payload["photo_id"] for e in removed_events] == [removed.pk]
    item_events = Event.objects.filter(job=job, type=EventType.ITEM)
    assert {e.photo_id for e in item_events} >= {updated.pk}
    # One file that cannot be trashed fails its photo only: the file stays, still pending.
    assert statuses["LOCKED"] == "failed"
    assert (project_dir(project) / "LOCKED.cr2").exists()
    assert Photo.objects.get(pk=unreadable.pk).raw_available
    assert Photo.objects.filter(pk=unreadable.pk).pending_delete().exists()


@pytest.mark.django_db(transaction=True)
def test_retry_after_a_crash_inside_a_batch_finishes_it_without_trashing_twice(
    user, project, settings
):
    settings.PIPELINE_COMMIT_BATCH = 100
    photos = raw_discarded(project, 12, prefix="C_")
    started = project_commit(user=user, project=project)
    assert isinstance(started, CommitStarted)
    # The crashed attempt: half of the batch's files reached the trash, no row was written.
    for photo in photos[:6]:
        assert trash_move(project_dir(project), f"{photo.basename}.cr2") is not None
    drain()

    job = Job.objects.get(task_id=started.task_id, type="file_removal")
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert trash(project) == sorted(f"{p.basename}.cr2" for p in photos)  # each once, no ~2
    assert not list(project_dir(project).glob("*.cr2"))
    assert Photo.objects.filter(project=project).count() == 12
    assert not Photo.objects.filter(project=project, raw_available=True).exists()


# --- revert -------------------------------------------------------------------------------


def culled(project, count: int, *, prefix: str) -> list[Photo]:
    """Photos with a discarded RAW: a revert keeps it again."""
    return [
        make_photo(project, f"{prefix}{i:04d}", raw=True, keep_raw=False, write=False)
        for i in range(count)
    ]


def revert_statements(user, project) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        reverted = project_revert(user=user, project=project)
    return reverted.photo_count, len(queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_revert_writes_a_batch_per_transaction_with_few_statements(user, project, settings):
    settings.PIPELINE_COMMIT_BATCH = 100
    culled(project, 10, prefix="A_")
    assert revert_statements(user, project)[0] == 10
    culled(project, 310, prefix="B_")
    count, large = revert_statements(user, project)
    assert count == 310
    # Four batches of at most 100: a read, an UPDATE and an insert of events each, inside
    # BEGIN/COMMIT (the savepoint-free atomic), plus the pending totals and their event.
    assert large <= 4 * 5 + 4, large
    assert not Photo.objects.filter(project=project).keep_mismatch().exists()
    assert Event.objects.filter(type=EventType.ITEM, project=project).count() == 320


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_revert_keeps_its_finished_batches_and_the_next_one_finishes(
    user, project, settings, monkeypatch
):
    settings.PIPELINE_COMMIT_BATCH = 4
    photos = culled(project, 10, prefix="R_")
    real_record = revert.events_record_bulk
    calls = {"n": 0}

    def dies_in_the_second_batch(events):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("web process killed")
        return real_record(events)

    monkeypatch.setattr(revert, "events_record_bulk", dies_in_the_second_batch)
    with pytest.raises(RuntimeError):
        project_revert(user=user, project=project)
    # The first batch is reverted with its events; the second rolled back whole.
    reverted = set(
        Photo.objects.filter(project=project, keep_raw=True).values_list("pk", flat=True)
    )
    assert reverted == {p.pk for p in photos[:4]}
    assert (
        set(Event.objects.filter(type=EventType.ITEM).values_list("photo_id", flat=True))
        == reverted
    )
    assert not Event.objects.filter(type=EventType.PENDING_CHANGES).exists()

    monkeypatch.setattr(revert, "events_record_bulk", real_record)
    assert project_revert(user=user, project=project).photo_count == 6
    assert not Photo.objects.filter(project=project).keep_mismatch().exists()
    item_events = list(Event.objects.filter(type=EventType.ITEM).values_list("photo_id", flat=True))
    assert sorted(item_events) == sorted(p.pk for p in photos)  # each photo once
    totals = Event.objects.get(type=EventType.PENDING_CHANGES).payload
    assert (totals["project_id"], totals["total"]) == (project.pk, 0)
