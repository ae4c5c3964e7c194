"""Resumable uploads in the workspace (photos/static/photos/cull/tus.js, upload.js; SPEC §9).

A dropped file goes through ``/api/uploads/`` (tus) with the page's session and CSRF token; a
chunk whose connection is cut resumes and the photo is imported once, byte-identical; a name
the project has already is refused with an offer to keep both, renamed; a pre-rated shoot
dropped with its sidecars keeps them.
"""

from __future__ import annotations

import random

import pytest

from jobs.runtime import drain
from photos.models import Photo, ResumableUpload
from photos.storage import project_dir
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import (
    drop_files,
    index,
    login,
    open_workspace,
    shoot,
)
from tests.factories import jpeg_bytes, make_project

pytestmark = pytest.mark.browser

photographer = workspace.photographer

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.fixture
def page(browser, photographer, asgi_live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, asgi_live_server, photographer.username)
    page.errors = errors
    yield page
    context.close()


def test_an_upload_whose_connection_is_cut_resumes_and_completes(page, asgi_live_server, tenant):
    project = make_project(tenant, "Wedding")
    shoot(project, 1, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    data = jpeg_bytes(size=(900, 600), color=(random.randrange(256), 80, 120))
    seen: list[str] = []

    def cut_the_first_patch(route) -> None:  # type: ignore[no-untyped-def]
        request = route.request
        seen.append(request.method)
        if request.method == "PATCH" and seen.count("PATCH") == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/**", cut_the_first_patch)
    drop_files(page, {"CUT_0001.jpg": data})
    page.wait_for_selector("#cull-upload:has-text('Uploaded 1 of 1 file(s).')", timeout=20_000)
    # The cut chunk was sent again after asking the server where the upload stood.
    assert seen[:3] == ["PATCH", "HEAD", "PATCH"]
    assert (project_dir(project) / "CUT_0001.jpg").read_bytes() == data
    assert Photo.objects.filter(project=project, basename="CUT_0001").count() == 1
    assert ResumableUpload.objects.get().completed_at is not None
    assert not [p for p in project_dir(project).iterdir() if p.name.endswith(".tmp")]
    drain()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")
    assert page.errors == []


def test_a_taken_name_is_offered_a_rename_that_keeps_both(page, asgi_live_server, tenant):
    project = make_project(tenant, "Wedding")
    shoot(project, 1, raw=False)
    index(project)
    first = (project_dir(project) / "IMG_0001.jpg").read_bytes()
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    second = jpeg_bytes(size=(300, 200), make="Canon", model="Canon EOS R6")
    drop_files(page, {"IMG_0001.jpg": second})
    summary = page.locator("#cull-upload")
    summary.locator("text=Uploaded 0 of 1 file(s); 1 refused.").wait_for()
    assert "already exists" in summary.inner_text()
    summary.get_by_role("button", name="{basename}_{camera}").click()
    summary.locator("text=Uploaded 1 of 1 file(s); 1 renamed.").wait_for()
    assert "IMG_0001.jpg → IMG_0001_Canon-EOS-R6.jpg" in summary.inner_text()
    assert (project_dir(project) / "IMG_0001.jpg").read_bytes() == first
    assert (project_dir(project) / "IMG_0001_Canon-EOS-R6.jpg").read_bytes() == second
    assert page.errors == []


def test_a_pre_rated_shoot_dropped_keeps_its_sidecars(page, asgi_live_server, tenant):
    project = make_project(tenant, "Wedding")
    shoot(project, 1, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    # The sidecar first, as a file manager may list it: the photo is sent before it.
    drop_files(page, {"RATED_0001.xmp": XMP, "RATED_0001.jpg": jpeg_bytes(size=(300, 200))})
    page.wait_for_selector("#cull-upload:has-text('Uploaded 2 of 2 file(s).')", timeout=20_000)
    assert (project_dir(project) / "RATED_0001.xmp").read_bytes() == XMP
    drain()
    photo = Photo.objects.get(project=project, basename="RATED_0001")
    assert photo.rating == 5
    assert page.errors == []
