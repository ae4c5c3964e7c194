"""Scale-out (docs/OPERATIONS.md) with real processes on PostgreSQL + Redis: two worker hosts
(``serve --no-web``, each its own ``PIPELINE_WORKER_HOST``) sharing the database, Redis and
``PHOTOS_ROOT`` run every job exactly once; two web processes on one port
(``serve --no-workers --web-workers 2``) share throttle counts and single flight.

Speed is ``bench/scale_out.py``'s business: nothing here is timed.
"""

from __future__ import annotations

import collections
import threading

import pytest
from django.conf import settings
from django.db import connection

from jobs.enqueue import job_enqueue
from jobs.events import EventType
from jobs.models import Event, Job, TaskRun
from tests.deployment import Deployment
from tests.urls import api_path
from tests.web_processes import connections_per_process
from tests.workers import clusters_running, wait_for

pytestmark = [
    pytest.mark.workers,
    pytest.mark.redis,
    pytest.mark.postgres_only,
    pytest.mark.timeout(240),
]

HOSTS = ("host-a", "host-b")


@pytest.fixture
def scale_out(transactional_db, tmp_path):
    if connection.vendor != "postgresql" or not settings.Q_BROKER.startswith("redis"):
        pytest.skip("the scale-out layout needs PostgreSQL and the Redis broker")
    from django.core.cache import cache
    from django_q.brokers import get_broker
    from django_q.models import Schedule

    # Schedules would start maintenance jobs among the test's; other tests' messages would be
    # other tests' work.
    Schedule.objects.all().delete()
    for lane in ("priority", "default"):
        get_broker(lane).purge_queue()
    cache.clear()
    deployed = Deployment(tmp_path)
    yield deployed
    deployed.stop()


def waited(deployed: Deployment, predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    try:
        wait_for(predicate, timeout=timeout, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployed.logs()}") from None


def test_two_worker_hosts_run_every_job_exactly_once(scale_out, tenant, photos_root):
    markers = photos_root / "markers"  # the shared PHOTOS_ROOT: both hosts write here
    markers.mkdir()
    for name in HOSTS:
        scale_out.start_worker_host(
            PIPELINE_WORKER_HOST=name,
            PIPELINE_DEFAULT_WORKERS="2",
            # Redis messages and cluster stats are signed: this process enqueues with its key.
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
        )
    waited(scale_out, lambda: clusters_running() >= 2 * len(HOSTS), 90, "clusters running")

    # Enqueued one by one while both hosts run, the way commits and uploads enqueue: a wake-up
    # on commit (coalesced), then the workers wake one another while the backlog lasts.
    ids = [
        job_enqueue(
            tenant=tenant, type="test_io_wait", payload={"ms": 20, "marker_dir": str(markers)}
        )[0].pk
        for _ in range(200)
    ]
    jobs = Job.objects.filter(pk__in=ids)
    waited(
        scale_out,
        lambda: jobs.filter(status__in=["completed", "failed"]).count() == len(ids),
        180,
        "200 jobs to end",
    )

    assert jobs.filter(status="completed").count() == len(ids), scale_out.logs()
    # One marker file per run of the handler, named <job id>.<worker host>.<ns>.
    runs = collections.Counter(int(marker.name.split(".", 1)[0]) for marker in markers.iterdir())
    assert runs == dict.fromkeys(ids, 1)
    started = collections.Counter(
        Event.objects.filter(type=EventType.JOB_STARTED, job__in=ids).values_list(
            "job_id", flat=True
        )
    )
    assert started == dict.fromkeys(ids, 1)
    host_of_job = {pk: wid.split(":", 1)[0] for pk, wid in jobs.values_list("pk", "worker_id")}
    assert set(host_of_job.values()) == set(HOSTS)
    # The host that claimed a job is the one whose worker ran it.
    ran_on = {int(m.name.split(".", 1)[0]): m.name.split(".")[1] for m in markers.iterdir()}
    assert ran_on == host_of_job


def test_throttle_and_single_flight_hold_across_two_web_processes(scale_out):
    scale_out.user("acme", "ana")
    web = scale_out.start("--no-workers", "--web-workers", "2", THROTTLE_MAINTENANCE="4/10min")
    # Keep-alive connections accepted by each of the two processes behind the one port.
    pinned = connections_per_process(
        scale_out.port, scale_out.token, server_pid=web.proc.pid, processes=2, each=4
    )
    first, second = (conns[0] for conns in list(pinned.values())[:2])
    assert first.pid != second.pid
    path = api_path("maintenance-run")

    # Single flight: the same request on both processes at the same moment starts one task.
    assert sorted(at_once([first, second], path)) == [202, 409]
    assert TaskRun.objects.filter(type="maintenance_global").count() == 1

    # The throttle counts in the shared cache: 4 requests in all get through, not 4 each.
    alternating = [(first, second)[n % 2].request("POST", path, {})[0] for n in range(6)]
    assert alternating == [409, 409, 429, 429, 429, 429], scale_out.logs()

    # Counts cleared, 8 requests at the same moment, 4 on each process: still 4 get through.
    from django.core.cache import cache

    cache.clear()
    burst = [conns[n] for conns in list(pinned.values())[:2] for n in range(4)]
    statuses = at_once(burst, path)
    assert sorted(statuses) == [409] * 4 + [429] * 4, scale_out.logs()
    for conn in (c for conns in pinned.values() for c in conns):
        conn.close()


def at_once(conns, path: str) -> list[int]:  # type: ignore[no-untyped-def]
    """POST ``path`` on every connection at the same moment (one thread each); the statuses."""
    gate = threading.Barrier(len(conns))
    statuses: list[int] = []

    def post(conn) -> None:  # type: ignore[no-untyped-def]
        gate.wait()
        statuses.append(conn.request("POST", path, {})[0])

    threads = [threading.Thread(target=post, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
