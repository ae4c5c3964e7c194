"""Services speak the domain, not HTTP (STYLE habit 10): no status codes, no replies.

Every module that holds write paths or domain reads is parsed; a ``return 202, {...}`` or an
import of Django's or DRF's HTTP layer in one of them fails here. The adapters (``api/``,
``admin.py``, ``management/commands/``, ``core/api/exceptions.py``) pick status codes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODULES = sorted(
    [
        *(ROOT / "photos" / "services").glob("*.py"),
        ROOT / "photos" / "ingest.py",
        *(ROOT / "photos" / "reconcile").glob("*.py"),
        ROOT / "projects" / "services.py",
        ROOT / "projects" / "selectors.py",
        ROOT / "photos" / "project_deletion.py",
        ROOT / "photos" / "project_maintenance.py",
        # The domain errors themselves: they carry no status either (core/api/exceptions.py
        # picks it from the class).
        ROOT / "core" / "errors.py",
        ROOT / "jobs" / "exceptions.py",
        ROOT / "photos" / "manifest.py",
        ROOT / "sharing" / "services.py",
        ROOT / "sharing" / "selectors.py",
        ROOT / "sharing" / "exports.py",
        ROOT / "sharing" / "exportfiles.py",
        ROOT / "sharing" / "gallery" / "services.py",
        ROOT / "sharing" / "gallery" / "selectors.py",
    ]
)
HTTP_MODULES = ("django.http", "rest_framework.response", "rest_framework.status")
HTTP_NAMES = ("rest_framework.exceptions",)


def _status_like(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
        and 100 <= node.value <= 599
    )


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            if node.value.elts and _status_like(node.value.elts[0]):
                found.append(f"line {node.lineno}: returns a status code")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(HTTP_MODULES + HTTP_NAMES):
                found.append(f"line {node.lineno}: imports {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(HTTP_MODULES + HTTP_NAMES):
                    found.append(f"line {node.lineno}: imports {alias.name}")
    return found


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_service_module_returns_no_status_code_and_imports_no_http(path):
    assert _problems(path) == []


def test_the_check_catches_a_status_tuple_and_an_http_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from django.http import Http404\n\ndef f():\n    return 202, {'task_id': 1}\n")
    assert _problems(bad) == ["line 1: imports django.http", "line 4: returns a status code"]
