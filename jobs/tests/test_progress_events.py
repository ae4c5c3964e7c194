"""``job_progress`` events (SPEC §10): written by running jobs, throttled, and at each job's end."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.enqueue import job_enqueue
from jobs.events import EventType
from jobs.models import Event, JobStatus
from jobs.runtime import drain
from tests.factories import make_items, make_project


def item_ids(tenant, count: int, name: str = "Progress") -> list[int]:
    project = make_project(tenant, name)
    return make_items(project, count)


def progress_events(job) -> list[Event]:
    return list(Event.objects.filter(type=EventType.JOB_PROGRESS, job=job).order_by("id"))


def test_a_long_job_writes_about_one_progress_event_a_second_and_one_at_its_end(tenant):
    ids = item_ids(tenant, 40)
    job = job_enqueue(tenant=tenant, type="test_record_items", items=ids, payload={"sleep": 0.05})[
        0
    ]

    drain()

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    events = progress_events(job)
    # 40 items over about 2 s: the first update, about two more, the end.
    assert 3 <= len(events) <= 6, [e.payload["progress_done"] for e in events]
    running = events[:-1]
    for before, after in zip(running, running[1:], strict=False):
        assert (after.created_at - before.created_at).total_seconds() >= 0.9
    dones = [e.payload["progress_done"] for e in events]
    assert dones == sorted(dones)
    last = events[-1].payload
    assert last["progress_done"] == last["progress_total"] == 40
    assert last["task_id"] is None
    assert (last["type"], last["scope"], last["job_id"]) == ("test_record_items", job.scope, job.pk)
    assert "project_id" in last


def test_progress_events_carry_the_task_and_project(tenant, project):
    from jobs.tasks import start_task

    started = start_task("maintenance", tenant, project=project)
    drain()

    events = Event.objects.filter(type=EventType.JOB_PROGRESS, job__task_id=started["task_id"])
    assert events.exists()
    for event in events:
        assert event.payload["task_id"] == str(started["task_id"])
        assert event.payload["project_id"] == project.pk
        assert event.payload["scope"] == "project"
        assert event.payload["progress_done"] <= event.payload["progress_total"]


def test_the_interval_is_a_setting(tenant, settings):
    settings.PIPELINE_PROGRESS_EVENT_SECONDS = 0
    ids = item_ids(tenant, 10)
    job = job_enqueue(tenant=tenant, type="test_record_items", items=ids)[0]

    drain()

    # Every update is announced: the initial 0/10, one per item, the end.
    dones = [e.payload["progress_done"] for e in progress_events(job)]
    assert dones == [0, *range(1, 11), 10]


def test_an_announced_update_costs_at_most_four_queries(tenant, settings):
    items = 20
    # Only the announcements may differ between the two runs: the reads and writes made by
    # the clock (heartbeats, cancel checks), which a slow run on a loaded machine does more
    # of, are put out of reach of both.
    settings.PIPELINE_HEARTBEAT_SECONDS = 3600
    settings.PIPELINE_CANCEL_POLL_SECONDS = 3600

    def queries_for(interval: float) -> tuple[int, int]:
        settings.PIPELINE_PROGRESS_EVENT_SECONDS = interval
        ids = item_ids(tenant, items, name=f"Interval {interval}")
        job = job_enqueue(tenant=tenant, type="test_record_items", items=ids)[0]
        with CaptureQueriesContext(connection) as ctx:
            drain()
        return len(ctx.captured_queries), len(progress_events(job))

    quiet_queries, quiet_events = queries_for(3600)
    loud_queries, loud_events = queries_for(0)
    extra_events = loud_events - quiet_events
    assert extra_events == items
    # The read-back and the insert, in a savepoint of their own.
    assert loud_queries - quiet_queries <= 4 * extra_events
