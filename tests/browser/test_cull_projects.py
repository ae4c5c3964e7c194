"""Projects from the workspace (issue 22 item 2): New project in the picker, Rename and Archive
in the project menu, through the projects API; a second browser (another member of the studio)
sees each change live, in its picker and its Move dialog, without a reload."""

from __future__ import annotations

import pytest

from photos.storage import project_dir
from projects.models import Project
from projects.services import staff_permissions_grant
from tests.browser.test_cull_workspace import (
    PASSWORD,
    index,
    login,
    open_workspace,
    shoot,
)
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser

PICKER = "#cull-f-projects-list"


@pytest.fixture
def members(transactional_db, tenant):
    """The studio's owner and an editor, both allowed into the admin."""
    users = []
    for name, role in (("stella", "owner"), ("ansel", "editor")):
        user = make_user(tenant, name, staff=True, role=role, password=PASSWORD)
        staff_permissions_grant(user=user)
        users.append(user)
    return users


def workspace(browser, server, username: str, errors: list[str]):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{username}: {exc}"))
    login(page, server, username)
    open_workspace(page, server)
    page.wait_for_selector("#cull-live[data-state=live]")
    # Set once: still there at the end means the page was never reloaded.
    page.evaluate("window.notReloaded = true")
    return context, page


def in_picker(page, name: str):
    return page.locator(f"{PICKER} label", has_text=name)


def move_choices(page) -> list[str]:
    """The Move dialog's destinations, read by opening it on the first photo, then cancelled."""
    page.locator(".cull-tile").first.click()
    page.click("[data-action=move]")
    page.wait_for_selector("#cull-move-dest")
    names = page.eval_on_selector_all("#cull-move-dest option", "os => os.map(o => o.textContent)")
    page.click("#cull-dialog button[value=cancel]")
    page.wait_for_selector("#cull-dialog", state="hidden")
    return names


def test_a_project_made_renamed_and_archived_in_one_browser_shows_live_in_another(
    browser, members, asgi_live_server, tenant
):
    iceland = make_project(tenant, "Iceland")
    shoot(iceland, 1)
    index(iceland)
    errors: list[str] = []
    a_context, a = workspace(browser, asgi_live_server, "stella", errors)
    b_context, b = workspace(browser, asgi_live_server, "ansel", errors)
    assert move_choices(b) == ["Iceland"]

    # New project, from the picker of browser A.
    a.click("#cull-f-projects-summary")
    a.click("#cull-project-new")
    a.fill("#cull-project-name", "Wedding Anna")
    a.click("#cull-dialog-ok")
    a.wait_for_selector("#cull-f-projects-summary:has-text('Wedding Anna')")
    made = Project.objects.get(tenant=tenant, name="Wedding Anna")
    assert project_dir(made).is_dir()
    # A shows the new project: the filter is on it, its box checked.
    assert a.is_checked(f"{PICKER} input[value='{made.pk}']")
    # B sees it arrive from the event stream: the picker and the Move dialog.
    in_picker(b, "Wedding Anna").wait_for(state="attached", timeout=15_000)
    assert move_choices(b) == ["Iceland", "Wedding Anna"]

    # Rename, from A's project menu (the project the filter shows is the one offered).
    a.click("#cull-project-menu summary")
    a.click("#cull-project-rename")
    assert a.eval_on_selector("#cull-project-pick", "s => s.value") == str(made.pk)
    a.fill("#cull-project-rename-to", "Anna & Tom")
    a.click("#cull-dialog-ok")
    a.wait_for_selector("#cull-f-projects-summary:has-text('Anna & Tom')")
    in_picker(b, "Anna & Tom").wait_for(state="attached", timeout=15_000)
    assert in_picker(b, "Wedding Anna").count() == 0
    assert move_choices(b) == ["Anna & Tom", "Iceland"]

    # Archive, from A's project menu: it leaves both browsers; its folder stays on disk.
    a.click("#cull-project-menu summary")
    a.click("#cull-project-archive")
    a.click("#cull-dialog-ok")
    a.wait_for_selector("#cull-f-projects-summary:has-text('All projects')")
    in_picker(b, "Anna & Tom").wait_for(state="detached", timeout=15_000)
    assert in_picker(a, "Anna & Tom").count() == 0
    assert move_choices(b) == ["Iceland"]
    made.refresh_from_db()
    assert made.status == Project.Status.ARCHIVED
    assert project_dir(made).is_dir()

    assert a.evaluate("window.notReloaded")
    assert b.evaluate("window.notReloaded")
    assert errors == []
    a_context.close()
    b_context.close()


def test_a_viewer_sees_no_project_controls_and_the_api_refuses_them(
    browser, asgi_live_server, tenant
):
    viewer = make_user(tenant, "vivian", staff=True, role="viewer", password=PASSWORD)
    staff_permissions_grant(user=viewer)
    project = make_project(tenant, "Iceland")
    shoot(project, 1)
    index(project)
    errors: list[str] = []
    context, page = workspace(browser, asgi_live_server, "vivian", errors)
    page.click("#cull-f-projects-summary")
    assert page.is_hidden("#cull-project-new")
    assert page.is_hidden("#cull-project-menu")
    status = page.evaluate(
        """async (id) => {
            const csrf = document.getElementById("cull").dataset.csrf;
            const reply = await fetch(`/api/projects/${id}/`, {
                method: "PATCH",
                headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                body: JSON.stringify({status: "archived"}),
            });
            return reply.status;
        }""",
        project.pk,
    )
    assert status == 403
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert errors == []
    context.close()
