"""Pipeline overhead: no-op jobs through our lanes vs no-op tasks on raw django-q2.

For each configuration (SQLite + ORM broker, PostgreSQL + ORM broker, PostgreSQL + Redis) a
child process creates its own database (a temporary SQLite file, or ``photolib_bench_pipeline`` on
PostgreSQL), migrates it and starts one real ``qcluster`` for the ``default`` lane with
``--workers`` workers. The same cluster runs both sides:

* **ours**: ``jobs.enqueue.job_enqueue(type="test_noop", priority=50)`` — a Job row, its
  ``job_queued`` event and a wake-up message on commit; a worker's ``run_lane`` claims it
  (``job_claim``), runs the handler with its heartbeat and ends it (``job_complete``);
* **raw**: ``django_q.tasks.async_task("bench._tasks.noop")`` with django-q2's defaults (the
  result is saved, as a plain django-q2 user gets it).

Throughput: ``-n`` submitted as a backlog while no cluster runs, then a cluster is started;
jobs per second from the first start to the last finish (ours: ``Job.started_at`` →
``Job.finished_at``, raw: the function's first line → ``Task.stopped``). Rounds alternate the
order (ours, raw, raw, ours…) and the median round counts. The submit cost (ms per call, the
caller's side) is printed apart. The leftover wake-ups of a burst (one message per job; all but
the first find nothing to claim) are drained before the next phase, and how long the queue
took to empty after the last job is printed too. Latency: ``--latency-samples`` submitted one at a time, each
after the previous one ended, from submit to start (ours: ``Job.created_at`` →
``Job.started_at``, raw: ``Task.started`` (set by ``async_task``) → the function's first line).
Last, ``run_lane`` runs in the child itself over a backlog of ``-n`` jobs (no broker, no
cluster): the claim → run → complete loop alone, with its SQL queries per job.

    .venv/bin/python bench/pipeline_overhead.py [-n 500] [--rounds 2] [--latency-samples 40]
        [--workers 1] [--configs sqlite-orm,postgres-orm,postgres-redis]

PostgreSQL at ``BENCH_PG_URL`` (default postgres://postgres@127.0.0.1:5432) and Redis at
``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/12) are used when reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import ROOT, machine, median, percentile, table

CONFIGS = {
    "sqlite-orm": ("sqlite", "orm"),
    "postgres-orm": ("postgres", "orm"),
    "postgres-redis": ("postgres", _common.REDIS_URL),
}
# Throughput goals, ours / raw (issue 15): at least raw's on the ORM broker; on Redis raw
# does no SQL in the worker at all.
GOALS = {"sqlite-orm": 1.0, "postgres-orm": 1.0, "postgres-redis": 0.25}
LANE = "default"
RAW_FUNC = "bench._tasks.noop"


# --- child: one configuration -----------------------------------------------------------------


def child(config: str, args: argparse.Namespace) -> dict:
    db_kind, broker = CONFIGS[config]
    url = _common.create_database(db_kind)
    photos = Path(tempfile.mkdtemp(prefix="photolib-bench-photos-"))
    env = {
        "DATABASE_URL": url,
        "Q_BROKER": broker,
        "PHOTOS_ROOT": str(photos),
        "PIPELINE_DEFAULT_WORKERS": str(args.workers),
    }
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    _common.setup_django()
    _common.migrate_quietly()

    from django_q.brokers import get_broker

    from projects.models import Tenant

    get_broker(LANE).purge_queue()
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    logs = Path(tempfile.mkdtemp(prefix="photolib-bench-log-"))
    clusters: list[_common.Cluster] = []

    def start_cluster() -> None:
        clusters.append(_common.Cluster(LANE, logs / f"qcluster-{len(clusters)}.log", **env))

    def stop_cluster() -> None:
        clusters[-1].stop()

    result: dict = {
        side: {"throughput": [], "enqueue_ms": [], "drain_s": []} for side in ("ours", "raw")
    }
    try:
        for round_no in range(args.rounds):
            order = ("ours", "raw") if round_no % 2 == 0 else ("raw", "ours")
            for side in order:
                # Submit the burst with no cluster running, then start one: the figure is how
                # fast a backlog drains, not how fast this one process can submit.
                submit = _ours_submit if side == "ours" else _raw_submit
                handle = submit(tenant, args.n)
                start_cluster()
                burst = handle["wait"]()
                burst["enqueue_ms"] = handle["enqueue_ms"]
                burst["drain_s"] = _drain()
                stop_cluster()
                for key in ("throughput", "enqueue_ms", "drain_s"):
                    result[side][key].append(burst[key])
                print(
                    f"{config} round {round_no + 1} {side}: {burst['throughput']:.1f}/s "
                    f"(load {os.getloadavg()[0]:.1f})",
                    file=sys.stderr,
                    flush=True,
                )
        start_cluster()
        # Warm up both paths, untimed.
        _ours_one(tenant)
        _raw_one()
        lat_ours, lat_raw = [], []
        for _ in range(args.latency_samples):
            lat_ours.append(_ours_one(tenant))
            time.sleep(random.uniform(0.05, 0.15))
            lat_raw.append(_raw_one())
            time.sleep(random.uniform(0.05, 0.15))
        result["ours"]["latency_ms"] = lat_ours
        result["raw"]["latency_ms"] = lat_raw
        stop_cluster()
        result["in_process"] = _in_process_loop(tenant, args.n)
        result["versions"] = _versions()
    except Exception:
        for log in sorted(logs.iterdir()):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        for cluster in clusters:
            cluster.stop()
    return result


def _ours_submit(tenant, n: int) -> dict:  # type: ignore[no-untyped-def]
    from django.db.models import Max, Min

    from jobs.enqueue import job_enqueue
    from jobs.models import Job

    start = time.perf_counter()
    ids = [job_enqueue(tenant=tenant, type="test_noop", priority=50)[0].pk for _ in range(n)]
    enqueue_ms = (time.perf_counter() - start) / n * 1000
    jobs = Job.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])

    def wait() -> dict:
        _common.wait_until(
            lambda: jobs.filter(status__in=["completed", "failed"]).count() == n,
            timeout=600,
            what=f"{n} jobs",
        )
        assert not jobs.filter(status="failed").exists(), "a no-op job failed"
        span = jobs.aggregate(first=Min("started_at"), last=Max("finished_at"))
        return {"throughput": n / (span["last"] - span["first"]).total_seconds()}

    return {"enqueue_ms": enqueue_ms, "wait": wait}


def _raw_submit(tenant, n: int) -> dict:  # type: ignore[no-untyped-def]
    from django.db.models import Max
    from django.utils import timezone
    from django_q.models import Task
    from django_q.tasks import async_task

    t0 = timezone.now()
    start = time.perf_counter()
    for _ in range(n):
        async_task(RAW_FUNC, cluster=LANE)
    enqueue_ms = (time.perf_counter() - start) / n * 1000
    tasks = Task.objects.filter(func=RAW_FUNC, started__gte=t0)

    def wait() -> dict:
        _common.wait_until(lambda: tasks.count() == n, timeout=600, what=f"{n} raw tasks")
        assert tasks.filter(success=True).count() == n, "a no-op task failed"
        first = min(float(r) for r in tasks.values_list("result", flat=True))
        last = tasks.aggregate(last=Max("stopped"))["last"].timestamp()
        return {"throughput": n / (last - first)}

    return {"enqueue_ms": enqueue_ms, "wait": wait}


def _drain() -> float:
    """Wait until the lane's queue is empty (every message acknowledged); seconds waited."""
    from django.conf import settings
    from django_q.brokers import get_broker
    from django_q.models import OrmQ

    start = time.perf_counter()
    if settings.Q_BROKER == "orm":
        _common.wait_until(
            lambda: not OrmQ.objects.filter(key=LANE).exists(), timeout=600, what="queue empty"
        )
    else:
        broker = get_broker(LANE)
        _common.wait_until(lambda: broker.queue_size() == 0, timeout=600, what="queue empty")
    waited = time.perf_counter() - start
    time.sleep(0.5)  # a message taken but not yet finished
    return waited


def _ours_one(tenant) -> float:  # type: ignore[no-untyped-def]
    from jobs.enqueue import job_enqueue
    from jobs.models import Job

    job = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    done = _common.wait_until(
        lambda: Job.objects.filter(pk=job.pk, status="completed").first(),
        timeout=60,
        what="job",
        interval=0.01,
    )
    return (done.started_at - done.created_at).total_seconds() * 1000


def _raw_one() -> float:
    from django_q.models import Task
    from django_q.tasks import async_task

    task_id = async_task(RAW_FUNC, cluster=LANE)
    done = _common.wait_until(
        lambda: Task.objects.filter(id=task_id).first(), timeout=60, what="task", interval=0.01
    )
    return (float(done.result) - done.started.timestamp()) * 1000


def _in_process_loop(tenant, n: int) -> dict:  # type: ignore[no-untyped-def]
    """``run_lane`` in this process over a backlog of ``n`` no-op jobs, no broker involved:
    the cost of the claim → run → complete loop alone, and its SQL queries per job."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_q.brokers import get_broker

    from jobs.enqueue import job_enqueue
    from jobs.runtime import run_lane

    for _ in range(n):
        job_enqueue(tenant=tenant, type="test_noop", priority=50)
    get_broker(LANE).purge_queue()
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        ran = run_lane(LANE, batch_seconds=600)
    elapsed = time.perf_counter() - start
    assert ran == n, f"ran {ran} of {n}"
    return {"jobs_per_s": n / elapsed, "queries_per_job": len(queries.captured_queries) / n}


def _versions() -> dict:
    from importlib.metadata import version

    return {"django-q2": version("django-q2"), "db": _common.database_description()}


# --- driver -----------------------------------------------------------------------------------


def reachable(config: str) -> str | None:
    db_kind, broker = CONFIGS[config]
    if db_kind == "postgres":
        try:
            import psycopg

            psycopg.connect(f"{_common.PG_BASE_URL}/postgres", connect_timeout=3).close()
        except Exception as exc:
            return f"PostgreSQL not reachable ({exc.__class__.__name__})"
    if broker.startswith("redis"):
        try:
            import redis

            redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
        except Exception as exc:
            return f"Redis not reachable ({exc.__class__.__name__})"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="jobs per burst")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-samples", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args)))
        return

    results, skipped = {}, {}
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    for config in [c for c in args.configs.split(",") if c]:
        why = reachable(config)
        if why:
            skipped[config] = why
            print(f"!! {config}: {why}", file=sys.stderr)
            continue
        proc = subprocess.run(
            [sys.executable, __file__, "--child", config, *sys.argv[1:]],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        if proc.returncode:
            skipped[config] = f"failed (exit {proc.returncode}); see stderr"
            continue
        results[config] = json.loads(proc.stdout.strip().splitlines()[-1])

    print(f"\nMachine: {machine()}")
    print(
        f"{args.n} no-op jobs per burst, {args.rounds} rounds (median), {args.workers} worker(s) "
        f"in one qcluster, {args.latency_samples} latency samples each"
    )
    rows = []
    for config, r in results.items():
        ours, raw = r["ours"], r["raw"]
        tp_ours, tp_raw = median(ours["throughput"]), median(raw["throughput"])
        rows.append(
            [
                f"{config} ({r['versions']['db']})",
                tp_ours,
                tp_raw,
                f"{tp_ours / tp_raw:.2f}",
                f"{percentile(ours['latency_ms'], 50):.0f} / {percentile(ours['latency_ms'], 95):.0f}",
                f"{percentile(raw['latency_ms'], 50):.0f} / {percentile(raw['latency_ms'], 95):.0f}",
                f"{median(ours['enqueue_ms']):.2f} / {median(raw['enqueue_ms']):.2f}",
                f"{median(ours['drain_s']):.1f} / {median(raw['drain_s']):.1f}",
                f"{r['in_process']['jobs_per_s']:.0f} ({r['in_process']['queries_per_job']:.1f})",
            ]
        )
    print()
    print(
        table(
            [
                "configuration",
                "ours jobs/s",
                "raw tasks/s",
                "ours / raw",
                "ours latency p50 / p95 ms",
                "raw latency p50 / p95 ms",
                "submit ms/call ours / raw",
                "queue left after last finish, s ours / raw",
                "ours in-process run_lane jobs/s (SQL queries/job)",
            ],
            rows,
        )
    )
    for config, why in skipped.items():
        print(f"| {config} | not run: {why} |")
    for config, r in results.items():
        ratio = median(r["ours"]["throughput"]) / median(r["raw"]["throughput"])
        goal = GOALS[config]
        print(f"{config}: goal throughput ratio ≥ {goal} — {'met' if ratio >= goal else 'NOT met'}")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
