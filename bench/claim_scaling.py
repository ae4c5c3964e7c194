"""Claim scaling: jobs per second with 1, 2 and 4 worker processes claiming from one database.

A fresh database (``photolib_bench_claim`` on PostgreSQL, or a temporary SQLite file with
``--db sqlite``) gets a backlog of ``-n`` queued jobs; then ``k`` plain processes, started
together, loop ``jobs.lifecycle.job_claim`` → ``job_complete`` until nothing is left to
claim. Throughput is ``n`` over the span from the first claim to the last completion. The
run also checks the guarantee it leans on: every job was started exactly once (one
``job_started`` event per job) and ended ``completed``.

    .venv/bin/python bench/claim_scaling.py [-n 2000] [--workers 1,2,4] [--rounds 2] [--db postgres]

The machine has 2 cores shared with the database server, so more than 2 processes show
contention, not extra capacity; the figure to watch is that throughput does not collapse.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import ROOT, machine, median, table


def worker(index: int, gate: Path) -> dict:
    _common.setup_django()
    from django.db import connection

    from jobs.lifecycle import job_claim, job_complete

    connection.ensure_connection()
    # Start together: report ready, then wait for the driver's "go".
    (gate / f"ready-{index}").touch()
    while not (gate / "go").exists():
        time.sleep(0.005)
    wid = f"bench-claim-{index}"
    done = 0
    first = last = None
    while True:
        job = job_claim(worker_id=wid)
        if job is None:
            break
        first = first or time.time()
        job_complete(job_id=job.pk)
        done += 1
        last = time.time()
    return {"done": done, "first": first, "last": last}


def _wait_ready(predicate, procs) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    while not predicate():
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            raise RuntimeError("a claim worker did not get ready")
        time.sleep(0.02)


def round_with(k: int, n: int, tenant) -> float:  # type: ignore[no-untyped-def]
    from jobs.events import EventType
    from jobs.models import Event, Job

    Job.objects.all().delete()
    _common.job_backlog(tenant, n)
    gate = Path(tempfile.mkdtemp(prefix="bench-claim-"))
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(i), str(gate)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(k)
    ]
    _wait_ready(lambda: len(list(gate.glob("ready-*"))) == k, procs)
    (gate / "go").touch()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode:
            raise RuntimeError(f"a claim worker failed (exit {proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    completed = Job.objects.filter(status="completed").count()
    started = Event.objects.filter(type=EventType.JOB_STARTED).values("job").distinct().count()
    twice = Event.objects.filter(type=EventType.JOB_STARTED).count() - started
    if sum(r["done"] for r in results) != n or completed != n or started != n or twice:
        raise RuntimeError(
            f"{n} jobs: {completed} completed, {started} started, {twice} started twice"
        )
    Event.objects.all().delete()
    first = min(r["first"] for r in results if r["first"])
    last = max(r["last"] for r in results if r["last"])
    share = ", ".join(str(r["done"]) for r in results)
    print(
        f"{k} worker(s): {n / (last - first):.0f} jobs/s (jobs per worker: {share})",
        file=sys.stderr,
    )
    return n / (last - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(int(args.worker[0]), Path(args.worker[1]))))
        return

    os.environ["DATABASE_URL"] = _common.create_database(args.db, name="photolib_bench_claim")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["Q_BROKER"] = "orm"
    _common.setup_django()
    _common.migrate_quietly()

    from projects.models import Tenant

    tenant = Tenant.objects.create(slug="bench", name="Bench")
    counts = [int(k) for k in args.workers.split(",")]
    figures: dict[int, list[float]] = {k: [] for k in counts}
    for _ in range(args.rounds):
        for k in counts:
            figures[k].append(round_with(k, args.n, tenant))
    server = _common.database_description()
    print(f"\nMachine: {machine()}")
    print(
        f"{server}; backlog of {args.n} jobs; claim + complete per job; median of {args.rounds} rounds"
    )
    base = median(figures[counts[0]])
    rows = [[k, median(figures[k]), f"{median(figures[k]) / base:.2f}×"] for k in counts]
    print()
    print(table(["worker processes", "jobs/s", f"vs {counts[0]}"], rows))


if __name__ == "__main__":
    main()
