"""A large library to measure on: one tenant with 1,000,000 photo rows in 500 projects.

    .venv/bin/python bench/library.py                 # build, or reuse when it is there
    .venv/bin/python bench/library.py --rebuild       # drop the database and build again
    .venv/bin/python bench/library.py --photos 20000 --projects 20 --db photolib_bench_small

Other benchmarks (``bench/browse.py``) call ``library_ensure()``. The database is
``photolib_bench_library`` on ``BENCH_PG_URL`` (never the app's own), the photo folders are in
``var/bench/library/photos``.

What is built:

- Tenant ``bench-library`` with a user ``bench`` (token ``BENCH_TOKEN``) and ``--projects``
  projects made by ``project_create`` (folder and manifest on disk, like any project).
- The first ``--sample-projects`` projects are **sample projects**: every row's file is a
  real JPEG (320×213, with its EXIF capture time; a RAW stand-in where the row has one).
- The other projects are **placeholder projects** (names ``Rows NNN``): rows only, bulk
  inserted with ``COPY``; each row's file exists as an empty placeholder (``IMG_00001.jpg``,
  plus ``.cr2`` where the row has a RAW). That is how maintenance treats them consistently
  without a special case: every row's files are on disk, so ``manifest_check`` keeps their
  availability, ``manifest_cleaning`` deletes nothing and no project is orphaned or archived;
  only a derivative step could touch them (an empty file is not an image: it would mark the
  photo ``failed``, never delete it). The library's schedules are removed, so no maintenance
  runs on its own. ``--no-placeholders`` skips the files (then maintenance would reconcile the
  rows away: run nothing but the benchmarks on such a library).
- Values spread like a studio's library: capture times per shoot (2 % missing), 40 % with a
  RAW, about 4 % pending delete, ratings (70 % unrated), labels (15 %), 5 % public,
  derivative statuses (90 % generated), five tags per project on about 10 % of the photos.

Reuse: a finished build leaves the tenant's name ``bench library N photos in P projects,
complete``; a run that finds it (and the photo count) reuses the library and only migrates.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PG_BASE_URL, VAR, setup_django

DEFAULT_DB = "photolib_bench_library"
TENANT_SLUG = "bench-library"
BENCH_USER = "bench"
BENCH_TOKEN = "bench0library0token0000000000000000000000"[:40]
TAGS = ("select", "client", "print", "album", "bw")
LABELS = ("red", "yellow", "green", "blue", "purple")
CAMERAS = ("Canon EOS R5", "Nikon Z 8", "Sony ILCE-7RM5", "FUJIFILM X-T5")
STATUSES = ["generated"] * 90 + ["pending"] * 5 + ["failed"] * 3 + ["missing"] * 2


def library_root() -> Path:
    return VAR / "library" / "photos"


def configure(db: str) -> None:
    """Point Django at the library's database and photo root, then set it up."""
    os.environ["DATABASE_URL"] = f"{PG_BASE_URL}/{db}"
    os.environ["PHOTOS_ROOT"] = str(library_root())
    setup_django(DJANGO_SETTINGS_MODULE="bench.settings")


def _database_create(db: str, *, drop: bool) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')


def _marker(photos: int, projects: int) -> str:
    return f"bench library {photos} photos in {projects} projects, complete"


def library_ensure(
    *,
    db: str = DEFAULT_DB,
    photos: int = 1_000_000,
    projects: int = 500,
    sample_projects: int = 5,
    placeholders: bool = True,
    rebuild: bool = False,
    log=print,  # type: ignore[no-untyped-def]
) -> dict[str, float]:
    """Build the library (or find it built) and return timings in seconds by phase."""
    _database_create(db, drop=rebuild)
    configure(db)
    from django.core.management import call_command
    from django_q.models import Schedule

    from projects.models import Tenant

    while True:
        timings: dict[str, float] = {}
        started = time.monotonic()
        call_command("migrate", verbosity=0)
        Schedule.objects.all().delete()
        timings["migrate"] = time.monotonic() - started
        tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
        if tenant is None:
            break
        if tenant.name == _marker(photos, projects):
            log(f"reusing the library in {db} ({photos} photos, {projects} projects)")
            timings["reused"] = 1
            return timings
        log("an unfinished or different library is there: rebuilding")
        # Django's connection to the database must go before the database does; the next
        # pass opens a new one, migrates the empty database and finds no tenant.
        from django.db import connections

        connections.close_all()
        _database_create(db, drop=True)
    return _build(
        photos=photos,
        projects=projects,
        sample_projects=sample_projects,
        placeholders=placeholders,
        timings=timings,
        log=log,
    )


def _build(
    *,
    photos: int,
    projects: int,
    sample_projects: int,
    placeholders: bool,
    timings: dict[str, float],
    log,  # type: ignore[no-untyped-def]
) -> dict[str, float]:
    import shutil

    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from photos.services.projects import project_create
    from projects.models import Membership, Tenant

    root = library_root() / TENANT_SLUG
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = random.Random(20261130)

    phase = time.monotonic()
    tenant = Tenant.objects.create(slug=TENANT_SLUG, name="bench library (building)")
    user = get_user_model().objects.create_user(username=BENCH_USER, password="bench-password")
    Membership.objects.create(user=user, tenant=tenant, role="owner")
    Token.objects.create(user=user, key=BENCH_TOKEN)
    made = [
        project_create(
            tenant=tenant, name=f"Sample {n:03d}" if n < sample_projects else f"Rows {n:03d}"
        )
        for n in range(projects)
    ]
    timings["projects"] = time.monotonic() - phase
    log(f"{projects} projects in {timings['projects']:.1f} s")

    per_project = photos // projects
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM photos_photo")
        first_id = cursor.fetchone()[0] + 1
    now = datetime.now(UTC)
    shoot_start = datetime(2019, 1, 1, 9, tzinfo=UTC)
    rows = []
    files: list[tuple[Path, str, datetime | None, bool, bool]] = []
    taggings: list[tuple[int, int]] = []  # (photo id, tag index within its project)
    photo_id = first_id
    for n, project in enumerate(made):
        shoot = shoot_start + timedelta(days=n * 4, minutes=rng.randrange(600))
        folder = root / project.folder
        for m in range(per_project):
            basename = f"IMG_{m + 1:05d}"
            taken = None if rng.random() < 0.02 else shoot + timedelta(seconds=m * 7)
            raw = rng.random() < 0.4
            keep_jpg = rng.random() >= 0.03
            keep_raw = raw and rng.random() >= 0.02
            rating = 0 if rng.random() < 0.7 else rng.randint(1, 5)
            label = rng.choice(LABELS) if rng.random() < 0.15 else "none"
            visibility = "public" if rng.random() < 0.05 else "private"
            status = rng.choice(STATUSES)
            camera = CAMERAS[n % len(CAMERAS)]
            rows.append(
                (
                    photo_id,
                    project.pk,
                    basename,
                    "jpg",
                    True,
                    raw,
                    False,
                    keep_jpg,
                    keep_raw,
                    status,
                    status,
                    taken,
                    1,
                    6000,
                    4000,
                    camera,
                    "",
                    50.0,
                    2.8,
                    1 / 250,
                    rng.choice((100, 200, 400, 800, 1600, 3200)),
                    "{}",
                    rating,
                    label,
                    visibility,
                    now,
                    now,
                )
            )
            if rng.random() < 0.1:
                taggings.append((photo_id, rng.randrange(len(TAGS))))
            if n < sample_projects or placeholders:
                files.append((folder, basename, taken, raw, n < sample_projects))
            photo_id += 1

    phase = time.monotonic()
    columns = (
        "id, project_id, basename, ext, jpg_available, raw_available, other_available, "
        "keep_jpg, keep_raw, thumbnail_status, preview_status, taken_at, orientation, width, "
        "height, camera, lens, focal_length, aperture, shutter, iso, metadata, rating, label, "
        "visibility, created_at, updated_at"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY photos_photo ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        timings["copy_photos"] = time.monotonic() - phase
        log(f"{len(rows)} photo rows copied in {timings['copy_photos']:.1f} s")

        phase = time.monotonic()
        tag_ids: dict[tuple[int, int], int] = {}
        with cursor.cursor.copy("COPY photos_tag (project_id, name) FROM STDIN") as copy:
            for project in made:
                for name in TAGS:
                    copy.write_row((project.pk, name))
        cursor.execute(
            "SELECT id, project_id, name FROM photos_tag WHERE project_id = ANY(%s)",
            [[p.pk for p in made]],
        )
        for tag_id, project_id, name in cursor.fetchall():
            tag_ids[(project_id, TAGS.index(name))] = tag_id
        project_of = {r[0]: r[1] for r in rows}
        with cursor.cursor.copy("COPY photos_photo_tags (photo_id, tag_id) FROM STDIN") as copy:
            for pid, index in taggings:
                if pid in project_of:
                    copy.write_row((pid, tag_ids[(project_of[pid], index)]))
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('photos_photo', 'id'), "
            "(SELECT max(id) FROM photos_photo))"
        )
        timings["copy_tags"] = time.monotonic() - phase
        log(f"{len(taggings)} taggings in {timings['copy_tags']:.1f} s")

        phase = time.monotonic()
        # Statistics of every table (the 500 new projects too): planned on stale ones, the
        # list's join is planned for one project and takes seconds.
        cursor.execute("VACUUM ANALYZE photos_photo")
        cursor.execute("ANALYZE")
        timings["analyze"] = time.monotonic() - phase

    phase = time.monotonic()
    _files_write(files, rng)
    timings["files"] = time.monotonic() - phase
    log(f"{len(files)} files in {timings['files']:.1f} s")

    Tenant.objects.filter(pk=tenant.pk).update(name=_marker(photos, projects))
    return timings


def _files_write(
    files: list[tuple[Path, str, datetime | None, bool, bool]], rng: random.Random
) -> None:
    """Real small JPEGs (with their capture time) for the samples, empty placeholders else."""
    import io

    from PIL import Image

    made_dirs: set[Path] = set()
    for folder, basename, taken, raw, real in files:
        if folder not in made_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        jpg = folder / f"{basename}.jpg"
        if not real:
            jpg.touch()
            if raw:
                (folder / f"{basename}.cr2").touch()
            continue
        image = Image.new("RGB", (320, 213), tuple(rng.randrange(256) for _ in range(3)))
        exif = Image.Exif()
        if taken is not None:
            exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80, exif=exif.tobytes())
        jpg.write_bytes(buffer.getvalue())
        if raw:
            (folder / f"{basename}.cr2").write_bytes(b"RAW-STAND-IN " + basename.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--sample-projects", type=int, default=5)
    parser.add_argument("--no-placeholders", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    timings = library_ensure(
        db=args.db,
        photos=args.photos,
        projects=args.projects,
        sample_projects=args.sample_projects,
        placeholders=not args.no_placeholders,
        rebuild=args.rebuild,
    )
    total = time.monotonic() - started
    print("| phase | seconds |\n|---|---|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **total** | **{total:.1f}** |")


if __name__ == "__main__":
    main()
