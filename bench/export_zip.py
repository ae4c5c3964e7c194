"""ZIP export throughput of originals (SPEC §18) against reading the same files with ``cat``.

An originals export reads every file once and writes it, stored (no compression), into one ZIP
under ``EXPORTS_ROOT``; the floor is what the disk and the page cache allow. This measures:

- ``cat > /dev/null``: reading the files (the read floor);
- ``cat > file``: reading and writing them to one file on the same disk (the copy floor);
- the export: ``export_start`` + the ``export_files`` job run in this process (``drain``), from
  the request to the finished ZIP (database work and item statuses included).

The files are JPG + RAW pairs of random bytes (content does not matter to a stored ZIP), warm in
the page cache (each timing runs after a warm-up read). Each figure is the median of
``--repeat`` runs; MB is 10^6 bytes.

    .venv/bin/python bench/export_zip.py [--photos 12] [--jpg-mb 8] [--raw-mb 24] [--repeat 3]

Without DATABASE_URL a throw-away SQLite file is used; everything lives in a temporary folder
that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import setup_workdir


def shoot(photos: int, jpg_mb: int, raw_mb: int) -> tuple[object, list[int], list[Path]]:
    from django.contrib.auth import get_user_model

    from photos import storage
    from photos.models import Photo
    from projects.models import Membership, Project, Tenant

    tenant = Tenant.objects.create(slug=f"bench-{os.getpid()}", name="Export benchmark")
    user = get_user_model().objects.create_user(username=f"bench-{os.getpid()}")
    Membership.objects.create(user=user, tenant=tenant, role="editor")
    project = Project.objects.create(tenant=tenant, name="Shoot", folder="Shoot")
    folder = storage.project_dir(project)
    folder.mkdir(parents=True)
    ids, files = [], []
    block = os.urandom(1024 * 1024)
    for n in range(photos):
        base = f"IMG_{n:04d}"
        for ext, mb in (("jpg", jpg_mb), ("cr2", raw_mb)):
            path = folder / f"{base}.{ext}"
            with path.open("wb") as fh:
                for _ in range(mb):
                    fh.write(block)
            files.append(path)
        photo = Photo.objects.create(
            project=project, basename=base, ext="jpg", jpg_available=True, raw_available=True
        )
        ids.append(photo.pk)
    return user, ids, files


def cat(files: list[Path], target: str) -> float:
    with open(target, "wb") as out:
        start = time.perf_counter()
        subprocess.run(["cat", *map(str, files)], stdout=out, check=True)
        out.flush()
        elapsed = time.perf_counter() - start
    return elapsed


def export(user: object, ids: list[int]) -> tuple[float, int]:
    from jobs.runtime import drain
    from sharing import exportfiles
    from sharing.exports import export_start
    from sharing.models import Export

    start = time.perf_counter()
    started = export_start(user=user, kind="originals", items=[{"photo_id": i} for i in ids])
    drain()
    elapsed = time.perf_counter() - start
    done = Export.objects.get(pk=started.export.pk)
    assert done.status == Export.Status.COMPLETED, done.error
    size = done.size or 0
    exportfiles.export_files_delete(done.tenant.slug, done.pk)
    return elapsed, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--jpg-mb", type=int, default=8)
    parser.add_argument("--raw-mb", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        setup_workdir(workdir, EXPORTS_ROOT=str(workdir / "exports"))
        user, ids, files = shoot(args.photos, args.jpg_mb, args.raw_mb)
        total = sum(p.stat().st_size for p in files)
        cat(files, os.devnull)  # warm the page cache
        copy = workdir / "exports" / "cat-copy.bin"
        copy.parent.mkdir(parents=True, exist_ok=True)
        read_s, copy_s, zip_s = [], [], []
        zip_size = 0
        for _ in range(args.repeat):
            read_s.append(cat(files, os.devnull))
            copy_s.append(cat(files, str(copy)))
            copy.unlink()
            seconds, zip_size = export(user, ids)
            zip_s.append(seconds)

        def rate(seconds: list[float]) -> float:
            return total / 1e6 / statistics.median(seconds)

        print(f"{args.photos} JPG+RAW pairs, {len(files)} files, {total / 1e6:.0f} MB")
        print(f"ZIP {zip_size / 1e6:.0f} MB ({zip_size - total} bytes of ZIP headers)")
        print(f"cat > /dev/null : {rate(read_s):8.0f} MB/s  (median of {args.repeat})")
        print(f"cat > file      : {rate(copy_s):8.0f} MB/s")
        print(f"export (ZIP)    : {rate(zip_s):8.0f} MB/s")
        print(f"export / cat > /dev/null : {rate(zip_s) / rate(read_s):.2f}")
        print(f"export / cat > file      : {rate(zip_s) / rate(copy_s):.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
