"""Undo commit and the Trash view of the culling workspace (SPEC §9, §17) in Chromium.

The commit and the restore run in the test's process (``drain``), the browser follows them
through the event stream of the ASGI live server, as in ``test_cull_workspace``.
"""

from __future__ import annotations

import pytest

from jobs.runtime import drain
from photos.models import Photo, Tag
from photos.storage import project_dir
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import (
    index,
    login,
    open_workspace,
    shoot,
    tile,
)
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser

# The workspace tests' signed-in staff user (its page fixture, below, checks less).
photographer = workspace.photographer


@pytest.fixture
def page(browser, photographer, asgi_live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, asgi_live_server, photographer.username)
    page.errors = errors
    yield page
    context.close()


def test_commit_then_undo_commit_brings_the_photo_back_with_its_tags(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Wedding")
    shoot(project, 3, raw=False)
    index(project)
    gone = Photo.objects.get(project=project, basename="IMG_0002")
    gone.tags.add(Tag.objects.create(project=project, name="bride"))
    Photo.objects.filter(pk=gone.pk).update(rating=4)

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 3")
    tile(page, "IMG_0002").click()
    page.keyboard.press("x")  # discard
    page.wait_for_selector("#cull-pending:has-text('To trash: 1 JPG')")

    page.click("[data-action=commit]")
    page.wait_for_selector("#cull-dialog[open]")
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Commit started for 1 photo(s)")
    drain()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")
    assert Photo.all_objects.get(pk=gone.pk).trashed_at is not None
    assert (project_dir(project) / ".trash" / "IMG_0002.jpg").is_file()

    page.wait_for_selector("#cull-undo-commit:not([hidden])", timeout=15_000)
    page.screenshot(path=str(artifacts / "undo-offered.png"))
    page.click("#cull-undo-commit")
    page.wait_for_selector("text=Restoring 1 photo(s) from the trash.")
    drain()

    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 3")
    back = Photo.objects.get(pk=gone.pk)
    assert [t.name for t in back.tags.all()] == ["bride"]
    assert back.rating == 4
    assert back.keep_jpg
    assert (project_dir(project) / "IMG_0002.jpg").is_file()
    assert page.errors == []


def test_the_trash_view_lists_and_restores_a_trashed_photo(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Portraits")
    shoot(project, 2, raw=False)
    index(project)
    gone = Photo.objects.get(project=project, basename="IMG_0001")
    from photos.services import photos_commit, photos_keep_update

    owner = make_user(tenant)
    photos_keep_update(user=owner, items=[{"photo_id": gone.pk, "keep_jpg": False}])
    photos_commit(user=owner)
    drain()

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.click("#cull-trash-open")
    page.wait_for_selector("#cull-trash[open] .cull-trash-item")
    assert "IMG_0001" in page.inner_text("#cull-trash-body")
    # Its thumbnail, kept in .thumb/ until the purge, is shown.
    page.wait_for_function(
        "() => { const i = document.querySelector('.cull-trash-thumb');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    page.screenshot(path=str(artifacts / "trash-view.png"))
    page.click("#cull-trash-restore")
    page.wait_for_selector("text=Restoring 1 photo(s) from the trash.")
    drain()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")
    assert Photo.objects.filter(pk=gone.pk).exists()
    assert page.errors == []
