"""Shared bits of the benchmarks: Django setup, timing statistics, one-core pinning, tables.

Benchmarks print figures and ratios measured in one run; nothing here asserts a duration.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"


def setup_django(**env: str) -> None:
    """Configure Django for a benchmark process (test settings: fast knobs, test handlers)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.update(env)
    import django

    django.setup()


def pin_to_core(core: int = 0) -> None:
    """Restrict this process (and the children it starts later) to one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), ``pct`` in 0..100."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    """One line describing the machine the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def database_description() -> str:
    """``PostgreSQL 15.x`` or ``SQLite 3.x`` of Django's default connection."""
    from django.db import connection

    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pastes straight into docs/BENCHMARKS.md)."""
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def run(cmd: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


# --- a private database and real qcluster processes -------------------------------------------

PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def create_database(kind: str, *, name: str = "photolib_bench_pipeline") -> str:
    """Create an empty benchmark database and return its URL (before ``django.setup()``).

    ``sqlite``: a new file in a temporary folder; ``postgres``: ``name`` dropped and created
    on the server of ``BENCH_PG_URL`` (never the app's own database).
    """
    if kind == "sqlite":
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="photolib-bench-"))
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    if kind != "postgres":
        raise ValueError(kind)
    import psycopg

    name = os.environ.get("BENCH_PG_DB", name)  # one machine, several benchmarks at once
    with psycopg.connect(f"{PG_BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE_URL}/{name}"


def migrate_quietly() -> None:
    """Migrate the configured database and drop the pipeline's schedules (no maintenance
    firing in the middle of a measurement)."""
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("migrate", verbosity=0)
    Schedule.objects.all().delete()


_RUNNING: list[Cluster] = []


class Cluster:
    """``manage.py qcluster`` for one lane with the benchmark's settings and database."""

    def __init__(self, lane: str, log_path: Path, *, core: int | None = None, **env: str) -> None:
        child_env = dict(os.environ)
        child_env.update(
            DJANGO_SETTINGS_MODULE="bench.settings", Q_CLUSTER_NAME=lane, PYTHONUNBUFFERED="1"
        )
        child_env.update(env)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=child_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: pin_to_core(core)) if core is not None else None,
        )
        _RUNNING.append(self)

    def check(self) -> None:
        """Raise if the cluster died (an import error, a crash) instead of waiting forever."""
        if self.proc.poll() is not None:
            self._log.flush()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"qcluster exited with {self.proc.returncode}:\n{tail}")

    def stop(self) -> None:
        import signal

        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` (autocommit: each poll sees other processes' commits) until it is
    truthy; raise after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for cluster in _RUNNING:
            cluster.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
