"""500 open event streams against uvicorn: outbox queries while idle, and delivery latency.

    .venv/bin/python bench/event_streams.py                  # 500 streams, both modes
    .venv/bin/python bench/event_streams.py --streams 200 --idle 20 --modes postgres

Per mode (``EVENTS_WAKEUP=postgres``: LISTEN/NOTIFY; ``poll``: each stream reads the outbox
every ``EVENTS_STREAM_POLL_SECONDS``, the only way before), one uvicorn process serves
``--streams`` open ``GET /api/events/stream`` responses of the library's tenant
(``bench/library.py``, on PostgreSQL), read by one asyncio client. Measured:

- **idle reads**: outbox queries the server ran (its DEBUG log has a line per query that
  did not share another stream's) during ``--idle`` seconds with every stream open and
  nothing happening, after the server settled;
- **delivery**: ``--events`` times, one event is written (``event_record``, committed) and the
  time until each stream has received it is taken; p50, p95 and the maximum over every stream
  and event.

Nothing is asserted; the goal (no per-stream queries while idle, every stream within 1 s) is
read off the table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, machine, percentile, table, uvicorn
from bench.library import BENCH_TOKEN, DEFAULT_DB, library_ensure, library_root


def _outbox_reads(log: Path) -> int:
    """Outbox queries the server ran so far: each read that did not join another logs one
    DEBUG line (``jobs.api.stream._read_shared``)."""
    return log.read_text(errors="replace").count("Outbox read of tenant")


class Streams:
    """``count`` open SSE responses read by one event loop; ``seen[id]`` = arrival times."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.open = 0
        self.seen: dict[int, list[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self._one()) for _ in range(self.count)]
        while self.open < self.count:
            await asyncio.sleep(0.1)
            for task in self.tasks:
                if task.done() and task.exception():
                    raise task.exception()  # type: ignore[misc]

    async def _one(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        writer.write(
            (
                "GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Token {BENCH_TOKEN}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        self.open += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"id: "):
                    event_id = int(line[4:].strip())
                    self.seen.setdefault(event_id, []).append(time.perf_counter())
        finally:
            writer.close()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _server(port: int, db_url: str, mode: str, log: Path, streams: int) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=db_url,
        PHOTOS_ROOT=str(library_root()),
        EVENTS_WAKEUP=mode,
        PIPELINE_LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
        # Every stream is the bench token's, in one process: lift both caps (SPEC §14).
        EVENT_STREAMS_PER_USER=str(streams),
        EVENT_STREAMS_PER_PROCESS=str(streams),
    )
    return uvicorn(port, env, log)


def _wait_http(port: int, proc: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/tasks/definitions")
            conn.getresponse().read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start") from None
            time.sleep(0.2)


async def _measure(
    port: int, args: argparse.Namespace, tenant_id: int, log: Path
) -> dict[str, float]:
    from asgiref.sync import sync_to_async

    from jobs.events import event_record

    streams = Streams(port, args.streams)
    opened = time.perf_counter()
    await streams.start()
    open_seconds = time.perf_counter() - opened
    # Let the server settle: every stream's first read done, the listener up.
    settle_deadline = time.monotonic() + 60
    previous = _outbox_reads(log)
    while time.monotonic() < settle_deadline:
        await asyncio.sleep(3)
        current = _outbox_reads(log)
        if current == previous:
            break
        previous = current
    before = _outbox_reads(log)
    await asyncio.sleep(args.idle)
    idle_reads = _outbox_reads(log) - before

    latencies: list[float] = []
    worst = 0.0
    for n in range(args.events):
        sent = time.perf_counter()
        event = await sync_to_async(event_record)(
            tenant_id=tenant_id, type="bench_ping", payload={"n": n}
        )
        deadline = sent + 10
        while len(streams.seen.get(event.pk, [])) < args.streams and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        arrived = streams.seen.get(event.pk, [])
        latencies += [(t - sent) * 1000 for t in arrived]
        worst = max(worst, max(((t - sent) * 1000 for t in arrived), default=float("nan")))
        if len(arrived) < args.streams:
            print(f"event {event.pk}: only {len(arrived)} of {args.streams} streams got it")
        await asyncio.sleep(0.5)
    await streams.stop()
    return {
        "open_seconds": open_seconds,
        "idle_reads": idle_reads,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": worst,
        "delivered": len(latencies) / (args.events * args.streams) * 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--idle", type=float, default=10.0, help="idle window, seconds")
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--port", type=int, default=8219)
    parser.add_argument("--modes", default="postgres,poll")
    args = parser.parse_args()
    library_ensure(db=args.db)
    from django.conf import settings

    from projects.models import Tenant

    tenant_id = Tenant.objects.get(slug="bench-library").pk
    db = settings.DATABASES["default"]
    db_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    log_dir = ROOT / "var" / "bench" / "event_streams"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"{machine()}; {args.streams} streams, idle window {args.idle:g} s\n")
    rows = []
    for mode in args.modes.split(","):
        log = log_dir / f"uvicorn-{mode}.log"
        proc = _server(args.port, db_url, mode, log, args.streams)
        try:
            _wait_http(args.port, proc)
            result = asyncio.run(_measure(args.port, args, tenant_id, log))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        rows.append(
            (
                mode,
                f"{result['open_seconds']:.1f}",
                int(result["idle_reads"]),
                f"{result['idle_reads'] / args.idle / args.streams:.3f}",
                result["p50"],
                result["p95"],
                result["max"],
                f"{result['delivered']:.0f} %",
            )
        )
    headers = [
        "EVENTS_WAKEUP",
        "open all (s)",
        "outbox queries while idle",
        "per stream per s",
        "delivery p50 ms",
        "p95 ms",
        "max ms",
        "delivered",
    ]
    print(table(headers, rows))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
