"""``serve``: the ASGI web server, one ``qcluster`` per lane and the scheduler's cluster, in one
command (SPEC §12). Ctrl-C or SIGTERM to ``serve`` alone stops every process it started.

Each child runs in a process group of its own, dies with ``serve`` (``PR_SET_PDEATHSIG``) and
has everything it forks die with it (``jobs.process_tree``). On Ctrl-C or SIGTERM ``serve`` asks
each child to stop (SIGTERM: uvicorn lets requests finish, a cluster lets idle workers go),
waits up to ``STOP_GRACE_SECONDS``, then kills what is left of each child's process group: a
worker still in a long job, whose job the sweeper requeues once its heartbeat is stale.

Once the web server accepts connections ``serve`` prints one block: the URL it serves and, the
first time after ``demo`` made the demo user, that user's name and password (``demo`` leaves
them in ``var/demo-login.json``; ``serve`` prints them once and deletes the file). uvicorn logs
warnings and errors only, so the block is the last thing a normal start prints.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from jobs.models import Lane
from jobs.process_tree import DIE_WITH_PARENT_ENV, die_with_parent
from jobs.scheduling import SCHEDULE_CLUSTER

# How long the children get to stop on their own before their process groups are killed.
STOP_GRACE_SECONDS = 15
# How long uvicorn waits for open responses on stop; event streams end on their own at once
# (jobs.api.stream.streams_stop), so only a slow download can reach it.
WEB_GRACEFUL_SECONDS = 5
# How long the start-up block waits for the web server to accept connections.
WEB_READY_SECONDS = 120


def demo_login_path() -> Path:
    """Where ``demo`` leaves the demo user's name and password for ``serve`` to print once."""
    return Path(settings.VAR_DIR) / "demo-login.json"


def _die_with_parent() -> None:
    """In a child, before it runs its program: die when ``serve`` dies, even by SIGKILL."""
    die_with_parent()


class Command(BaseCommand):
    help = (
        "Run the web server (ASGI), one qcluster per lane and the scheduler's; Ctrl-C stops "
        "them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address the web server listens on (default: 127.0.0.1, this machine only).",
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="Port of the web server (default: 8000)."
        )
        parser.add_argument(
            "--no-workers", action="store_true", help="Only the web server (workers run elsewhere)."
        )
        parser.add_argument(
            "--no-web", action="store_true", help="Only the lane workers and the scheduler."
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=1,
            help="Web processes sharing the one listening port (uvicorn --workers).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["web_workers"] < 1:
            raise CommandError("--web-workers must be 1 or more.")
        self._check_migrations()
        # WhiteNoise warns at start-up when the collected-static folder does not exist.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        if not options["no_web"]:
            self._collect_static()
        children: list[tuple[str, subprocess.Popen]] = []
        env = {**os.environ, DIE_WITH_PARENT_ENV: "1"}
        manage = [sys.executable, os.path.abspath(sys.argv[0])]
        if not options["no_web"]:
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--timeout-graceful-shutdown",
                str(WEB_GRACEFUL_SECONDS),
                "--no-access-log",
                # Django's ASGI handler speaks no lifespan protocol: say so instead of letting
                # uvicorn probe it and log that it "appears unsupported".
                "--lifespan",
                "off",
                # Start-up and shutdown chatter stays out of the console: serve prints the URL.
                "--log-level",
                "warning",
            ]
            if options["web_workers"] > 1:
                # uvicorn binds the port once and its worker processes accept from that one
                # socket; throttle counts and single-flight live in the shared cache and the
                # database, so they hold across them.
                cmd += ["--workers", str(options["web_workers"])]
            children.append(("web", self._start(cmd, env)))
        if not options["no_workers"]:
            # The scheduler's cluster runs only the schedules' own functions, never a job, so
            # a tick never waits behind a long job (SPEC §8).
            for cluster in (Lane.PRIORITY, Lane.DEFAULT, SCHEDULE_CLUSTER):
                cluster_env = {**env, "Q_CLUSTER_NAME": cluster}
                children.append(
                    (f"qcluster:{cluster}", self._start([*manage, "qcluster"], cluster_env))
                )
        if not children:
            raise CommandError("Nothing to run: --no-web and --no-workers together.")
        self._supervise(children, web=None if options["no_web"] else options)

    def _ready_block(self, children: list[tuple[str, subprocess.Popen]], web: dict | None) -> str:
        """The start-up block: what runs, the URL served, the demo login on first start."""
        names = ", ".join(name for name, _ in children)
        if web is None:
            return f"Running {names} (no web server). Ctrl-C stops all."
        host = web["host"]
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            shown = "127.0.0.1"
        url = f"http://{shown}:{web['port']}/"
        lines = [
            "",
            f"  {admin.site.index_title + ':':<15}{url}admin/",
            f"  Culling:       {url}admin/cull/",
            f"  API docs:      {url}api/docs/",
        ]
        login = self._demo_login()
        if login:
            lines += [
                f"  Username:      {login['username']}",
                f"  Password:      {login['password']}",
                "  (shown once; change it with `python manage.py changepassword "
                f"{login['username']}`)",
            ]
        lines += [f"  Running {names}. Ctrl-C stops all.", ""]
        return "\n".join(lines)

    @staticmethod
    def _demo_login() -> dict | None:
        """The demo login ``demo`` left for the first start; the file is gone once read."""
        path = demo_login_path()
        try:
            login = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        path.unlink(missing_ok=True)
        if not isinstance(login, dict) or not {"username", "password"} <= login.keys():
            return None
        return login

    @staticmethod
    def _web_listening(web: dict) -> bool:
        host = web["host"]
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        try:
            with socket.create_connection((host, web["port"]), timeout=0.5):
                return True
        except OSError:
            return False

    @staticmethod
    def _start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        # A process group of its own: what is left of the child's tree at the end is killed
        # as one, even processes whose parent exited first.
        return subprocess.Popen(cmd, env=env, process_group=0, preexec_fn=_die_with_parent)

    def _collect_static(self) -> None:
        """Hashed static files (config/static_storage.py) are named by ``{% static %}`` only
        once collected: collect them before the web server starts (a no-op when unchanged)."""
        from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

        if isinstance(staticfiles_storage, ManifestFilesMixin) and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)

    def _check_migrations(self) -> None:
        connection = connections["default"]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise CommandError(
                f"{len(plan)} migration(s) not applied; run `python manage.py migrate` first."
            )
        connection.close()

    def _supervise(self, children: list[tuple[str, subprocess.Popen]], web: dict | None) -> None:
        stopping = False
        announced = False
        started = time.monotonic()

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; stopping the rest.")
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            if not stopping and not announced:
                # Once the web server accepts connections (at once without one).
                if web is None or self._web_listening(web):
                    self.stdout.write(self._ready_block(children, web))
                    self.stdout.flush()
                    announced = True
                elif time.monotonic() - started > WEB_READY_SECONDS:
                    self.stderr.write(f"The web server did not listen in {WEB_READY_SECONDS} s.")
                    announced = True
                    continue
                else:
                    time.sleep(0.1)
                    continue
            time.sleep(0.5)
        self._stop(children)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children: list[tuple[str, subprocess.Popen]]) -> None:
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in children:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killing it.")
        # Whatever is left of each child's tree (a worker in a long job, whose cluster waits
        # for it; a process whose parent already exited) is in the child's process group.
        for _, proc in children:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
