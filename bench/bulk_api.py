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

Folder scans (``--scan-sizes``, ``--folder-files``): the jobs look up each photo's originals
by base name. The first table gives the cost of one lookup in a folder of 500, 2,000 and
20,000 files: ``storage.files_for_basename`` (one ``os.scandir`` of the whole folder per
call) and, where it exists, a job's ``storage.FolderIndex`` (one scan per job, amortised over
a lookup of every base name, plus the per-lookup ``stat``/``lstat`` checks). The second runs
a commit of 2,000 photos (each with a discarded RAW) in a project whose folder holds
``--folder-files`` files, and reports the ``file_removal`` step alone and the whole task.

Per-photo work in batches (``--batched N``, issue 15 item 4): over N photos of one project
(a real JPEG and a RAW stand-in each), the time and SQL statements of a revert
(``POST /api/photos/revert-changes``, N photos with a discarded RAW), of the ``image_move_files``
step of a move of the N photos to another project, and of the ``generate_derivatives`` step of
``POST /api/photos/process`` (thumbnail and preview of each small JPEG: mostly bookkeeping).
Each step runs alone (``drain(max_jobs=1)``), its statements counted on this thread.

    .venv/bin/python bench/bulk_api.py [--sizes 1,2000] [--rounds 3] [--db sqlite]
        [--scan-sizes 500,2000,20000] [--folder-files 20000] [--batched 2000]
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


def scan_costs(sizes: list[int], *, lookups: int = 200) -> list[list[object]]:
    """Per-lookup cost of a base name's originals in folders of ``sizes`` files (JPG + RAW)."""
    rows: list[list[object]] = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="photolib-bench-scan-") as tmp:
            rows += _scan_cost(Path(tmp), n, lookups=lookups)
    return rows


def _scan_cost(folder: Path, n: int, *, lookups: int) -> list[list[object]]:
    from photos import storage

    bases = [f"S{i:06d}" for i in range(n // 2)]
    for base in bases:
        (folder / f"{base}.jpg").write_bytes(b"J")
        (folder / f"{base}.cr2").write_bytes(b"R")
    sample = bases[:: max(1, len(bases) // lookups)][:lookups]
    start = time.perf_counter()
    for base in sample:
        if len(storage.files_for_basename(folder, base).all) != 2:
            raise RuntimeError(f"files_for_basename missed {base}")
    per_call = (time.perf_counter() - start) * 1000 / len(sample)
    rows: list[list[object]] = [["files_for_basename (a scan per call)", n, per_call]]
    index_class = getattr(storage, "FolderIndex", None)
    if index_class is not None:
        start = time.perf_counter()
        index = index_class()
        for base in bases:
            if len(index.files(folder, base).all) != 2:
                raise RuntimeError(f"FolderIndex missed {base}")
        per_lookup = (time.perf_counter() - start) * 1000 / len(bases)
        rows.append([f"FolderIndex (one scan, {len(bases)} lookups)", n, per_lookup])
    return rows


def big_folder_commit(tenant, user_client_post, total_files: int, n: int = 2000):  # type: ignore[no-untyped-def]
    """A commit of ``n`` photos in a folder of ``total_files`` files; (step ms, task ms)."""
    from jobs.models import Job
    from jobs.runtime import drain
    from photos.models import Photo
    from tests.factories import make_project

    project = make_project(tenant, f"Big folder {total_files}")
    ids = populate(project, max(n, total_files // 2), prefix="F")
    Photo.objects.filter(pk__in=ids[:n]).update(keep_raw=False)
    reply = user_client_post("/api/photos/commit-changes", {"projects": [project.pk]}, 202)()
    if reply["total_pending"] != n:
        raise RuntimeError(f"commit saw {reply['total_pending']} pending of {n}")
    start = time.perf_counter()
    drain(task_id=reply["task_id"])
    task_ms = (time.perf_counter() - start) * 1000
    job = Job.objects.get(task_id=reply["task_id"], type="file_removal")
    if job.status != "completed" or job.started_at is None or job.finished_at is None:
        raise RuntimeError(f"file_removal ended {job.status}")
    step_ms = (job.finished_at - job.started_at).total_seconds() * 1000
    left = Photo.objects.filter(project=project, raw_available=False).count()
    if left != n:
        raise RuntimeError(f"commit trashed the RAW of {left} of {n} photos")
    return step_ms, task_ms


def batched_steps(tenant, post, n: int) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Revert, move and derivatives of ``n`` photos: (operation, ms, ms/photo, statements)."""
    from jobs.models import Job
    from jobs.runtime import drain
    from photos.models import Photo
    from tests.factories import make_project

    source = make_project(tenant, f"Batched {n}")
    dest = make_project(tenant, f"Batched {n} destination")
    ids = populate(source, n, prefix="M")
    Photo.objects.filter(pk__in=ids).update(keep_raw=False)
    rows: list[list[object]] = []

    ms, q, reply = measure(post("/api/photos/revert-changes", {"projects": [source.pk]}, 200))
    if reply["projects"][0]["updated"] != n:
        raise RuntimeError(f"revert updated {reply['projects'][0]['updated']} of {n}")
    rows.append(["POST /api/photos/revert-changes", n, ms, ms / n, q])

    items = [{"photo_id": pk} for pk in ids]
    reply = post("/api/photos/move", {"items": items, "dest_project": dest.pk}, 202)()
    ms, q, ran = measure(lambda: drain(max_jobs=1))
    job = Job.objects.get(task_id=reply["task_id"], type="image_move_files")
    if ran != 1 or job.status != "completed" or Photo.objects.filter(project=dest).count() != n:
        raise RuntimeError(f"image_move_files ended {job.status}")
    rows.append(["image_move_files step (move to another project)", n, ms, ms / n, q])
    drain()  # the move task's other steps, untimed

    reply = post("/api/photos/process", {"items": items, "force": True}, 202)()
    ms, q, ran = measure(lambda: drain(max_jobs=1))
    job = Job.objects.get(task_id=reply["task_id"], type="generate_derivatives")
    made = Photo.objects.filter(project=dest, preview_status="generated").count()
    if ran != 1 or job.status != "completed" or made != n:
        raise RuntimeError(f"generate_derivatives ended {job.status} with {made} of {n}")
    rows.append(["generate_derivatives step (thumbnail + preview)", n, ms, ms / n, q])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scan-sizes", default="500,2000,20000", help="'' to skip")
    parser.add_argument("--folder-files", type=int, default=20000, help="0 to skip")
    parser.add_argument("--batched", type=int, default=2000, help="photos; 0 to skip")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _common.create_database(
        args.db, name=os.environ.get("BENCH_PG_DB", "photolib_bench_api")
    )
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

    if args.scan_sizes:
        print()
        print("Originals of one base name: ms per lookup")
        print()
        sizes = [int(s) for s in args.scan_sizes.split(",")]
        print(table(["lookup", "files in the folder", "ms / lookup"], scan_costs(sizes)))
    if args.batched:
        print()
        print(f"Per-photo work of {args.batched} photos in batches (one run)")
        print()
        headers = ["operation", "photos", "ms", "ms / photo", "SQL statements"]
        print(table(headers, batched_steps(tenant, post, args.batched)))
    if args.folder_files:
        step_ms, task_ms = big_folder_commit(tenant, post, args.folder_files)
        print()
        print(f"Commit of 2000 photos in a folder of {args.folder_files} files (one run)")
        print()
        print(
            table(
                ["part", "ms", "ms / photo"],
                [
                    ["file_removal step", step_ms, step_ms / 2000],
                    ["commit task run (4 steps)", task_ms, task_ms / 2000],
                ],
            )
        )


if __name__ == "__main__":
    main()
