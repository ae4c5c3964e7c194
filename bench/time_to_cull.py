"""Time to cull: seconds until the last thumbnail, and the last preview, of an upload exist.

**Ours**: the product as ``bin/run`` starts it (the embedded default: ``migrate`` then
``manage.py serve`` on SQLite with the ORM broker, one worker per lane), a tenant user made
with ``manage.py tenant_user``, a project made through the API, then ``-n`` 24-megapixel
JPEGs uploaded through ``POST /api/projects/{id}/upload`` in requests of ``--batch`` files,
one after another, as a browser would. Each request starts its ``upload_postprocess`` task:
thumbnails (priority lane), reconciliation, then previews (default lane). The time of a
photo's thumbnail (and preview) is the ``created_at`` of the ``item`` event that announced its
status ``generated``; times count from the start of the first upload request, so ours also
pays for the upload itself.

**The original system's order**: sharp (libvips) through node over the same files on the same
cores, each photo in turn, its thumbnail then its preview, WebP effort 4 (sharp's default),
libvips' default thread pool; times count from its start (the files are already on disk:
it pays for no upload).

Sources: the three 6000×4000 JPEGs of ``bench/derivatives.py`` (``var/bench/derivatives``),
uploaded under ``-n`` distinct names. Needs ``npm install --no-audit --no-fund`` in ``bench/``.

    .venv/bin/python bench/time_to_cull.py [-n 300] [--batch 25] [--port 8200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    ROOT,
    api_session,
    http_wait,
    machine,
    manage,
    product_env,
    product_serve,
    table,
    upload_photos,
    wait_until,
)
from bench.derivatives import BENCH_DIR, sources


def upload_env(tmp: Path) -> dict[str, str]:
    """``bin/run``'s environment with a private database and photo root."""
    return product_env(
        tmp,
        secret_key="bench-time-to-cull-secret-key-not-for-production",
        # Uploads of a shoot are many requests: keep the per-user throttle out of the timing.
        THROTTLE_BULK="100000/min",
        THROTTLE_PROJECT_WRITE="1000/min",
    )


def run_ours(files: list[Path], *, n: int, batch: int, port: int, tmp: Path) -> dict:
    env = upload_env(tmp)
    manage(env, "migrate", "--noinput")
    http = api_session(env, "bench", "ana")
    serve = product_serve(env, port=port, log_path=tmp / "serve.log")
    api = f"http://127.0.0.1:{port}/api"
    try:
        http_wait(f"{api}/projects/", http=http)
        project = http.post(f"{api}/projects/", json={"name": "Shoot"}, timeout=30).json()
        started = time.time()
        upload_photos(http, api, project["id"], files, n, batch=batch)
        uploaded = time.time() - started
        return {"started": started, "uploaded": uploaded, **_wait_for_derivatives(tmp, n)}
    finally:
        serve.stop(timeout=30)


def _wait_for_derivatives(tmp: Path, n: int) -> dict:
    """Poll the database (read-only) until every photo has both derivatives, raising if the
    server exits first; event times."""
    import sqlite3

    def announced(field: str) -> list[float]:
        rows = db.execute(
            "SELECT created_at FROM jobs_event WHERE type = 'item' AND "
            f"json_extract(payload, '$.changes.{field}') = 'generated'"
        ).fetchall()
        return sorted(datetime.fromisoformat(r[0].replace(" ", "T")).timestamp() for r in rows)

    def previews_done() -> bool:
        query = "SELECT COUNT(*) FROM photos_photo WHERE preview_status = 'generated'"
        return db.execute(query).fetchone()[0] >= n

    db = sqlite3.connect(f"file:{tmp / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
    wait_until(previews_done, timeout=3 * 3600, what=f"{n} previews", interval=1)
    thumbs, previews = announced("thumbnail_status"), announced("preview_status")
    db.close()
    return {"thumbs": thumbs, "previews": previews}


def run_sharp(files: list[Path], *, n: int, effort: int, tmp: Path) -> dict:
    out = tmp / "sharp"
    out.mkdir()
    spec = {
        "files": [str(files[i % len(files)]) for i in range(n)],
        "out": str(out),
        "effort": effort,
    }
    done = subprocess.run(
        ["node", str(BENCH_DIR / "sharp_cull.mjs"), json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="photos in the upload")
    parser.add_argument("--batch", type=int, default=25, help="files per upload request")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--effort", type=int, default=4, help="sharp's WebP effort")
    parser.add_argument("--skip-sharp", action="store_true")
    parser.add_argument(
        "--sharp-photos",
        type=int,
        default=0,
        help="time the original order on this many photos only and extrapolate to -n "
        "(its time per photo is constant: one photo after the other); 0: all",
    )
    args = parser.parse_args()

    files = sources(3)
    tmp = Path(tempfile.mkdtemp(prefix="photolib-cull-"))
    try:
        ours = run_ours(files, n=args.n, batch=args.batch, port=args.port, tmp=tmp)
        t0 = ours["started"]
        ours_thumb = ours["thumbs"][-1] - t0
        ours_preview = ours["previews"][-1] - t0
        first_thumb = ours["thumbs"][0] - t0
        sharp_n = min(args.sharp_photos or args.n, args.n)
        sharp = (
            None if args.skip_sharp else run_sharp(files, n=sharp_n, effort=args.effort, tmp=tmp)
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{machine()}; {args.n} photos, {os.cpu_count()} cores\n")
    rows = [
        (
            "ours (serve, SQLite; from the first upload request)",
            f"{ours['uploaded']:.1f}",
            f"{first_thumb:.1f}",
            f"{ours_thumb:.1f}",
            f"{ours_preview:.1f}",
        )
    ]
    if sharp is not None:
        s_thumb, s_preview = sharp["thumb_ms"][-1] / 1000, sharp["preview_ms"][-1] / 1000
        label = f"original order: sharp, thumbnail then preview per photo, effort {args.effort}"
        done = len(sharp["preview_ms"])
        if done < args.n:
            # Photo after photo: extrapolate with the mean time per photo after the first 5.
            skip = min(5, done - 1)
            per_photo = (sharp["preview_ms"][-1] - sharp["preview_ms"][skip - 1]) / (done - skip)
            s_thumb += (args.n - done) * per_photo / 1000
            s_preview += (args.n - done) * per_photo / 1000
            label += f" (timed on {done} photos, {per_photo / 1000:.1f} s each, extrapolated)"
        rows.append(
            (
                label,
                "—",
                f"{sharp['thumb_ms'][0] / 1000:.1f}",
                f"{s_thumb:.1f}",
                f"{s_preview:.1f}",
            )
        )
        rows.append(
            (
                "**ours / original**",
                "",
                "",
                f"**{ours_thumb / s_thumb:.3f}×**",
                f"**{ours_preview / s_preview:.2f}×**",
            )
        )
    print(table(["", "upload s", "first thumbnail s", "last thumbnail s", "last preview s"], rows))


if __name__ == "__main__":
    main()
