"""The product as deployed: ``manage.py serve`` processes started the way ``bin/run`` starts
them, on the test database, looked at from outside (HTTP with a token, ``manage.py``, the
console log). Used by the as-deployed tests (tests/deployed/), the scale-out test and bench.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.processes import descendants
from tests.workers import ROOT, child_env

# Short knobs, set through the environment as an operator would. Schedules keep their real
# minute granularity; django-q2's scheduler looks for due schedules every 30 seconds.
FAST_ENV = {
    "PIPELINE_HEARTBEAT_SECONDS": "1",
    "PIPELINE_STALE_SECONDS": "3",
    "PIPELINE_RETRY_BASE_SECONDS": "1",
    "PIPELINE_SWEEP_INTERVAL_MINUTES": "1",
}
# The first tick of django-q2's scheduler comes 30 s after a cluster starts; allow for a busy
# machine.
FIRST_TICK_SECONDS = 30
TICK_SLACK_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deployed_env(**extra: str) -> dict[str, str]:
    """``bin/run``'s environment: production settings, the test database, a tmp PHOTOS_ROOT."""
    env = child_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="deployed-test-secret-key-not-for-production",
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        **FAST_ENV,
    )
    env.pop("DJANGO_DEBUG", None)
    env.pop("PIPELINE_LOG_LEVEL", None)
    env.update(extra)
    return env


def manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env or deployed_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Host:
    """One ``manage.py serve`` (web and both lanes, or ``--no-web``), in its own process group."""

    def __init__(self, name: str, log_dir: Path, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_dir / f"serve-{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def descendants(self) -> list[int]:
        """Every live process below ``serve`` (web, clusters, their sentinels and workers)."""
        return descendants(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # serve stops its children itself on SIGTERM, as on Ctrl-C.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


class Deployment:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.hosts: list[Host] = []
        self.token = ""

    # -- starting -----------------------------------------------------------------------------

    def start(self, *args: str, **env: str) -> Host:
        """``migrate`` then ``serve`` as ``bin/run`` does (``args``: more of serve's options);
        returns once the web answers."""
        migrated = manage("migrate", "--noinput", env=deployed_env(**env))
        assert migrated.returncode == 0, migrated.stderr
        host = Host("web", self.tmp_path, ["--port", str(self.port), *args], deployed_env(**env))
        self.hosts.append(host)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/admin/login/", timeout=2) as reply:
                    if reply.status == 200:
                        return host
            except OSError:
                pass
            assert host.proc.poll() is None, host.log()
            assert time.monotonic() < deadline, f"serve did not answer:\n{host.log()}"
            time.sleep(0.3)

    def start_worker_host(self, **env: str) -> Host:
        """Another worker host of a scale-out deployment: ``serve --no-web`` (both lanes)."""
        host = Host(f"workers{len(self.hosts)}", self.tmp_path, ["--no-web"], deployed_env(**env))
        self.hosts.append(host)
        return host

    def user(self, tenant: str = "acme", username: str = "ana") -> str:
        """Create a tenant and user with ``manage.py tenant_user``; keep its API token."""
        made = manage("tenant_user", tenant, username)
        assert made.returncode == 0, made.stderr
        self.token = made.stdout.strip().splitlines()[-1]
        return self.token

    # -- looking from outside -----------------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.base}/api/{path.lstrip('/')}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_api(self, path: str, predicate, *, timeout: float, what: str) -> Any:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.api("GET", path)
            if status == 200 and predicate(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Timed out after {timeout}s waiting for {what}: {body}\n{self.logs()}"
                )
            time.sleep(0.5)

    def logs(self) -> str:
        return "\n".join(f"--- {host.name} ---\n{host.log()}" for host in self.hosts)

    def stop(self) -> None:
        for host in self.hosts:
            host.stop()
