"""The ``.project.yaml`` manifest that lets a folder be recognised after a database rebuild."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import yaml

from photos.fsrules import write_atomic
from photos.storage import MANIFEST_NAME
from projects.models import Project

MANIFEST_VERSION = 1


def manifest_data(project: Project) -> dict[str, Any]:
    return {
        "uid": str(project.uid),
        "name": project.name,
        "id": project.pk,
        "created_at": project.created_at.isoformat() if project.created_at else None,
        "version": MANIFEST_VERSION,
    }


def manifest_read(folder: Path) -> dict[str, Any] | None:
    """The manifest of a folder, or ``None`` when missing or unreadable."""
    try:
        data = yaml.safe_load((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def manifest_uid(data: dict[str, Any] | None) -> uuid.UUID | None:
    """The manifest's uid when it is a valid UUID (a hand-edited manifest may hold anything)."""
    if not data or not data.get("uid"):
        return None
    try:
        return uuid.UUID(str(data["uid"]))
    except ValueError:
        return None


def manifest_write(folder: Path, project: Project) -> bool:
    """Write the manifest atomically (``fsrules.write_atomic``). Returns whether it changed."""
    data = manifest_data(project)
    if manifest_read(folder) == data:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    write_atomic(folder / MANIFEST_NAME, lambda fh: fh.write(text.encode("utf-8")))
    return True
