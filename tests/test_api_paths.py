"""The API's paths are a contract (SPEC §9, §18): each path, its URL name, both ways.

Tests elsewhere build paths from these names (``tests/urls.py``); this module is where the
paths are spelled out. Every path under ``/api/`` answers with and without a trailing slash,
and ``reverse`` gives the form without one. Every named URL under ``/api/`` is listed: those
the SPEC names, and the product's own additions below them.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.urls import api_path

PK = 7
TASK_ID = "0b3a8e52-4f7d-4c1e-9a60-2f1d3c4b5a69"
TOKEN = "t0ken"

# (path as the SPEC writes it, URL name, kwargs)
SPEC_PATHS = [
    # §9
    ("/api/schema/", "api-schema", {}),
    ("/api/docs/", "api-docs", {}),
    ("/api/photos/keep", "photo-keep", {}),
    ("/api/photos/rating", "photo-rating", {}),
    ("/api/photos/tags/add", "photo-tags-add", {}),
    ("/api/photos/tags/remove", "photo-tags-remove", {}),
    ("/api/photos/process", "photo-process", {}),
    ("/api/photos/move", "photo-move", {}),
    ("/api/photos/commit-changes", "photo-commit-changes", {}),
    ("/api/photos/revert-changes", "photo-revert-changes", {}),
    ("/api/photos/pending-deletes", "photo-pending-deletes", {}),
    ("/api/photos/", "photo-list", {}),
    (f"/api/photos/{PK}/", "photo-detail", {"pk": PK}),
    (f"/api/photos/{PK}/thumbnail", "photo-thumbnail", {"pk": PK}),
    (f"/api/photos/{PK}/preview", "photo-preview", {"pk": PK}),
    (f"/api/photos/{PK}/original", "photo-original", {"pk": PK}),
    ("/api/projects/", "project-list", {}),
    (f"/api/projects/{PK}/", "project-detail", {"pk": PK}),
    (f"/api/projects/{PK}/upload", "project-upload", {"pk": PK}),
    (f"/api/projects/{PK}/commit-changes", "project-commit-changes", {"pk": PK}),
    (f"/api/projects/{PK}/revert-changes", "project-revert-changes", {"pk": PK}),
    (f"/api/projects/{PK}/process", "project-process", {"pk": PK}),
    (f"/api/projects/{PK}/jobs/", "project-jobs", {"pk": PK}),
    ("/api/jobs/", "job-list", {}),
    (f"/api/jobs/{PK}/", "job-detail", {"pk": PK}),
    (f"/api/jobs/{PK}/items/", "job-items", {"pk": PK}),
    (f"/api/jobs/{PK}/cancel", "job-cancel", {"pk": PK}),
    (f"/api/jobs/{PK}/retry", "job-retry", {"pk": PK}),
    ("/api/tasks/", "task-list", {}),
    ("/api/tasks/definitions", "task-definitions", {}),
    (f"/api/tasks/{TASK_ID}/", "task-detail", {"task_id": TASK_ID}),
    ("/api/events/stream", "event-stream", {}),
    ("/api/photos/visibility", "photo-visibility", {}),
    (f"/api/projects/{PK}/trash", "project-trash", {"pk": PK}),
    ("/api/photos/restore", "photo-restore", {}),
    ("/api/uploads/", "upload-list", {}),
    ("/api/maintenance/run", "maintenance-run", {}),
    ("/api/maintenance/discover", "maintenance-discover", {}),
    # §18
    ("/api/shares/", "share-list", {}),
    (f"/api/shares/{PK}/", "share-detail", {"pk": PK}),
    (f"/api/shares/{PK}/picks", "share-picks", {"pk": PK}),
    ("/api/exports/", "export-list", {}),
    (f"/api/exports/{PK}/", "export-detail", {"pk": PK}),
    (f"/api/exports/{PK}/download", "export-download", {"pk": PK}),
    (f"/s/{TOKEN}/", "share-gallery", {"token": TOKEN}),
    (f"/s/{TOKEN}/api/photos", "share-photos", {"token": TOKEN}),
    (f"/s/{TOKEN}/api/picks", "share-picks", {"token": TOKEN}),
]

# Under /api/ but not in the SPEC's tables: the product's own additions.
OTHER_API_PATHS = [
    ("/api/", "api-root", {}),
    (f"/api/projects/{PK}/clock-offset", "project-clock-offset", {"pk": PK}),
    (f"/api/photos/{PK}/full", "photo-full", {"pk": PK}),
    (f"/api/photos/{PK}/screen", "photo-screen", {"pk": PK}),
    ("/api/photos/bursts/keep-sharpest", "photo-bursts-keep-sharpest", {}),
    (f"/api/uploads/{'ab' * 16}", "upload-detail", {"pk": "ab" * 16}),
    (f"/api/shares/{PK}/apply-picks", "share-apply-picks", {"pk": PK}),
]

ALL_PATHS = SPEC_PATHS + OTHER_API_PATHS


def other_form(path: str) -> str:
    """The path with its trailing slash added or taken away."""
    return path.removesuffix("/") if path.endswith("/") else f"{path}/"


@pytest.mark.parametrize(("path", "name", "kwargs"), ALL_PATHS, ids=[p for p, _, _ in ALL_PATHS])
def test_a_path_resolves_to_its_name_and_reverses_from_it(path, name, kwargs):
    match = resolve(path)
    assert match.url_name == name
    assert match.kwargs == {key: str(value) for key, value in kwargs.items()}
    if path.startswith("/api/") and path != "/api/":
        assert resolve(other_form(path)).url_name == name
        assert api_path(name, **kwargs) == path.removesuffix("/")
    else:
        assert api_path(name, **kwargs) == path


def api_url_names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= api_url_names(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and prefix.startswith("api/") and pattern.name:
            names.add(pattern.name)
    return names


def test_every_named_api_url_is_listed_here():
    listed = {name for path, name, _ in ALL_PATHS if path.startswith("/api/")}
    assert api_url_names(get_resolver().url_patterns) == listed
