"""``serve``: the ASGI web server and one ``qcluster`` per lane, in one command (SPEC §12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from jobs.models import Lane


def _die_with_parent() -> None:
    """In a child: get SIGTERM when ``serve`` dies, even by SIGKILL (Linux), never orphaned."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # Not Linux: Ctrl-C and SIGTERM still stop every child through _supervise.


class Command(BaseCommand):
    help = "Run the web server (ASGI) and one qcluster per lane; Ctrl-C stops them all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-workers", action="store_true", help="Only the web server (workers run elsewhere)."
        )
        parser.add_argument("--no-web", action="store_true", help="Only the lane workers.")
        parser.add_argument(
            "--web-workers",
            type=int,
            default=1,
            help="Web processes sharing the one listening port (uvicorn --workers).",
        )

    def handle(self, *args, **options) -> None:
        if options["web_workers"] < 1:
            raise CommandError("--web-workers must be 1 or more.")
        self._check_migrations()
        children: list[tuple[str, subprocess.Popen]] = []
        env = os.environ.copy()
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
                "3",
                "--no-access-log",
            ]
            if options["web_workers"] > 1:
                # uvicorn binds the port once and its worker processes accept from that one
                # socket; throttle counts and single-flight live in the shared cache and the
                # database, so they hold across them.
                cmd += ["--workers", str(options["web_workers"])]
            children.append(("web", subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)))
        if not options["no_workers"]:
            for lane in (Lane.PRIORITY, Lane.DEFAULT):
                lane_env = {**env, "Q_CLUSTER_NAME": lane}
                children.append(
                    (
                        f"qcluster:{lane}",
                        subprocess.Popen(
                            [*manage, "qcluster"], env=lane_env, preexec_fn=_die_with_parent
                        ),
                    )
                )
        if not children:
            raise CommandError("Nothing to run: --no-web and --no-workers together.")
        names = ", ".join(name for name, _ in children)
        self.stdout.write(
            f"Serving on http://{options['host']}:{options['port']}/ (admin at /admin/, API at "
            f"/api/, API docs at /api/docs/) with {names}. Ctrl-C stops all."
        )
        self._supervise(children)

    def _check_migrations(self) -> None:
        connection = connections["default"]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise CommandError(
                f"{len(plan)} migration(s) not applied; run `python manage.py migrate` first."
            )
        connection.close()

    def _supervise(self, children: list[tuple[str, subprocess.Popen]]) -> None:
        stopping = False

        def stop(signum, frame):
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
            time.sleep(0.5)
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, proc in children:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it.")
                proc.kill()
                proc.wait()
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
