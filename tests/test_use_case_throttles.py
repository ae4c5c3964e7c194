"""Throttles belong to the use case (SPEC §9, §14): the API and the admin's actions count
against the same per-user budget (``core.api.throttling.throttle_check``, one cache key per user
and scope), so neither is a way around the other."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from core.api.throttling import RateLimited, throttle_check
from jobs.models import TaskRun
from photos.models import Photo
from projects.models import Project
from projects.roles import Role
from projects.services import staff_permissions_grant
from tests.factories import make_photo, make_project, make_user
from tests.urls import api_path

WAIT = re.compile(r"try again in (\d+) s\.")


def set_rate(settings, scope: str, rate: str) -> None:  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


@pytest.fixture
def editor(tenant):  # type: ignore[no-untyped-def]
    user = make_user(tenant, "eddie", staff=True, role=Role.EDITOR)
    staff_permissions_grant(user=user)
    return user


def pending_projects(tenant: Any, count: int) -> list[Project]:
    projects = []
    for n in range(count):
        project = make_project(tenant, f"Shoot {n:02d}")
        make_photo(project, f"IMG_{n:04d}", keep_jpg=False)
        projects.append(project)
    return projects


def admin_commit(client: Any, projects: list[Project]) -> list[str]:
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "commit_changes", "_selected_action": [p.pk for p in projects]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_throttle_check_refuses_past_the_rate_with_the_wait(tenant, editor, settings):
    set_rate(settings, "commit", "2/5min")
    throttle_check(user=editor, scope="commit")
    throttle_check(user=editor, scope="commit")
    with pytest.raises(RateLimited) as refused:
        throttle_check(user=editor, scope="commit")
    assert 0 < refused.value.wait <= 300
    assert (
        str(refused.value) == f"Too many commits and reverts; try again in {refused.value.wait} s."
    )


def test_api_then_admin_use_up_one_commit_budget(tenant, editor, client, client_for, settings):
    set_rate(settings, "commit", "10/5min")
    projects = pending_projects(tenant, 13)
    api = client_for(editor)
    for project in projects[:6]:
        assert api.post(api_path("project-commit-changes", pk=project.pk)).status_code == 202
    client.force_login(editor)
    texts = admin_commit(client, projects[6:])
    # Four more commits fit in the budget of ten; the other three are refused with the wait.
    assert TaskRun.objects.filter(type="change_commit").count() == 10
    refused = [t for t in texts if WAIT.search(t)]
    assert len(refused) == 1
    assert "Shoot 10, Shoot 11, Shoot 12" in refused[0]
    # And the API refuses the eleventh too: one counter.
    response = api.post(api_path("project-commit-changes", pk=projects[12].pk))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 300
    assert TaskRun.objects.count() == 10


def test_admin_commit_thirteen_times_starts_ten_tasks(tenant, editor, client, client_for, settings):
    set_rate(settings, "commit", "10/5min")
    projects = pending_projects(tenant, 13)
    client.force_login(editor)
    refusals = 0
    for project in projects:
        texts = admin_commit(client, [project])
        refusals += any(WAIT.search(t) for t in texts)
    assert TaskRun.objects.filter(type="change_commit").count() == 10
    assert refusals == 3
    # The API shares the count: its commit is refused as well.
    assert client_for(editor).post(api_path("photo-commit-changes")).status_code == 429


def test_admin_rename_after_the_apis_429_is_refused_with_the_wait(
    tenant, editor, client, client_for, settings
):
    set_rate(settings, "project_write", "2/5min")
    project = make_project(tenant, "Shoot")
    api = client_for(editor)
    url = api_path("project-detail", pk=project.pk)
    assert api.patch(url, {"name": "One"}, format="json").status_code == 200
    assert api.patch(url, {"name": "Two"}, format="json").status_code == 200
    assert api.patch(url, {"name": "Three"}, format="json").status_code == 429
    client.force_login(editor)
    response = client.post(
        reverse("admin:projects_project_change", args=[project.pk]), {"name": "Four"}
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert WAIT.search(response.content.decode())
    project.refresh_from_db()
    assert project.name == "Two"


def test_admin_photo_action_shares_the_apis_bulk_budget(
    tenant, editor, client, client_for, settings
):
    set_rate(settings, "bulk", "2/min")
    project = make_project(tenant, "Shoot")
    photo = make_photo(project, "IMG_1")
    api = client_for(editor)
    for rating in (1, 2):
        body = {"items": [{"photo_id": photo.pk, "rating": rating}]}
        assert api.post(api_path("photo-rating"), body, format="json").status_code == 200
    client.force_login(editor)
    response = client.post(
        reverse("admin:photos_photo_changelist"),
        {"action": "discard", "_selected_action": [photo.pk], "post": "yes"},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(t.startswith("Discard: Too many bulk photo changes") for t in texts), texts
    assert Photo.objects.get(pk=photo.pk).keep_jpg is True


def test_admin_maintenance_counts_against_the_maintenance_budget(tenant, client, settings):
    set_rate(settings, "maintenance", "1/10min")
    owner = make_user(tenant, "olga", staff=True, role=Role.OWNER)
    staff_permissions_grant(user=owner)
    first, second = make_project(tenant, "A"), make_project(tenant, "B")
    client.force_login(owner)
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "run_maintenance", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert TaskRun.objects.filter(type="maintenance").count() == 1
    assert any(WAIT.search(t) for t in texts), texts
