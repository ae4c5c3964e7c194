"""``maintenance_global`` over an unchanged library, then after a change in one folder.

Builds a tenant of ``--projects`` project folders with ``--photos`` rows and empty ``.jpg``
stubs each (thumbnail and preview marked generated, so no follow-up work), runs
``maintenance_global`` once to write the manifests, moves every folder's mtime into the past
(as if the last change was long ago: a folder changed within 2 s always counts as changed),
runs it again (a full check that confirms each project's fingerprint), and then times:

* ``unchanged``: every project skipped (a ``stat`` or two per project, one grouped row query
  per step);
* ``one folder changed``: a file added to one project's folder;
* ``--full``: the same library with every project checked (what every run cost before).

    .venv/bin/python bench/maintenance_unchanged.py [--projects 500] [--photos 200]
    .venv/bin/python bench/maintenance_unchanged.py --db postgres   # BENCH_PG_DB names it
    .venv/bin/python bench/maintenance_unchanged.py --library photolib_bench_library

``--library DB`` runs on ``bench/library.py``'s library instead (1,000,000 photos in 500
projects on PostgreSQL, built first if it is not there; every row's file exists on disk), and
leaves it as it found it: the file the "one folder changed" run adds, and its row, are removed
at the end. Each phase runs the whole task in-process (``drain``), all seven steps; the time
of each step (its jobs' ``started_at`` → ``finished_at``) is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--photos", type=int, default=200, help="per project")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--library", metavar="DB", help="run on bench/library.py's library in this database"
    )
    parser.add_argument("--no-full", action="store_true", help="skip the --full run")
    args = parser.parse_args()

    os.environ["Q_BROKER"] = "orm"
    if args.library:
        from bench.library import TENANT_SLUG, library_ensure

        library_ensure(db=args.library)
    else:
        os.environ["DATABASE_URL"] = _common.create_database(
            args.db, name=os.environ.get("BENCH_PG_DB", "photolib_bench_maint")
        )
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        os.environ["PHOTOS_ROOT"] = tempfile.mkdtemp(prefix="photolib-bench-maint-")
        _common.setup_django()
        _common.migrate_quietly()
    warnings.filterwarnings("ignore", message="No directory at")

    from django.db import connection

    from jobs.models import Job
    from jobs.runtime import drain
    from jobs.tasks import start_task
    from photos import storage
    from photos.models import Photo
    from projects.models import Project, Tenant

    print(f"{_common.machine()}; {_common.database_description()}")
    if args.library:
        tenant = Tenant.objects.get(slug=TENANT_SLUG)
        projects = list(Project.objects.filter(tenant=tenant).order_by("id"))
        print(f"library {args.library}: {len(projects)} projects, {Photo.objects.count()} photos")
    else:
        tenant = Tenant.objects.create(slug="bench", name="Bench")
        projects = _build(args, tenant)

    age = iter(range(100, 100_000))

    def age_all(*chosen: Project) -> None:
        stamp = time.time() - next(age)
        for project in chosen:
            folder = storage.project_dir(project)
            for path in (folder / storage.MANIFEST_NAME, folder):
                if path.exists():
                    os.utime(path, (stamp, stamp))

    def run(label: str, **payload: object) -> float:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        started = start_task("maintenance_global", tenant, payload=payload or None)
        drain(task_id=started["task_id"])
        ms = (time.perf_counter() - start) * 1000
        steps = ", ".join(
            f"{job.type} {(job.finished_at - job.started_at).total_seconds() * 1000:.0f}"
            for job in Job.objects.filter(task_id=started["task_id"]).order_by("id")
            if job.started_at and job.finished_at
        )
        print(f"{label:<40} {ms:>9.0f} ms  (load {load:.1f}; steps ms: {steps})", flush=True)
        return ms

    run("first run (writes the manifests)")
    age_all(*projects)
    run("second run (full check, confirms)")
    unchanged = run("unchanged library")
    changed = projects[len(projects) // 2]
    added = storage.project_dir(changed) / "NEW_0001.jpg"
    added.touch()
    age_all(changed)
    one = run("one folder changed (a file added)")
    if not Photo.objects.filter(project=changed, basename="NEW_0001").exists():
        raise RuntimeError("the added file was not found")
    again = run("unchanged again")
    full = float("nan") if args.no_full else run("--full (every project checked)", full=True)
    if args.library:
        # Leave the library as built: the added stub and its row go (a bench file, never a
        # photographer's).
        added.unlink()
        Photo.objects.filter(project=changed, basename="NEW_0001").delete()
    print()
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}; {connection.vendor}")
    print("| run | ms |")
    print("|---|---|")
    for label, ms in (
        ("unchanged", unchanged),
        ("one folder changed", one),
        ("unchanged again", again),
        ("`--full`", full),
    ):
        print(f"| {label} | {ms:,.0f} |")


def _build(args: argparse.Namespace, tenant) -> list:  # type: ignore[no-untyped-def]
    from photos import storage
    from projects.models import Project

    built = time.perf_counter()
    projects = []
    for p in range(args.projects):
        project = Project.objects.create(tenant=tenant, name=f"P{p:04d}", folder=f"P{p:04d}")
        folder = storage.project_dir(project)
        folder.mkdir(parents=True)
        names = [f"P{p:04d}_{i:06d}" for i in range(args.photos)]
        _common.stub_photos(project, names)
        for name in names:
            (folder / f"{name}.jpg").touch()
        projects.append(project)
    print(
        f"built {args.projects} projects x {args.photos} photos "
        f"({args.projects * args.photos} rows and files) in {time.perf_counter() - built:.0f} s"
    )

    return projects


if __name__ == "__main__":
    main()
