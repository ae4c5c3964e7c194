"""The workspace hides what the role may not do (SPEC §14), in a real browser."""

from __future__ import annotations

import pytest

from photos.models import Photo
from projects.roles import Role
from projects.services import staff_permissions_grant
from tests.browser.test_cull_workspace import PASSWORD, index, login, shoot
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser


def test_viewer_sees_no_commit_button_and_keys_do_not_cull(
    browser, asgi_live_server, tenant, transactional_db
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 2)
    index(project)
    viewer = make_user(tenant, "vic", staff=True, password=PASSWORD, role=Role.VIEWER)
    staff_permissions_grant(user=viewer)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    login(page, asgi_live_server, viewer.username)
    writes: list[str] = []
    page.on("request", lambda r: writes.append(r.url) if r.method != "GET" else None)
    page.goto(asgi_live_server.url + f"/admin/cull/?project={project.pk}")
    page.wait_for_selector("#cull[data-ready=true]")
    page.wait_for_selector(".cull-tile")
    assert page.is_hidden('[data-action="commit"]')
    assert page.is_hidden('[data-action="discard"]')
    assert page.is_hidden("#cull-rate")
    assert page.is_visible('[data-action="loupe"]')
    page.focus("#cull-grid")
    page.keyboard.press("x")
    page.wait_for_selector(".cull-message-error")
    assert "Your role (viewer) may not" in page.inner_text("#cull-messages")
    assert writes == []
    assert not Photo.objects.filter(project=project, keep_jpg=False).exists()
    page.close()
