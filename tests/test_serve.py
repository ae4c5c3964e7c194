"""``manage.py serve``: web and one qcluster per lane in one command; Ctrl-C stops them all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.deployment import free_port
from tests.workers import ROOT, child_env

pytestmark = [pytest.mark.workers, pytest.mark.timeout(120)]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_serve_runs_web_and_both_lanes_and_ctrl_c_stops_all(transactional_db, tmp_path):
    from django_q.models import Schedule

    from jobs.enqueue import job_enqueue
    from jobs.models import Job
    from tests.factories import make_tenant
    from tests.workers import wait_for

    Schedule.objects.all().delete()
    tenant = make_tenant("serve")
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port)],
        cwd=ROOT,
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def web_answers() -> bool:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/admin/login/", timeout=2
                ) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(web_answers, timeout=60, what="the web server")
        assert len(children_of(proc.pid)) == 4  # uvicorn + two lanes + the scheduler
        fast = job_enqueue(tenant=tenant, type="test_noop", priority=100)[0]
        slow = job_enqueue(tenant=tenant, type="test_noop", priority=10)[0]
        wait_for(
            lambda: Job.objects.filter(pk__in=[fast.pk, slow.pk], status="completed").count() == 2,
            timeout=60,
            what="both lanes to run a job",
        )
        family = [proc.pid, *children_of(proc.pid)]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in family), (tmp_path / "serve.log").read_text()
        assert b"Stopped." in (tmp_path / "serve.log").read_bytes()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_serve_refuses_to_start_with_pending_migrations(tmp_path):
    env = child_env(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "migrate" in result.stderr
