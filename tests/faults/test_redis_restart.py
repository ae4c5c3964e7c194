"""Redis restarted while jobs are queued (SPEC §7: lost wake-ups are re-sent by the sweeper).

Runs only with the Redis broker (``Q_BROKER=redis://…``: the suite's third run, on
PostgreSQL). Redis is restarted as CI starts it, with nothing saved, so every wake-up message
in it is gone; the jobs themselves are rows in the database and wait. The sweeper re-sends
their wake-ups and the work completes, with no original lost. A second restart while the
clusters run shows they keep working afterwards.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection

from jobs.enqueue import job_enqueue
from jobs.models import Job, TaskRun
from jobs.sweeper import sweep
from photos.models import Photo
from photos.services import photos_commit
from photos.services.results import CommitStarted
from photos.storage import project_dir
from tests.workers import wait_for

from .disk import add_photos, assert_no_original_lost, originals

pytestmark = [
    pytest.mark.fault,
    pytest.mark.workers,
    pytest.mark.redis,
    pytest.mark.timeout(240),
]

REDIS_CLI = ["redis-cli", "-h", "127.0.0.1", "-p", "6379"]
# How CI (.ci/run) starts Redis.
REDIS_SERVER = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def redis_up() -> bool:
    ping = subprocess.run([*REDIS_CLI, "ping"], capture_output=True, text=True)
    return ping.returncode == 0 and "PONG" in ping.stdout


def restart_redis() -> None:
    """Stop Redis without saving (every queued message is lost) and start it again."""
    subprocess.run([*REDIS_CLI, "shutdown", "nosave"], capture_output=True)
    deadline = time.monotonic() + 15
    while redis_up():
        assert time.monotonic() < deadline, "Redis did not stop"
        time.sleep(0.1)
    start_redis()


def start_redis() -> None:
    subprocess.run(REDIS_SERVER, check=True, capture_output=True)
    deadline = time.monotonic() + 15
    while not redis_up():
        assert time.monotonic() < deadline, "Redis did not come back"
        time.sleep(0.1)


@pytest.fixture
def redis_broker(transactional_db):
    if not settings.Q_BROKER.startswith("redis"):
        pytest.skip("needs the Redis broker (Q_BROKER=redis://…)")
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield
    if not redis_up():  # never leave the rest of the suite without its broker
        start_redis()


def queued_messages(lane: str) -> int:
    from django_q.brokers import get_broker

    return get_broker(lane).queue_size()


def task_end(task_id: str):  # type: ignore[no-untyped-def]
    return lambda: TaskRun.objects.filter(
        pk=task_id, status__in=["completed", "failed", "canceled"]
    ).first()


def test_wake_ups_lost_in_a_redis_restart_are_resent_by_the_sweeper(
    redis_broker, workers, user, project, tmp_path
):
    photos = add_photos(project, 4, raw=True, keep_raw=False)
    before = originals(project)
    started = photos_commit(user=user, project_ids=[project.pk])
    assert isinstance(started, CommitStarted)
    assert queued_messages("priority") >= 1  # the wake-up waits in Redis

    restart_redis()
    assert queued_messages("priority") == 0  # … and is gone

    # django-q2's own "Q Cluster … running" line is an INFO line, shown only at DEBUG.
    workers.start(PIPELINE_LOG_LEVEL="DEBUG")
    clusters = workers.clusters
    wait_for(lambda: all("running" in c.log() for c in clusters), what="clusters running")
    time.sleep(2)
    connection.close()
    job = Job.objects.get(task_id=started.task_id)
    assert job.status == "queued", "nothing should have woken the job: its message was lost"

    swept = sweep(resend_after_seconds=0)
    assert swept["woken"] == {"priority": 1}
    task = wait_for(task_end(started.task_id), timeout=90, what="commit task end")
    assert task.status == "completed", workers.logs()
    assert sorted(p.name for p in (project_dir(project) / ".trash").iterdir()) == sorted(
        f"{p.basename}.cr2" for p in photos
    )
    assert not Photo.objects.filter(project=project, raw_available=True).exists()
    assert_no_original_lost(before, project)

    # Redis restarted again under running clusters: they reconnect and take new work (the
    # sweeper re-sends whatever wake-up the restart swallowed).
    restart_redis()
    marker = tmp_path / "markers"
    marker.mkdir()
    job = job_enqueue(
        tenant=project.tenant, type="test_noop", priority=100, payload={"marker_dir": str(marker)}
    )[0]

    def done() -> bool:
        sweep(resend_after_seconds=5)
        return Job.objects.filter(pk=job.pk, status="completed").exists()

    wait_for(done, timeout=90, what="job after the second restart")
    assert len(list(marker.iterdir())) == 1
