"""The ASGI application as uvicorn loads it (config/asgi.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.workers import ROOT, child_env


def test_loading_the_app_freezes_what_lives_as_long_as_the_process():
    """Modules, settings and the URL tree loaded at start move out of the garbage collector's
    sight, so full collections during requests scan only request garbage (BENCHMARKS §11)."""
    probe = (
        "import gc; before = gc.get_freeze_count(); import config.asgi; "
        "print(before, gc.get_freeze_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    before, after = (int(n) for n in done.stdout.split())
    assert before == 0
    assert after > 10_000  # Django and the apps: tens of thousands of objects
