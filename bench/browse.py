"""Browsing a 1,000,000-photo library: ``GET /api/photos/`` and ``GET /api/projects/`` latency.

    .venv/bin/python bench/browse.py                 # builds bench/library.py's library first
    .venv/bin/python bench/browse.py --samples 40 --explain

Every request goes through the whole stack (Django's test client: middleware, token
authentication, DRF, the serializer) against PostgreSQL, as the library's user. Per case:
the first page (100 photos, sorted by capture time, the default order) and a deep page (a
cursor at a random photo of the filtered list, a new one for each request), across all
projects and within one project, for each filter of SPEC §9. Prints p50 and p95 per case in
milliseconds: wall time; the CPU time of this process (client and server, without the
database: on a busy machine the wall time also counts waiting for a core), and of it the time
Python's cyclic garbage collector ran during the request (``--gc-freeze`` moves the objects
alive after the warm-up out of its reach, as a server could at start); the time in SQL
(the queries' round trips as Django measures them); and the **database time**: after each
timed request its SELECTs run again under ``EXPLAIN (ANALYZE, TIMING OFF)`` (untimed), and
the planning and execution times PostgreSQL reports are summed — the server's own time,
without round trips or the Python side (``--no-db-time`` skips it). With ``--explain``, each
query plan that reads ``photos_photo`` with a ``Seq Scan``. Nothing is asserted: the goals
(p95 ≤ 50 ms for photos, ≤ 100 ms for the project list) are read off the table.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine, percentile, table
from bench.library import BENCH_TOKEN, DEFAULT_DB, library_ensure

FILTERS: list[tuple[str, dict[str, str]]] = [
    ("none", {}),
    (
        "taken_at range (two months)",
        {"taken_at_after": "2021-09-01", "taken_at_before": "2021-10-31"},
    ),
    ("file_type=raw", {"file_type": "raw"}),
    ("keep_jpg=false", {"keep_jpg": "false"}),
    ("pending=true", {"pending": "true"}),
    ("tags=select", {"tags": "select"}),
    ("visibility=public", {"visibility": "public"}),
    ("thumbnail_status=failed", {"thumbnail_status": "failed"}),
    ("rating_min=4", {"rating_min": "4"}),
    ("label=red", {"label": "red"}),
]


def _cursor(photo: Any) -> str:
    value = photo.taken_at.isoformat() if photo.taken_at else None
    payload = {
        "k": ["taken_at", "basename", "id"],
        "v": [value, photo.basename, photo.pk],
        "b": False,
    }
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _filtered(params: dict[str, str], project_id: int | None):  # type: ignore[no-untyped-def]
    """The photos a list request with ``params`` shows (for picking cursor positions)."""
    from django.http import QueryDict

    from photos.api.filters import PhotoFilter
    from photos.models import Photo

    query = QueryDict(mutable=True)
    query.update(params)
    if project_id:
        query["project"] = str(project_id)
    return PhotoFilter(query, queryset=Photo.objects.all()).qs


def _random_position(queryset, rng: random.Random, max_id: int):  # type: ignore[no-untyped-def]
    for _ in range(20):
        photo = queryset.filter(id__gte=rng.randrange(1, max_id)).order_by("id").first()
        if photo is not None:
            return photo
    return queryset.order_by("id").first()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--samples", type=int, default=30, help="requests per case")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--no-db-time", action="store_true", help="skip the EXPLAIN ANALYZE runs")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after the warm-up: full collections skip the long-lived objects",
    )
    args = parser.parse_args()
    library_ensure(db=args.db)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from photos.models import Photo
    from projects.models import Project

    client = Client(HTTP_AUTHORIZATION=f"Token {BENCH_TOKEN}")
    rng = random.Random(7)
    max_id = Photo.objects.order_by("-id").values_list("id", flat=True).first() or 1
    one = Project.objects.filter(name="Rows 250").values_list("id", flat=True).first()
    photo_total = Photo.objects.count()
    print(f"{machine()}; {photo_total} photos, {Project.objects.count()} projects")
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")

    cpu: dict[str, list[float]] = {}
    db: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}

    def server_ms(queries: list[dict[str, str]]) -> float:
        """Planning + execution time PostgreSQL reports for the request's SELECTs, run again."""
        total = 0.0
        with connection.cursor() as cursor:
            for query in queries:
                if not query["sql"].lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
        return total

    # CPU time of Python's cyclic garbage collector, by collection (gc.callbacks).
    collected = {"ms": 0.0, "start": 0.0}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected["start"] = time.process_time()
        else:
            collected["ms"] += (time.process_time() - collected["start"]) * 1000

    gc.callbacks.append(on_gc)
    gc_ms: dict[str, list[float]] = {}

    def get(path: str, params: dict[str, str], key: str = "") -> tuple[float, int]:
        # The log keeps 9,000 queries; once full, CaptureQueriesContext's slice comes back
        # empty. Start each request with an empty log.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            gc_before = collected["ms"]
            started, started_cpu = time.perf_counter(), time.process_time()
            reply = client.get(path, params)
            elapsed = (time.perf_counter() - started) * 1000
            spent_cpu = (time.process_time() - started_cpu) * 1000
            spent_gc = collected["ms"] - gc_before
        cpu.setdefault(key, []).append(spent_cpu)
        gc_ms.setdefault(key, []).append(spent_gc)
        db.setdefault(key, []).append(sum(float(q["time"]) for q in captured) * 1000)
        assert reply.status_code == 200, (reply.status_code, reply.content[:300])
        if not args.no_db_time:
            server.setdefault(key, []).append(server_ms(captured.captured_queries))
        return elapsed, len(reply.json()["results"])

    for _ in range(5):  # warm the connection, the caches and the code paths
        get("/api/photos/", {})
        get("/api/projects/", {"page_size": "500"})
    if args.gc_freeze:
        gc.collect()
        gc.freeze()

    cases = []
    for scope, project_id in (("all projects", None), ("one project", one)):
        for name, params in FILTERS:
            base = dict(params, page_size="100")
            if project_id:
                base["project"] = str(project_id)
            positions = _filtered(params, project_id)
            cases.append((scope, name, "first", base, None))
            cases.append((scope, name, "deep", base, positions))

    timings: dict[int, list[float]] = {n: [] for n in range(len(cases))}
    rows: dict[int, int] = {}
    slow_plans: list[str] = []
    loads: list[float] = []
    for _ in range(args.samples):
        loads.append(os.getloadavg()[0])
        for n, (_scope, _name, _page, base, positions) in enumerate(cases):
            params = dict(base)
            if positions is not None:
                photo = _random_position(positions, rng, max_id)
                if photo is None:
                    continue
                params["cursor"] = _cursor(photo)
            if args.explain and n not in rows:
                with CaptureQueriesContext(connection) as ctx:
                    get("/api/photos/", params)
                for query in ctx.captured_queries:
                    if query["sql"].startswith("EXPLAIN"):
                        continue
                    if "photos_photo" in query["sql"] and "LIMIT" in query["sql"]:
                        with connection.cursor() as cursor:
                            cursor.execute("EXPLAIN " + query["sql"])
                            plan = "\n".join(r[0] for r in cursor.fetchall())
                        if re.search(r"Seq Scan on photos_photo\b", plan):
                            slow_plans.append(f"{cases[n][:3]}:\n{plan}")
            elapsed, count = get("/api/photos/", params, key=str(n))
            timings[n].append(elapsed)
            rows[n] = max(rows.get(n, 0), count)

    result = []
    for n, (scope, name, page, _base, _positions) in enumerate(cases):
        values = timings[n]
        p95 = percentile(values, 95)
        result.append(
            (
                scope,
                name,
                page,
                rows.get(n, 0),
                percentile(values, 50),
                p95,
                percentile(cpu[str(n)], 95),
                percentile(gc_ms[str(n)], 95),
                percentile(db[str(n)], 95),
                percentile(server.get(str(n), []), 95),
                "yes" if p95 <= 50 else "**no**",
            )
        )
    headers = [
        *("scope", "filter", "page", "rows", "p50", "p95", "p95 CPU", "p95 GC", "p95 SQL"),
        *("p95 DB", "≤ 50"),
    ]
    print(table(headers, result))

    project_rows = []
    for page_size in ("100", "500"):
        key = f"projects {page_size}"
        values = [
            get("/api/projects/", {"page_size": page_size}, key=key)[0] for _ in range(args.samples)
        ]
        p95 = percentile(values, 95)
        project_rows.append(
            (
                f"page_size={page_size}",
                percentile(values, 50),
                p95,
                percentile(cpu[key], 95),
                percentile(gc_ms[key], 95),
                percentile(db[key], 95),
                percentile(server.get(key, []), 95),
                "yes" if p95 <= 100 else "**no**",
            )
        )
    print()
    headers = [
        *("GET /api/projects/ (with counts)", "p50", "p95", "p95 CPU", "p95 GC", "p95 SQL"),
        "p95 DB",
        "≤ 100",
    ]
    print(table(headers, project_rows))
    loads.append(os.getloadavg()[0])
    print(
        f"\nload average (1 min) during the run: min {min(loads):.1f}, median "
        f"{percentile(loads, 50):.1f}, max {max(loads):.1f}; at the end {loads[-1]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    if slow_plans:
        print("\nPlans with a sequential scan of photos_photo:\n")
        print("\n\n".join(slow_plans))


if __name__ == "__main__":
    main()
