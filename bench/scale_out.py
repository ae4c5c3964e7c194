"""Scale-out: one worker host vs two on shared PostgreSQL + Redis, and two web processes on one port.

**Worker hosts.** Each host is ``manage.py serve --no-web`` (both lanes' clusters, as the
deployment's worker units run it) with its own ``PIPELINE_WORKER_HOST`` (``host-a``,
``host-b``) and ``--workers`` workers in its default lane; all share one PostgreSQL database
(``photolib_bench_scale``, or ``BENCH_PG_DB``), one Redis (``BENCH_REDIS_URL``) and one
``PHOTOS_ROOT``. A phase starts its hosts, waits until every cluster reports running, writes a
backlog of ``--jobs`` queued ``test_io_wait`` jobs and sends one wake-up, as one commit of many
jobs does: the workers wake one another while the backlog lasts (``jobs.runtime.run_lane``).
Each job waits ``--wait-ms`` without using the CPU — it stands for a job waiting on a disk or
network, the kind of work extra hosts add capacity for — and writes one marker file into the
shared ``PHOTOS_ROOT``. Throughput is ``--jobs`` over the span from the first job's start to
the last one's end (``Job.started_at`` → ``Job.finished_at``). Every phase then checks what
scale-out must not break: every job completed, exactly one marker file and one ``job_started``
event per job (no double run), and which hosts ran them (the host part of ``Job.worker_id``).
The phases: one host, two hosts, and a control (unless ``--no-control``): one host with twice
the workers, as many worker processes as the two hosts on the same machine. Rounds alternate
the order. The machine's CPU use (``/proc/stat``, every process, not only ours) and the CPU
time of the hosts' processes are printed with each phase.

**Two web processes behind one port.** ``manage.py serve --no-workers --web-workers 2`` (one
port, two uvicorn processes accepting from it), with ``THROTTLE_MAINTENANCE`` at
``--throttle`` per 10 minutes. Connections are pinned to a known process (``/proc``: see
``tests/web_processes.py``), then: two ``POST /api/maintenance/run`` sent at once, one per
process (single flight: one 202, one 409); then more, alternating the processes one at a time,
until 429 (the throttle counts in the shared cache: ``--throttle`` requests get through in all,
not that many per process); then, with the counts cleared, a burst of concurrent requests
spread over both processes (what gets through when the requests race).

    .venv/bin/python bench/scale_out.py [--jobs 10000] [--workers 4] [--wait-ms 50] [--rounds 1]
        [--no-control] [--throttle 6] [--skip-web] [--skip-workers]

PostgreSQL at ``BENCH_PG_URL`` (default postgres://postgres@127.0.0.1:5432) and Redis at
``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/12; its lanes' queues are purged) must be
reachable.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import machine, median, table
from tests.processes import tree_cpu_seconds, tree_runqueue_seconds
from tests.workers import clusters_running

HOSTS = ("host-a", "host-b")
LANE = "default"


def host_env(args: argparse.Namespace, photos: Path) -> dict[str, str]:
    """What each worker or web unit of ``deploy/`` sets, plus the benchmark's handler module."""
    return {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "Q_BROKER": os.environ["Q_BROKER"],
        "PHOTOS_ROOT": str(photos),
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PIPELINE_EXTRA_HANDLER_MODULES": "tests.handlers",
        "PIPELINE_DEFAULT_WORKERS": str(args.workers),
        "PIPELINE_PRIORITY_WORKERS": "1",
    }


def cpu_times() -> tuple[int, int]:
    """``(busy, total)`` jiffies of the whole machine since boot (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


# --- worker hosts -----------------------------------------------------------------------------


def phase(
    hosts: int, workers: int, args: argparse.Namespace, tenant, photos: Path, logs: Path
) -> dict:  # type: ignore[no-untyped-def]
    from django.db.models import Count, Max, Min

    from jobs.events import EventType
    from jobs.lanes import wake_lane
    from jobs.models import Event, Job

    Job.objects.all().delete()
    Event.objects.all().delete()
    markers = Path(tempfile.mkdtemp(prefix="markers-", dir=photos))
    env = {**host_env(args, photos), "PIPELINE_DEFAULT_WORKERS": str(workers)}
    started = [
        _common.Serve(
            ["serve", "--no-web"],
            logs / f"serve-{hosts}x{workers}-{name}.log",
            settings="config.settings",
            PIPELINE_WORKER_HOST=name,
            **env,
        )
        for name in HOSTS[:hosts]
    ]
    try:
        _common.wait_until(
            lambda: clusters_running() >= 2 * hosts,
            timeout=120,
            what=f"{2 * hosts} clusters running",
            interval=0.2,
        )
        _common.job_backlog(
            tenant,
            args.jobs,
            type="test_io_wait",
            payload={"ms": args.wait_ms, "marker_dir": str(markers)},
        )
        cpu_before = cpu_times()
        hosts_cpu_before = sum(tree_cpu_seconds(host.proc.pid) for host in started)
        hosts_queued_before = sum(tree_runqueue_seconds(host.proc.pid) for host in started)
        wake_lane(LANE)
        jobs = Job.objects.all()
        _common.wait_until(
            lambda: jobs.filter(status__in=["completed", "failed"]).count() == args.jobs,
            timeout=3600,
            what=f"{args.jobs} jobs",
            interval=0.5,
        )
        cpu_after = cpu_times()
        hosts_cpu = sum(tree_cpu_seconds(host.proc.pid) for host in started) - hosts_cpu_before
        hosts_queued = (
            sum(tree_runqueue_seconds(host.proc.pid) for host in started) - hosts_queued_before
        )
    finally:
        for host in started:
            host.stop()

    span = jobs.aggregate(first=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    completed = jobs.filter(status="completed").count()
    starts = (
        Event.objects.filter(type=EventType.JOB_STARTED)
        .values("job")
        .annotate(n=Count("id"))
        .values_list("job", "n")
    )
    started_twice = sum(1 for _, n in starts if n > 1)
    runs = collections.Counter(int(p.name.split(".", 1)[0]) for p in markers.iterdir())
    ids = set(jobs.values_list("pk", flat=True))
    ran_twice = sum(1 for n in runs.values() if n > 1)
    never_ran = len(ids - set(runs))
    by_host = collections.Counter(
        wid.split(":", 1)[0] for wid in jobs.values_list("worker_id", flat=True)
    )
    first_start = {
        host: (when - span["first"]).total_seconds()
        for host, when in (
            (
                name,
                jobs.filter(worker_id__startswith=f"{name}:").aggregate(t=Min("started_at"))["t"],
            )
            for name in HOSTS[:hosts]
        )
        if when is not None
    }
    busy, total = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    result = {
        "hosts": hosts,
        "workers": workers,
        "cpu_busy": busy / total if total else float("nan"),
        "hosts_cpu_ms_per_job": hosts_cpu / args.jobs * 1000,
        "hosts_queued_ms_per_job": hosts_queued / args.jobs * 1000,
        "jobs_per_s": args.jobs / seconds,
        "seconds": seconds,
        "completed": completed,
        "double_runs": ran_twice + started_twice,
        "never_ran": never_ran,
        "by_host": dict(by_host),
        "first_start": first_start,
    }
    print(
        f"{hosts} host(s) × {workers} workers: {result['jobs_per_s']:.1f} jobs/s over "
        f"{seconds:.1f}s; completed {completed}/{args.jobs}; runs twice {ran_twice}, started "
        f"twice {started_twice}, never ran {never_ran}; machine CPU busy "
        f"{result['cpu_busy']:.0%}; hosts' CPU {result['hosts_cpu_ms_per_job']:.1f} ms/job, "
        f"waiting for a CPU {result['hosts_queued_ms_per_job']:.1f} ms/job; jobs per host "
        f"{dict(by_host)}; first start per host (s) "
        f"{ {h: round(t, 1) for h, t in first_start.items()} }",
        file=sys.stderr,
        flush=True,
    )
    return result


# --- web processes ----------------------------------------------------------------------------


def web(args: argparse.Namespace, photos: Path, logs: Path) -> dict:
    import io

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command

    from core.api.throttling import MaintenanceThrottle
    from jobs.models import TaskRun
    from tests.deployment import free_port
    from tests.web_processes import connections_per_process

    out = io.StringIO()
    call_command("tenant_user", "webco", "wendy", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    user = get_user_model().objects.get(username="wendy")
    # The user's count of the maintenance throttle, in the shared cache.
    count_key = MaintenanceThrottle().get_cache_key(SimpleNamespace(user=user), None)
    port = free_port()
    server = _common.Serve(
        ["serve", "--no-workers", "--web-workers", "2", "--port", str(port)],
        logs / "serve-web.log",
        settings="config.settings",
        THROTTLE_MAINTENANCE=f"{args.throttle}/10min",
        **host_env(args, photos),
    )
    path = "/api/maintenance/run"
    try:
        _common.wait_until(lambda: _answers(port), timeout=120, what="the web port", interval=0.3)
        cache.delete(count_key)
        pinned = connections_per_process(
            port, token, server_pid=server.proc.pid, processes=2, each=args.throttle
        )
        (pid_a, conns_a), (pid_b, conns_b) = list(pinned.items())[:2]

        # Single flight: one request on each process at the same moment.
        gate = threading.Barrier(2)
        answers: dict[int, int] = {}

        def fire(conn) -> None:  # type: ignore[no-untyped-def]
            gate.wait()
            answers[conn.pid] = conn.request("POST", path, {})[0]

        threads = [threading.Thread(target=fire, args=(c,)) for c in (conns_a[0], conns_b[0])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tasks = TaskRun.objects.filter(type="maintenance_global").count()

        # The throttle, one request at a time, alternating the processes.
        sequential: list[tuple[int, int]] = list(answers.items())
        for n in range(2 * args.throttle):
            conn = (conns_a if n % 2 == 0 else conns_b)[0]
            sequential.append((conn.pid, conn.request("POST", path, {})[0]))
        passed = [s for _, s in sequential if s != 429]
        passed_per_process = collections.Counter(pid for pid, s in sequential if s != 429)

        # A burst: every pinned connection at once (the counts cleared first).
        cache.delete(count_key)
        burst_conns = [c for conns in pinned.values() for c in conns]
        gate = threading.Barrier(len(burst_conns))
        burst: list[tuple[int, int]] = []

        def fire_burst(conn) -> None:  # type: ignore[no-untyped-def]
            gate.wait()
            burst.append((conn.pid, conn.request("POST", path, {})[0]))

        threads = [threading.Thread(target=fire_burst, args=(c,)) for c in burst_conns]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for conns in pinned.values():
            for conn in conns:
                conn.close()
    finally:
        server.stop()
    result = {
        "processes": len(pinned),
        "single_flight": sorted(answers.values()),
        "tasks_started": tasks,
        "sequential_passed": len(passed),
        "sequential_per_process": list(passed_per_process.values()),
        "sequential_statuses": [s for _, s in sequential],
        "burst_size": len(burst),
        "burst_per_process": dict(collections.Counter(pid for pid, _ in burst)),
        "burst_passed": sum(1 for _, s in burst if s != 429),
    }
    print(f"web: {result}", file=sys.stderr, flush=True)
    return result


def _answers(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


# --- driver -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="default-lane workers per host")
    parser.add_argument("--wait-ms", type=float, default=50, help="each job's I/O wait")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--throttle", type=int, default=6, help="maintenance requests / 10 min")
    parser.add_argument(
        "--no-control", action="store_true", help="skip the one host with 2 × --workers"
    )
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--skip-workers", action="store_true")
    args = parser.parse_args()

    from bench.pipeline_overhead import reachable

    why = reachable("postgres-redis")
    if why:
        sys.exit(f"scale-out needs PostgreSQL and Redis: {why}")
    os.environ["DATABASE_URL"] = _common.create_database(
        "postgres", name=os.environ.get("BENCH_PG_DB", "photolib_bench_scale")
    )
    os.environ["Q_BROKER"] = _common.REDIS_URL
    photos = Path(tempfile.mkdtemp(prefix="photolib-bench-photos-"))
    os.environ["PHOTOS_ROOT"] = str(photos)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    _common.setup_django()
    _common.migrate_quietly()

    from django_q.brokers import get_broker

    from projects.models import Tenant

    for lane in ("priority", "default"):
        get_broker(lane).purge_queue()  # messages of an earlier run
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    logs = Path(tempfile.mkdtemp(prefix="photolib-bench-log-"))
    print(f"logs in {logs}", file=sys.stderr)

    # (hosts, workers per host): one host, two hosts, and the control: one host running as many
    # workers as the two together, on the same machine.
    configs = [(1, args.workers), (2, args.workers)]
    if not args.no_control:
        configs.append((1, 2 * args.workers))
    figures: dict[tuple[int, int], list[dict]] = {config: [] for config in configs}
    if not args.skip_workers:
        for round_no in range(args.rounds):
            for hosts, workers in configs if round_no % 2 == 0 else configs[::-1]:
                figures[hosts, workers].append(phase(hosts, workers, args, tenant, photos, logs))
    web_result = None if args.skip_web else web(args, photos, logs)

    print(f"\nMachine: {machine()}")
    print(f"{_common.database_description()}, Redis broker and cache, serve --no-web per host")
    if not args.skip_workers:
        print(
            f"{args.jobs} jobs of {args.wait_ms:g} ms I/O wait each; {args.rounds} round(s) "
            "(median)\n"
        )
        rows = []
        for (hosts, workers), runs in figures.items():
            by_host: collections.Counter[str] = collections.Counter()
            for run in runs:
                by_host.update(run["by_host"])
            rows.append(
                [
                    f"{hosts} ({', '.join(HOSTS[:hosts])})",
                    workers,
                    median([r["jobs_per_s"] for r in runs]),
                    median([r["seconds"] for r in runs]),
                    f"{median([r['cpu_busy'] for r in runs]):.0%}",
                    median([r["hosts_cpu_ms_per_job"] for r in runs]),
                    median([r["hosts_queued_ms_per_job"] for r in runs]),
                    sum(r["completed"] for r in runs),
                    sum(r["double_runs"] for r in runs),
                    sum(r["never_ran"] for r in runs),
                    ", ".join(f"{h} {n}" for h, n in sorted(by_host.items())),
                ]
            )
        print(
            table(
                [
                    "worker hosts",
                    "default-lane workers per host",
                    "jobs/s",
                    "seconds",
                    "machine CPU busy",
                    "hosts' CPU ms/job",
                    "hosts' wait for a CPU, ms/job",
                    "completed",
                    "double runs",
                    "never ran",
                    "jobs per worker_id host",
                ],
                rows,
            )
        )

        def rate(config: tuple[int, int]) -> float:
            return median([r["jobs_per_s"] for r in figures[config]])

        ratio = rate((2, args.workers)) / rate((1, args.workers))
        doubles = sum(r["double_runs"] for runs in figures.values() for r in runs)
        print(
            f"\ntwo hosts / one: {ratio:.2f}× (goal ≥ 1.7× — {'met' if ratio >= 1.7 else 'NOT met'})"
        )
        if not args.no_control:
            control = rate((2, args.workers)) / rate((1, 2 * args.workers))
            print(
                f"two hosts / one host with {2 * args.workers} workers (the same machine): "
                f"{control:.2f}×"
            )
        print(f"double runs: {doubles} (goal 0 — {'met' if doubles == 0 else 'NOT met'})")
    if web_result:
        r = web_result
        print(
            f"\nweb: {r['processes']} processes on one port; single flight, two requests at once "
            f"on two processes: {r['single_flight']} ({r['tasks_started']} task started); "
            f"throttle {args.throttle}/10min, one at a time alternating: {r['sequential_passed']} "
            f"through (per process {r['sequential_per_process']}), statuses "
            f"{r['sequential_statuses']}; burst of {r['burst_size']} at once "
            f"(per process {list(r['burst_per_process'].values())}): {r['burst_passed']} through"
        )


if __name__ == "__main__":
    main()
