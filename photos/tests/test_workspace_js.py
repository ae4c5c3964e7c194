"""The workspace's browser modules' unit tests (``node --test photos/tests/js/``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parent / "js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_workspace_js_unit_tests_pass():
    tests = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    assert tests
    result = subprocess.run(
        ["node", "--test", *tests], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
