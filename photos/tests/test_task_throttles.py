"""Throttles by task type on every path that starts a task, in a cache every process shares.

SPEC §9: a task started through ``/api/tasks/`` or ``/api/projects/{id}/jobs/`` counts
against the throttle of its type, and throttle state is shared by all web processes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from core.api.throttling import TASK_THROTTLE_SCOPES, task_throttle_scope
from jobs.definitions import TASK_DEFINITIONS
from jobs.models import TaskRun
from tests.urls import api_path


def set_rate(settings, scope: str, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


def test_every_task_type_maps_to_a_throttle_scope(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    for task_type in TASK_DEFINITIONS:
        assert task_throttle_scope(task_type) in rates
    assert set(TASK_THROTTLE_SCOPES) <= set(TASK_DEFINITIONS)
    assert task_throttle_scope("change_commit_all") == "commit"
    assert task_throttle_scope("project_delete") == "project_write"
    assert task_throttle_scope("folder_discovery") == "maintenance"
    assert task_throttle_scope("project_scavenge_global") == "maintenance"
    assert task_throttle_scope("generate_derivatives") == "bulk"


def test_commits_through_api_tasks_are_throttled(api_client, project, settings):
    set_rate(settings, "commit", "2/5min")
    for _ in range(2):
        response = api_client.post(
            api_path("task-list"), {"task_type": "change_commit_all"}, format="json"
        )
        assert response.status_code == 202, response.json()
    response = api_client.post(
        api_path("task-list"), {"task_type": "change_commit_all"}, format="json"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 300
    assert TaskRun.objects.filter(type="change_commit_all").count() == 2
    # The dedicated endpoint shares the same count.
    assert api_client.post(api_path("photo-commit-changes")).status_code == 429


def test_dedicated_endpoint_and_generic_one_share_the_commit_count(api_client, project, settings):
    set_rate(settings, "commit", "1/5min")
    assert api_client.post(api_path("photo-commit-changes")).status_code in (200, 202)
    response = api_client.post(
        api_path("project-jobs", pk=project.pk), {"task_type": "change_commit"}, format="json"
    )
    assert response.status_code == 429
    assert not TaskRun.objects.filter(type="change_commit").exists()


def test_discovery_and_maintenance_through_project_jobs_are_throttled(
    api_client, project, settings
):
    set_rate(settings, "maintenance", "1/10min")
    url = api_path("project-jobs", pk=project.pk)
    assert api_client.post(url, {"task_type": "maintenance"}, format="json").status_code == 202
    assert api_client.post(url, {"task_type": "maintenance"}, format="json").status_code == 429
    response = api_client.post(
        api_path("task-list"), {"task_type": "folder_discovery"}, format="json"
    )
    assert response.status_code == 429
    assert api_client.post(api_path("maintenance-discover")).status_code == 429
    assert not TaskRun.objects.filter(type="folder_discovery").exists()


def test_forced_reprocessing_through_api_tasks_is_throttled(api_client, project, settings):
    set_rate(settings, "bulk", "1/min")
    body = {"task_type": "generate_derivatives", "project": project.pk, "payload": {"force": True}}
    assert api_client.post(api_path("task-list"), body, format="json").status_code == 202
    assert api_client.post(api_path("task-list"), body, format="json").status_code == 429
    # Other scopes are not touched by bulk work.
    response = api_client.post(
        api_path("task-list"), {"task_type": "change_commit_all"}, format="json"
    )
    assert response.status_code == 202


def test_throttles_count_per_user(api_client, other_client, project, other_project, settings):
    set_rate(settings, "commit", "1/5min")
    assert (
        api_client.post(
            api_path("task-list"), {"task_type": "change_commit_all"}, format="json"
        ).status_code
        == 202
    )
    assert (
        other_client.post(
            api_path("task-list"), {"task_type": "change_commit_all"}, format="json"
        ).status_code
        == 202
    )


@pytest.mark.workers
@pytest.mark.timeout(120)
def test_throttle_state_is_shared_with_another_process(transactional_db, tmp_path, settings):
    """A second web process (a separate interpreter on the same settings) sees the counts.

    Runs with the database cache on the embedded default and with Redis when the suite runs
    on the Redis broker.
    """
    from rest_framework.authtoken.models import Token

    from tests.factories import make_tenant, make_user
    from tests.workers import ROOT, child_env

    user = make_user(make_tenant("acme"), "shared")
    token = Token.objects.create(user=user)
    set_rate(settings, "commit", "1/5min")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.post(api_path("photo-commit-changes")).status_code in (200, 202)

    script = f"""
import django
django.setup()
from rest_framework.test import APIClient
client = APIClient()
client.credentials(HTTP_AUTHORIZATION="Token {token.key}")
response = client.post("/api/tasks/", {{"task_type": "change_commit_all"}}, format="json")
print("STATUS", response.status_code)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_env(THROTTLE_COMMIT="1/5min"),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "STATUS 429" in result.stdout, result.stdout + result.stderr
    assert not TaskRun.objects.filter(type="change_commit_all").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_of_one_user_never_pass_the_rate(settings):
    """Requests of one user answered at once (by two web processes, or two threads of one)
    take turns on the count: exactly the rate gets through. Writes of the count are slowed, so
    that checks not taking turns would all read the same empty history and all pass."""
    from django.core.cache import cache
    from django.db import connection

    from core.api.throttling import CommitThrottle
    from tests.factories import make_tenant, make_user

    set_rate(settings, "commit", "3/5min")
    user = make_user(make_tenant("acme"), "burst")

    class SlowWrites:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(cache, name)

        def set(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(0.05)
            return cache.set(*args, **kwargs)

    class Throttle(CommitThrottle):
        cache = SlowWrites()  # type: ignore[assignment]

    request = SimpleNamespace(user=user)
    gate = threading.Barrier(8)
    passed: list[bool] = []

    def check() -> None:
        try:
            gate.wait()
            passed.append(Throttle().allow_request(request, None))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(passed) == [False] * 5 + [True] * 3
