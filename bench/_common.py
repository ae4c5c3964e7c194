"""Shared bits of the benchmarks: Django setup, timing statistics, one-core pinning, tables,
private databases, ``manage.py`` and uvicorn processes, and the product driven through its API.

Benchmarks print figures and ratios measured in one run; nothing here asserts a duration.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
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


def setup_workdir(workdir: Path, **env: str) -> None:
    """Django on the test settings for a script that keeps everything in ``workdir``: the photo
    root there, and a throw-away SQLite file there unless ``DATABASE_URL`` names a database;
    migrated. ``env``: more variables to set first."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    setup_django(PHOTOS_ROOT=str(workdir / "photos"), **env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


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
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def create_database(kind: str, *, name: str = "") -> str:
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

    # BENCH_PG_DB keeps runs that share one server apart.
    name = name or os.environ.get("BENCH_PG_DB", "photolib_bench_pipeline")

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


def job_backlog(tenant, n: int, *, type: str = "test_noop", payload: dict | None = None) -> None:  # type: ignore[no-untyped-def]
    """``n`` queued jobs (priority 50), written the way ``job_enqueue`` writes them but in
    bulk, and no wake-up: the caller decides when workers learn of them."""
    from django.conf import settings
    from django.utils import timezone

    from jobs.events import EventType
    from jobs.models import Event, Job

    now = timezone.now()
    jobs = Job.objects.bulk_create(
        [
            Job(
                tenant=tenant,
                type=type,
                scope="global",
                priority=50,
                payload=payload or {},
                max_attempts=settings.PIPELINE_MAX_ATTEMPTS,
                woken_at=now,
            )
            for _ in range(n)
        ],
        batch_size=1000,
    )
    Event.objects.bulk_create(
        [Event(tenant=tenant, type=EventType.JOB_QUEUED, job=job, payload={}) for job in jobs],
        batch_size=1000,
    )


def stub_photos(project, names: Iterable[str]) -> None:  # type: ignore[no-untyped-def]
    """Rows for ``names`` in ``project``, bulk inserted: a JPG, available and kept, its
    thumbnail and preview generated (nothing for the pipeline to do)."""
    from photos.models import Photo

    Photo.objects.bulk_create(
        [
            Photo(
                project=project,
                basename=name,
                ext="jpg",
                jpg_available=True,
                keep_jpg=True,
                thumbnail_status="generated",
                preview_status="generated",
            )
            for name in names
        ],
        batch_size=1000,
    )


_RUNNING: list[Managed] = []


class Managed:
    """A ``manage.py`` command in its own process group, its output in ``log_path``."""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        *,
        core: int | None = None,
        settings: str = "bench.settings",
        environ: Mapping[str, str] | None = None,
        **env: str,
    ) -> None:
        # ``environ``: the environment to start from (this process's when not given).
        child_env = dict(os.environ if environ is None else environ)
        child_env.update(DJANGO_SETTINGS_MODULE=settings, PYTHONUNBUFFERED="1")
        child_env.update(env)
        self.name = " ".join(args)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=child_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: pin_to_core(core)) if core is not None else None,
        )
        _RUNNING.append(self)

    def check(self) -> None:
        """Raise if the process died (an import error, a crash) instead of waiting forever."""
        if self.proc.poll() is not None:
            self._log.flush()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def _terminate(self) -> None:
        import signal

        os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, *, timeout: float = 15) -> None:
        import signal

        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.proc.poll() is None:
            self._terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a stuck worker) is killed.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


class Cluster(Managed):
    """``manage.py qcluster`` for one lane with the benchmark's settings and database."""

    def __init__(self, lane: str, log_path: Path, *, core: int | None = None, **env: str) -> None:
        super().__init__(["qcluster"], log_path, core=core, Q_CLUSTER_NAME=lane, **env)


class Serve(Managed):
    """``manage.py serve …`` as an operator starts it (``--no-web``: a worker host)."""

    def _terminate(self) -> None:
        import signal

        # serve stops its children itself on SIGTERM, as on Ctrl-C.
        self.proc.send_signal(signal.SIGTERM)


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


# --- the product as bin/run starts it, driven through its API ---------------------------------


def product_env(tmp: Path, *, secret_key: str, **extra: str) -> dict[str, str]:
    """``bin/run``'s environment (production settings, the embedded defaults) with a private
    SQLite database and photo root under ``tmp``; ``extra``: more variables (throttles)."""
    env = os.environ.copy()
    for name in ("DJANGO_DEBUG", "Q_BROKER", "PIPELINE_LOG_LEVEL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        PHOTOS_ROOT=str(tmp / "photos"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: Mapping[str, str], *args: str) -> str:
    """``manage.py <args>`` in ``env`` (see ``product_env``); its standard output."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def product_serve(env: Mapping[str, str], *, port: int, log_path: Path) -> Serve:
    """``manage.py serve --port <port>`` in ``env`` (see ``product_env``)."""
    return Serve(
        ["serve", "--port", str(port)],
        log_path,
        settings=env["DJANGO_SETTINGS_MODULE"],
        environ=env,
    )


def api_session(env: Mapping[str, str], *tenant_user_args: str):  # type: ignore[no-untyped-def]
    """A ``requests`` session signed in with the API token of the user that
    ``manage.py tenant_user <tenant_user_args>`` makes (the token is its last line)."""
    import requests

    token = manage(env, "tenant_user", *tenant_user_args).strip().splitlines()[-1]
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    return http


def http_wait(url: str, *, http=None, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    """Poll ``url`` (through the ``requests`` session ``http`` when given) until it answers
    200; raise when a started process exits (see ``wait_until``) or after ``timeout`` s."""
    import requests

    def answers() -> bool:
        try:
            return (http or requests).get(url, timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(answers, timeout=timeout, what=f"{url} to answer", interval=0.3)


def upload_photos(  # type: ignore[no-untyped-def]
    http, api: str, project_id: int, files: Sequence[Path], n: int, *, batch: int
) -> None:
    """``n`` JPEGs, ``files`` over and over under the names ``IMG_0000.jpg`` …, uploaded
    through ``POST <api>/projects/<id>/upload`` in requests of ``batch`` files, one after
    another, as a browser would."""
    names = [(f"IMG_{i:04d}.jpg", files[i % len(files)]) for i in range(n)]
    for first in range(0, n, batch):
        chunk = names[first : first + batch]
        handles = [open(path, "rb") for _, path in chunk]  # noqa: SIM115
        try:
            reply = http.post(
                f"{api}/projects/{project_id}/upload",
                files=[
                    ("files", (name, fh, "image/jpeg"))
                    for (name, _), fh in zip(chunk, handles, strict=True)
                ],
                timeout=600,
            )
        finally:
            for fh in handles:
                fh.close()
        if reply.status_code != 201:
            raise RuntimeError(f"upload: {reply.status_code} {reply.text[:500]}")


def uvicorn(
    port: int, env: Mapping[str, str], log: Path, *, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """``uvicorn config.asgi:application`` of the checkout ``cwd`` on 127.0.0.1:``port`` in
    its own process group (no access log, 1 s graceful shutdown), its output in ``log``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "1",
        ],
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
