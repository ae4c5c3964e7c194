"""Peak memory of ``manifest_check`` on a project of 5,000 vs 50,000 photos (SPEC §6).

manifest_check scans the folder once into a compact map and streams rows in keyset-paginated
chunks of ``PIPELINE_MANIFEST_CHUNK`` (2,000), so its peak should grow only by the folder map
(a few bytes per base name), not by the rows. Target: the 50,000-photo peak within 20 MB of
the 5,000-photo peak.

For each size: a fresh project with N rows (JPG available) and N empty ``.jpg`` stub files in a
temporary PHOTOS_ROOT, of which 1% are deleted so the run also writes availability updates and
their events; then ``tracemalloc`` measures the Python allocations of one ``manifest_check``
call. A small warm-up run first keeps one-time imports and caches out of the figures.

    .venv/bin/python bench/manifest_memory.py [--sizes 5000 50000] [--target-mb 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/photolib_bench .venv/bin/python bench/manifest_memory.py

Without DATABASE_URL a throw-away SQLite file is used. Rows and files are removed afterwards.
Prints figures; exits 1 when the difference is above the target. Not a timed test.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import setup_workdir, stub_photos


def make_project(n: int, *, label: str):  # type: ignore[no-untyped-def]
    from photos import storage
    from photos.models import Photo
    from projects.models import Project, Tenant

    tenant, _ = Tenant.objects.get_or_create(
        slug=f"bench-{os.getpid()}", defaults={"name": "Manifest memory benchmark"}
    )
    project = Project.objects.create(tenant=tenant, name=label, folder=label)
    folder = storage.project_dir(project)
    folder.mkdir(parents=True)
    batch = 5000
    for start in range(0, n, batch):
        names = [f"IMG_{i:07d}" for i in range(start, min(n, start + batch))]
        stub_photos(project, names)
        for index, name in enumerate(names, start):
            if index % 100 != 99:  # 1% of the photos lost their file.
                (folder / f"{name}.jpg").touch()
    Photo.objects.filter(project=project).update(updated_at="2000-01-01T00:00:00Z")
    return project


def drop(project) -> None:  # type: ignore[no-untyped-def]
    from photos.models import Photo

    while ids := list(Photo.objects.filter(project=project).values_list("pk", flat=True)[:5000]):
        Photo.objects.filter(pk__in=ids).delete()
    project.delete()


def measure(n: int) -> dict[str, float]:
    from photos.reconcile.availability import manifest_check

    project = make_project(n, label=f"bench-{n}")
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    report = manifest_check(project=project)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    changes = report.counts["update_availability"]
    drop(project)
    return {"n": n, "peak_mb": peak / 2**20, "seconds": seconds, "changes": changes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[5000, 50000])
    parser.add_argument("--target-mb", type=float, default=20.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="manifest-memory-"))
    try:
        setup_workdir(workdir)
        from django.conf import settings
        from django.db import connection

        measure(200)  # Warm-up: imports, query compilation, connection.
        small, large = (measure(n) for n in args.sizes)
        difference = large["peak_mb"] - small["peak_mb"]
        print(
            f"manifest_check peak memory (tracemalloc), {connection.vendor}, "
            f"chunk {settings.PIPELINE_MANIFEST_CHUNK}"
        )
        print(f"{'photos':>8} {'peak MB':>9} {'seconds':>8} {'updated':>8}")
        for row in (small, large):
            print(
                f"{row['n']:>8} {row['peak_mb']:>9.2f} {row['seconds']:>8.2f} {row['changes']:>8}"
            )
        verdict = "within" if difference <= args.target_mb else "ABOVE"
        print(f"difference: {difference:.2f} MB ({verdict} the {args.target_mb:g} MB target)")
        return 0 if difference <= args.target_mb else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
