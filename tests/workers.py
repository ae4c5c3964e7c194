"""Real ``qcluster`` processes for tests, one per lane, against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=test_database_url(),
        PHOTOS_ROOT=str(settings.PHOTOS_ROOT),
        EXPORTS_ROOT=str(settings.EXPORTS_ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Cluster:
    """One ``manage.py qcluster`` for a lane, in its own process group."""

    def __init__(self, lane: str, log_dir: Path, **env: str) -> None:
        self.lane = lane
        self.log_path = log_dir / f"qcluster-{lane}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=child_env(Q_CLUSTER_NAME=lane, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGTERM to the cluster's main process only: it stops its workers itself. Sent to
            # the whole group, the workers die first and the sentinel waits for them in vain.
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a stuck worker) is killed.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 60, what: str = "condition"
) -> object:
    """Poll ``predicate`` (closing the connection between polls so we see other processes)."""
    deadline = time.monotonic() + timeout
    while True:
        connection.close()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def clusters_running() -> int:
    """django-q2 clusters (any host, any lane) that report running through the broker: each
    cluster saves its state there every guard cycle, and a stopped one's expires in seconds."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.status import Stat

    return sum(
        1 for stat in Stat.get_all(broker=get_broker()) if stat.status in (Conf.IDLE, Conf.WORKING)
    )
