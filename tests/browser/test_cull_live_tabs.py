"""Two tabs of one user (issue 21 item 5): a change in one shows live in the other, and the tab
that made it does not apply its own echo again. Events carry what the tabs render: no tab
reads a photo or re-aggregates the pending summary for a change made by a user."""

from __future__ import annotations

import pytest

from projects.services import staff_permissions_grant
from tests.browser.test_cull_workspace import (
    PASSWORD,
    index,
    login,
    open_workspace,
    saved,
    shoot,
)
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def stella(transactional_db, tenant):
    user = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=user)
    return user


def watch(page) -> dict[str, list[str]]:
    """The API reads of ``page`` after now: single photos and pending-delete totals."""
    seen: dict[str, list[str]] = {"photo": [], "pending": [], "errors": []}

    def on_request(request) -> None:
        path = request.url.split("?", 1)[0]
        if (
            request.method == "GET"
            and path.rstrip("/").split("/")[-1].isdigit()
            and "/api/photos/" in path
        ):
            seen["photo"].append(request.url)
        if "pending-deletes" in path:
            seen["pending"].append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    return seen


def live(page) -> None:
    page.wait_for_selector("#cull-live[data-state=live]")


def test_a_change_in_one_tab_shows_live_in_the_other_and_not_twice_in_its_own(
    browser, stella, asgi_live_server, tenant
):
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 3)
    index(project)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    a = context.new_page()
    login(a, asgi_live_server, stella.username)
    b = context.new_page()
    open_workspace(a, asgi_live_server, f"?project={project.pk}")
    open_workspace(b, asgi_live_server, f"?project={project.pk}")
    live(a)
    live(b)
    a.wait_for_selector("#cull-pending:has-text('Nothing to trash')")
    b.wait_for_selector("#cull-pending:has-text('Nothing to trash')")
    first = a.evaluate("window.cull.store.photos[0].id")
    reads_a, reads_b = watch(a), watch(b)

    # Tab A discards the first photo's RAW.
    a.keyboard.press("r")
    saved(a)
    # Tab B shows it from the event alone: the flag, and the totals the event carries.
    b.wait_for_function(f"() => window.cull.store.get({first}).keep_raw === false", timeout=15_000)
    b.wait_for_selector("#cull-pending:has-text('To trash: 0 JPG, 1 RAW')", timeout=15_000)
    # Tab A's summary follows the same event; its own item echo arrives and is skipped.
    a.wait_for_selector("#cull-pending:has-text('To trash: 0 JPG, 1 RAW')", timeout=15_000)
    a.wait_for_function("() => window.cull.sync.counts.own >= 1", timeout=15_000)
    assert a.evaluate("window.cull.sync.counts") == {"own": 1, "applied": 0, "fetched": 0}
    assert b.evaluate("window.cull.sync.counts") == {"own": 0, "applied": 1, "fetched": 0}
    assert a.evaluate(f"window.cull.store.get({first}).keep_raw") is False

    # And back: tab B rates the photo, tab A shows it.
    b.keyboard.press("4")
    saved(b)
    a.wait_for_function(f"() => window.cull.store.get({first}).rating === 4", timeout=15_000)
    b.wait_for_function("() => window.cull.sync.counts.own >= 1", timeout=15_000)
    assert a.evaluate("window.cull.sync.counts.applied") == 1
    assert b.evaluate("window.cull.sync.counts.applied") == 1

    # Neither tab re-read a photo or re-aggregated the totals for these changes.
    assert reads_a == {"photo": [], "pending": [], "errors": []}
    assert reads_b == {"photo": [], "pending": [], "errors": []}
    context.close()
