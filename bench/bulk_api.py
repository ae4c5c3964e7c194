"""Bulk API: time and SQL queries for 1 vs 2,000 items on keep, tags and commit (SPEC §9).

In-process, through DRF's ``APIClient`` with token authentication (the full request path:
URL routing, authentication, parsing, the service, the reply), against a fresh database (a
temporary SQLite file, or ``photolib_bench_api`` on PostgreSQL with ``--db postgres``) and a
temporary ``PHOTOS_ROOT`` with real JPEG and RAW files. Throttles are off (bench/settings.py).

* ``keep``: ``POST /api/photos/keep`` flipping ``keep_jpg`` of every item (each call changes
  every photo);
* ``tags/add`` and ``tags/remove``: a new tag name per round, added then removed;
* ``commit-changes``: ``POST /api/photos/commit-changes`` for a project whose photos all have a
  discarded RAW (the request: it starts the task), then the task itself run to completion
  in-process with ``jobs.runtime.drain`` (``file_removal`` moving each RAW to ``.trash/``,
  ``manifest_check``, ``folder_check``, ``manifest_cleaning``).

The headline is the query count: a bulk endpoint must run a fixed number of queries whatever
the item count (STYLE.md); ms is the median of ``--rounds``.

    .venv/bin/python bench/bulk_api.py [--sizes 1,2000] [--rounds 3] [--db sqlite]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import machine, median, table


def measure(fn) -> tuple[float, int, object]:  # type: ignore[no-untyped-def]
    """Wall ms, SQL statements run on this thread's connection, and ``fn``'s result.

    Counts through an execute wrapper (CaptureQueriesContext keeps at most 9,000 queries)."""
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = fn()
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, count, result


def populate(project, n: int, *, prefix: str) -> list[int]:  # type: ignore[no-untyped-def]
    """``n`` photos with a JPG (real JPEG) and a RAW each, rows written in bulk."""
    from django.conf import settings

    from photos.models import Photo
    from tests.factories import jpeg_bytes

    folder = Path(settings.PHOTOS_ROOT) / project.tenant.slug / project.folder
    folder.mkdir(parents=True, exist_ok=True)
    jpeg = jpeg_bytes()
    rows = []
    for i in range(n):
        base = f"{prefix}{i:05d}"
        (folder / f"{base}.jpg").write_bytes(jpeg)
        (folder / f"{base}.cr2").write_bytes(b"RAW-STAND-IN " + base.encode())
        rows.append(
            Photo(
                project=project,
                basename=base,
                ext="jpg",
                jpg_available=True,
                raw_available=True,
                keep_jpg=True,
                keep_raw=True,
            )
        )
    return [p.pk for p in Photo.objects.bulk_create(rows, batch_size=1000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _common.create_database(args.db, name="photolib_bench_api")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["Q_BROKER"] = "orm"
    os.environ["PHOTOS_ROOT"] = tempfile.mkdtemp(prefix="photolib-bench-photos-")
    _common.setup_django()
    _common.migrate_quietly()
    warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT, unused here

    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from jobs.runtime import drain
    from photos.models import Photo
    from tests.factories import make_project, make_tenant, make_user

    tenant = make_tenant("bench", "Bench")
    user = make_user(tenant, "bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    sizes = [int(s) for s in args.sizes.split(",")]

    def post(path: str, body: dict, expect: int):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            response = client.post(path, body, format="json")
            if response.status_code != expect:
                raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
            return response.json()

        return call

    rows: list[list[object]] = []
    figures: dict[tuple[str, int], list[tuple[float, int]]] = {}

    def record(op: str, n: int, ms: float, queries: int) -> None:
        figures.setdefault((op, n), []).append((ms, queries))

    # Warm up every endpoint once (URL resolver, imports, first connection), untimed.
    warm = make_project(tenant, "Warm-up")
    warm_ids = populate(warm, 1, prefix="W")
    post("/api/photos/keep", {"items": [{"photo_id": warm_ids[0], "keep_jpg": False}]}, 200)()
    post("/api/photos/tags/add", {"items": [{"photo_id": warm_ids[0], "tags": ["w"]}]}, 200)()
    post("/api/photos/tags/remove", {"items": [{"photo_id": warm_ids[0], "tags": ["w"]}]}, 200)()
    drain(task_id=post("/api/photos/commit-changes", {"projects": [warm.pk]}, 202)()["task_id"])

    for n in sizes:
        project = make_project(tenant, f"Bulk {n}")
        ids = populate(project, n, prefix="B")
        for round_no in range(args.rounds):
            flag = round_no % 2 == 1  # False, True, False…: every call changes every photo
            items = [{"photo_id": pid, "keep_jpg": flag} for pid in ids]
            ms, q, reply = measure(post("/api/photos/keep", {"items": items}, 200))
            if reply["updated"] != n:
                raise RuntimeError(f"keep updated {reply['updated']} of {n}")
            record("POST /api/photos/keep", n, ms, q)
            tag = f"bench-{round_no}"
            items = [{"photo_id": pid, "tags": [tag]} for pid in ids]
            ms, q, reply = measure(post("/api/photos/tags/add", {"items": items}, 200))
            if reply["updated"] != n:
                raise RuntimeError(f"tags/add updated {reply['updated']} of {n}")
            record("POST /api/photos/tags/add", n, ms, q)
            ms, q, reply = measure(post("/api/photos/tags/remove", {"items": items}, 200))
            if reply["updated"] != n:
                raise RuntimeError(f"tags/remove updated {reply['updated']} of {n}")
            record("POST /api/photos/tags/remove", n, ms, q)

        for round_no in range(args.rounds):
            target = make_project(tenant, f"Commit {n} r{round_no}")
            ids = populate(target, n, prefix="C")
            Photo.objects.filter(pk__in=ids).update(keep_raw=False)
            ms, q, reply = measure(
                post("/api/photos/commit-changes", {"projects": [target.pk]}, 202)
            )
            if reply["total_pending"] != n:
                raise RuntimeError(f"commit saw {reply['total_pending']} pending of {n}")
            record("POST /api/photos/commit-changes (request)", n, ms, q)
            ms, q, _ = measure(lambda task_id=reply["task_id"]: drain(task_id=task_id))
            trash = (
                Path(os.environ["PHOTOS_ROOT"]) / tenant.slug / target.folder / ".trash"
            ).iterdir()
            moved = sum(1 for _ in trash)
            if moved != n or Photo.objects.filter(project=target, raw_available=True).exists():
                raise RuntimeError(f"commit trashed {moved} of {n} RAW files")
            record("commit task run in-process (4 steps, files to .trash)", n, ms, q)

    for (op, n), values in figures.items():
        ms = median([v[0] for v in values])
        queries = sorted({v[1] for v in values})
        rows.append([op, n, ms, ms / n, "/".join(map(str, queries))])
    server = _common.database_description()
    print(f"\nMachine: {machine()}")
    print(f"{server}; median of {args.rounds} rounds; APIClient with token authentication")
    print()
    print(table(["operation", "items", "ms", "ms / item", "SQL queries"], rows))


if __name__ == "__main__":
    main()
