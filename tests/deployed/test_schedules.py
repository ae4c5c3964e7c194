"""SPEC §8 as deployed: every schedule fires, once per tick, with two worker hosts running, and
a tick starts its task within seconds while every lane worker is in a long job."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from jobs.scheduling import schedules_all
from tests.deployment import FIRST_TICK_SECONDS, TICK_SLACK_SECONDS, manage
from tests.workers import wait_for

pytestmark = [pytest.mark.deployed, pytest.mark.timeout(240)]

SCHEDULED_TASK_TYPES = ("maintenance_global", "project_scavenge_global", "folder_discovery")


def test_every_schedule_fires_once_per_tick_with_two_worker_hosts(deployment):
    from django_q.models import Schedule, Task

    deployment.user("acme", "ana")
    # Fresh schedules: serve's migrate makes them again, due at once, their ticks on a grid of
    # their interval from that moment (which comes after this one).
    before_start = timezone.now()
    Schedule.objects.all().delete()
    # DEBUG brings back django-q2's own lines: which cluster started, which tick fired what.
    web = deployment.start(PIPELINE_LOG_LEVEL="DEBUG")
    second = deployment.start_worker_host(PIPELINE_LOG_LEVEL="DEBUG")

    # The three per-tenant tasks are visible to the tenant over HTTP, started by the scheduler.
    for task_type in SCHEDULED_TASK_TYPES:
        body = deployment.wait_api(
            f"tasks?type={task_type}",
            lambda body: body["results"],
            timeout=FIRST_TICK_SECONDS + 3 * TICK_SLACK_SECONDS,
            what=f"the scheduled {task_type}",
        )
        assert [task["source"] for task in body["results"]] == ["scheduler"]
    # The sweeper and pruning leave their django-q2 task records (group = schedule name).
    names = [spec.name for spec in schedules_all()]
    wait_for(
        lambda: (
            set(Task.objects.filter(group__in=names, success=True).values_list("group", flat=True))
            == set(names)
        ),
        timeout=2 * TICK_SLACK_SECONDS,
        what=f"every schedule to run; logs:\n{deployment.logs()}",
    )
    # Let both hosts' schedulers reach their first tick: neither may fire a schedule again.
    settle = max(web.started_at, second.started_at) + FIRST_TICK_SECONDS + TICK_SLACK_SECONDS
    time.sleep(max(settle - time.monotonic(), 0))
    logs = deployment.logs()
    for host in (web, second):
        # The queue name: the lane (ORM broker) or its Redis list (django_q:<lane>:q).
        for lane in ("priority", "default", "scheduler"):
            running = rf"Q Cluster \S+ \[(django_q:)?{lane}(:q)?\] running"
            assert re.search(running, host.log()), logs

    runs = list(Task.objects.filter(group__in=names).values_list("group", "started", "cluster"))
    # Read after the logs: a tick fired in between moves next_run and is not counted.
    rows = {row.name: row for row in Schedule.objects.filter(name__in=names)}
    for spec in schedules_all():
        started = sorted(when for group, when, _ in runs if group == spec.name)
        assert started, spec.name
        # Read when the schedulers fired (their log lines), not when a worker started the task:
        # a task may wait in the queue behind the jobs the first tick started.
        fired_at = sorted(
            datetime.strptime(match, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
            for match in re.findall(
                rf"(\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}}).*from schedule "
                rf"\[{re.escape(spec.name)}\]",
                logs,
            )
        )
        # Each firing takes one tick of the grid (first tick T0, made after before_start, then
        # every interval) and moves next_run past it; a late tick may fire seconds before the
        # next one, so the gaps between firings say nothing. A tick fired twice shows as more
        # firings than ticks now behind next_run: (next_run - T0) / interval, and T0 was made
        # less than an interval after before_start.
        interval = timedelta(minutes=rows[spec.name].minutes)
        ticks_behind = (rows[spec.name].next_run - before_start) // interval
        assert 1 <= len(fired_at) <= ticks_behind, (spec.name, fired_at, rows[spec.name].next_run)
        if spec.name != "pipeline: sweeper":
            assert len(started) == 1, (spec.name, started)
        fired = logs.count(f"from schedule [{spec.name}]")
        assert fired == len(started) == len(fired_at), (spec.name, fired, fired_at, logs)
    assert {cluster for _, _, cluster in runs} == {"scheduler"}
    # Scheduled runs go through the scheduler's queue: django-q2's per-message lines at DEBUG.
    assert "processing" in logs
    for task_type in SCHEDULED_TASK_TYPES:
        status, body = deployment.api("GET", f"tasks?type={task_type}")
        assert status == 200
        assert len(body["results"]) == 1, body


def test_ticks_start_their_tasks_while_every_lane_worker_is_in_a_long_job(deployment, tmp_path):
    """One worker per lane (the default), each held by a job that runs until the test releases
    it: the first tick of every schedule still starts its task (and the sweeper and pruning
    run). A scheduled function queued behind a job would wait for the release, forever."""
    from django_q.models import Schedule, Task

    from jobs.models import Job

    deployment.user("acme", "ana")
    # Fresh schedules, due now: serve's migrate creates them again.
    Schedule.objects.all().delete()
    release = tmp_path / "release"
    # Queued before serve starts (as an operator would, with the product's own command), so
    # both lanes are busy long before the first tick: django-q2 looks for due schedules 30 s
    # after a cluster starts.
    for task_type in ("test_block_priority", "test_block_default"):
        queued = manage("start_task", task_type, "--tenant", "acme", "--enqueue")
        assert queued.returncode == 0, queued.stderr
    blockers = set(Job.objects.filter(type="test_block").values_list("pk", flat=True))
    assert len(blockers) == 2
    # The default staleness, not the short one of the other deployed tests: on a loaded
    # machine a blocked job's heartbeat may lag a few seconds, and the sweeper must not take
    # the job from its worker.
    deployment.start(
        TEST_BLOCK_RELEASE=str(release), PIPELINE_LOG_LEVEL="DEBUG", PIPELINE_STALE_SECONDS="60"
    )
    try:
        running = deployment.wait_api(
            "jobs?status=running",
            lambda body: {job["id"] for job in body["results"]} == blockers,
            timeout=60,
            what="both lanes' workers to be in their long jobs",
        )["results"]
        busy_since = max(datetime.fromisoformat(job["started_at"]) for job in running)

        for task_type in SCHEDULED_TASK_TYPES:
            body = deployment.wait_api(
                f"tasks?type={task_type}",
                lambda body: body["results"],
                timeout=FIRST_TICK_SECONDS + 2 * TICK_SLACK_SECONDS,
                what=f"the scheduled {task_type} while every lane worker is busy",
            )
            (task,) = body["results"]
            assert task["source"] == "scheduler", task
            # The tick came while both lanes were busy, not before.
            assert datetime.fromisoformat(task["created_at"]) > busy_since, (task, busy_since)
        names = [spec.name for spec in schedules_all()]
        wait_for(
            lambda: (
                set(
                    Task.objects.filter(group__in=names, success=True).values_list(
                        "group", flat=True
                    )
                )
                == set(names)
            ),
            timeout=2 * TICK_SLACK_SECONDS,
            what="the sweeper and pruning to run",
        )
        # Every lane worker is still in its long job: nothing above waited for one.
        status, body = deployment.api("GET", "jobs?status=running")
        assert {job["id"] for job in body["results"]} == blockers, body
        assert set(Task.objects.filter(group__in=names).values_list("cluster", flat=True)) == {
            "scheduler"
        }
    finally:
        release.touch()
