"""The workspace's JavaScript unit tests (``node --test tests/js/``), run with the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_workspace_javascript_unit_tests_pass() -> None:
    folder = Path(__file__).parent / "js"
    result = subprocess.run(
        [str(NODE), "--test", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
