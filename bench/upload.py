"""Upload throughput on loopback: 20 × 24 MP JPEGs per request, one request and 25 at once.

    .venv/bin/python bench/upload.py                      # this checkout's code
    .venv/bin/python bench/upload.py --code ../main-copy  # another checkout's code (before)
    .venv/bin/python bench/upload.py --files 20 --concurrency 25 --rounds 2
    .venv/bin/python bench/upload.py --mode both          # multipart and resumable (tus)

``--mode tus`` sends the same files as resumable uploads (``/api/uploads/``, tus 1.0): per
client, one file after another, each a creation ``POST`` then ``PATCH`` chunks of
``--chunk-mb`` (8 MiB, the workspace's chunk size), a fresh connection per request as the
multipart driver uses; ``both`` runs the multipart scenarios, then the resumable ones.

One uvicorn process serves ``config.asgi:application`` of ``--code`` (``bench.settings``:
production settings, throttles off) on PostgreSQL (``BENCH_PG_URL``, database
``BENCH_PG_DB``, default ``photolib_bench_upload``, dropped and created) with its own
``PHOTOS_ROOT`` and ``TMPDIR`` under ``var/bench/upload/``. The driver (this process, one
asyncio loop) sends ``POST /api/projects/{id}/upload`` with a multipart body of ``--files``
JPEGs of 6000 × 4000 pixels (Pillow, quality 90, about 8–9 MB each: a noisy gradient, so it
compresses like a photo), each request into a fresh project, and waits for every 201.

Measured per scenario: wall time from the first byte sent to the last reply, and the body
bytes sent per second (MB/s, 10^6 bytes), over ``--rounds`` rounds (the best and the
median round). Also the peak of the server's ``TMPDIR`` (its size polled every 50 ms): what
the server spooled besides the project folders. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PG_BASE_URL, ROOT, VAR, machine, table, uvicorn

WORK = VAR / "upload"
BOUNDARY = "bench-upload-boundary-7d1f"
TOKEN = "bench0upload0token00000000000000000000000"[:40]


def jpegs(count: int) -> list[bytes]:
    """``count`` distinct 24 MP JPEGs, made once and kept under ``var/bench/upload/jpegs``."""
    from PIL import Image, ImageChops

    folder = WORK / "jpegs"
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob("*.jpg"))
    if len(found) >= min(count, 4):
        data = [p.read_bytes() for p in found]
    else:
        data = []
        for seed in range(4):
            noise = Image.effect_noise((6000, 4000), 24 + seed * 4).convert("RGB")
            gradient = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
            tint = Image.new("RGB", (6000, 4000), (40 * seed % 256, 90, 150))
            image = ImageChops.add(ImageChops.multiply(gradient, tint), noise, scale=1.6)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90)
            (folder / f"base{seed}.jpg").write_bytes(out.getvalue())
            data.append(out.getvalue())
    # Distinct bytes per file (a JPEG comment after the header), as different photos are.
    return [
        data[i % len(data)][:2] + _comment(f"bench photo {i}") + data[i % len(data)][2:]
        for i in range(count)
    ]


def _comment(text: str) -> bytes:
    payload = text.encode()
    return b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload


def multipart(files: list[bytes], prefix: str) -> list[bytes]:
    """The multipart body's pieces (the JPEGs themselves not copied): names are unique in the
    tenant (``<prefix>_IMG_0001.jpg``), as a base name belongs to one project."""
    pieces = []
    for n, data in enumerate(files, 1):
        pieces.append(
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{prefix}_IMG_{n:04d}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
        )
        pieces.append(data)
        pieces.append(b"\r\n")
    pieces.append(f"--{BOUNDARY}--\r\n".encode())
    return pieces


def database_create(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG_BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE_URL}/{name}"


def setup(db_url: str, photos_root: Path) -> None:
    """Migrate, and make the tenant ``bench-upload`` with an owner whose token is ``TOKEN``."""
    os.environ.update(
        DATABASE_URL=db_url,
        PHOTOS_ROOT=str(photos_root),
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django_q.models import Schedule
    from rest_framework.authtoken.models import Token

    from projects.services import tenant_user_ensure

    call_command("migrate", verbosity=0)
    Schedule.objects.all().delete()
    made = tenant_user_ensure(slug="bench-upload", username="bench")
    Token.objects.filter(user=made.user).delete()
    Token.objects.create(user=made.user, key=TOKEN)


def projects_make(count: int, label: str) -> list[int]:
    from photos.services.projects import project_create
    from projects.models import Tenant

    tenant = Tenant.objects.get(slug="bench-upload")
    return [project_create(tenant=tenant, name=f"{label} {n}").pk for n in range(count)]


def server(code: Path, port: int, db_url: str, photos_root: Path, tmp: Path, log: Path):  # type: ignore[no-untyped-def]
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=db_url,
        PHOTOS_ROOT=str(photos_root),
        TMPDIR=str(tmp),
        PYTHONUNBUFFERED="1",
    )
    return uvicorn(port, env, log, cwd=code)


def wait_http(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


async def upload(port: int, project_id: int, files: list[bytes]) -> int:
    """One upload into the project; the body's size."""
    pieces = multipart(files, f"P{project_id}")
    length = sum(len(p) for p in pieces)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST /api/projects/{project_id}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    for piece in pieces:
        view = memoryview(piece)
        for start in range(0, len(piece), 1 << 20):
            writer.write(view[start : start + (1 << 20)])
            await writer.drain()
    reply = await reader.read()
    writer.close()
    if not reply.startswith(b"HTTP/1.1 201"):
        raise RuntimeError(f"upload refused: {reply[:600]!r}")
    return length


class TempWatch:
    """The peak total size of the files under ``folder``, polled every 50 ms in a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for dirpath, _, names in os.walk(self.folder):
                for name in names:
                    try:
                        total += os.lstat(os.path.join(dirpath, name)).st_size
                    except OSError:
                        pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)

    def __enter__(self) -> TempWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | memoryview = b""
) -> tuple[int, dict[str, str]]:
    """One HTTP/1.1 request on a fresh connection: its status and headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    for start in range(0, len(body), 1 << 20):
        writer.write(body[start : start + (1 << 20)])
        await writer.drain()
    reply = await reader.read()
    writer.close()
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    found = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
    return int(head[0].split()[1]), found


async def upload_resumable(port: int, project_id: int, files: list[bytes], chunk: int) -> int:
    """The same files as resumable (tus) uploads, one after another; the bytes sent."""
    import base64

    auth = {"Authorization": f"Token {TOKEN}", "Tus-Resumable": "1.0.0"}
    sent = 0
    for n, data in enumerate(files, 1):
        name = base64.b64encode(f"P{project_id}_IMG_{n:04d}.jpg".encode()).decode()
        project = base64.b64encode(str(project_id).encode()).decode()
        code, headers = await _request(
            port,
            "POST",
            "/api/uploads/",
            {
                **auth,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": f"project {project},filename {name}",
            },
        )
        if code != 201:
            raise RuntimeError(f"creation refused: {code}")
        location, view = headers["location"], memoryview(data)
        for offset in range(0, len(data), chunk):
            piece = view[offset : offset + chunk]
            code, _ = await _request(
                port,
                "PATCH",
                location,
                {
                    **auth,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                piece,
            )
            if code != 204:
                raise RuntimeError(f"chunk refused: {code}")
        sent += len(data)
    return sent


async def scenario(
    port: int,
    project_ids: list[int],
    files: list[bytes],
    *,
    mode: str = "multipart",
    chunk: int = 0,
) -> float:
    started = time.perf_counter()
    if mode == "tus":
        await asyncio.gather(*(upload_resumable(port, pid, files, chunk) for pid in project_ids))
    else:
        await asyncio.gather(*(upload(port, pid, files) for pid in project_ids))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose server runs")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", default=os.environ.get("BENCH_PG_DB", "photolib_bench_upload"))
    parser.add_argument("--mode", choices=("multipart", "tus", "both"), default="multipart")
    parser.add_argument("--chunk-mb", type=int, default=8, help="tus chunk size in MiB")
    args = parser.parse_args()

    files = jpegs(args.files)
    body_bytes = sum(len(p) for p in multipart(files, "P1"))
    photos_root, tmp = WORK / "photos", WORK / "tmp"
    for folder in (photos_root, tmp):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    db_url = database_create(args.db)
    setup(db_url, photos_root)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = WORK / "uvicorn.log"
    proc = server(args.code.resolve(), port, db_url, photos_root, tmp, log)
    results = []
    try:
        wait_http(port, proc, log)
        commit = subprocess.run(
            ["git", "-C", str(args.code), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"machine: {machine()}")
        print(f"code: {args.code.resolve()} at {commit}; body {body_bytes / 1e6:.1f} MB")
        modes = ("multipart", "tus") if args.mode == "both" else (args.mode,)
        for mode, label, requests in (
            (each, label, requests)
            for each in modes
            for label, requests in (
                (f"{each}: 1 client", 1),
                (f"{each}: {args.concurrency} at once", args.concurrency),
            )
        ):
            times, peaks = [], []
            for round_ in range(args.rounds):
                ids = projects_make(requests, f"{label} r{round_}")
                with TempWatch(tmp) as watch:
                    run = scenario(port, ids, files, mode=mode, chunk=args.chunk_mb << 20)
                    times.append(asyncio.run(run))
                peaks.append(watch.peak)
                # Free the disk between rounds: the uploaded files are not measured.
                for child in photos_root.glob("bench-upload/*"):
                    shutil.rmtree(child, ignore_errors=True)
            sent = (body_bytes if mode == "multipart" else sum(map(len, files))) * requests
            results.append(
                (
                    label,
                    f"{args.files} × {body_bytes / args.files / 1e6:.1f} MB",
                    f"{sent / 1e6:.0f}",
                    min(times),
                    statistics.median(times),
                    sent / 1e6 / min(times),
                    sent / 1e6 / statistics.median(times),
                    f"{max(peaks) / 1e6:.0f}",
                )
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            table(
                [
                    "scenario",
                    "files per request",
                    "MB sent",
                    "best s",
                    "median s",
                    "best MB/s",
                    "median MB/s",
                    "peak TMPDIR MB",
                ],
                results,
            )
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(photos_root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
