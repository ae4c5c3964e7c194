"""Content-Security-Policy on every page (SPEC §14, docs/SECURITY.md#content-security-policy).

Every page type answers with the policy, and no page's policy lets inline script run; the
templates and the HTML the admin builds carry no inline script, event handler or style. The
browser side (no violation reported while the pages work) is tests/browser/test_csp_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import include, path, reverse

from core.admin_display import progress_bar, status_badge
from jobs.enqueue import job_enqueue
from projects.services import staff_permissions_grant
from tests.factories import make_user
from tests.urls import api_path

PASSWORD = "pw-for-tests-1"


def boom(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("an unexpected failure")


# This module's URLs: the product's, plus a view that fails (for the 500 page).
urlpatterns = [path("boom/", boom), path("", include("config.urls"))]


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.status_code} without a Content-Security-Policy"
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def assert_strict_scripts(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = directives(response)
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts == ["'self'"], scripts
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    return policy


@pytest.fixture
def staff_client(client, tenant, project):  # type: ignore[no-untyped-def]
    staff = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=staff)
    client.force_login(staff)
    return client


def test_admin_and_workspace_pages_have_the_strict_policy(staff_client, tenant, project):
    job = job_enqueue(tenant=tenant, type="test_noop", project=project, priority=95)[0]
    pages = [
        reverse("admin:index"),
        reverse("admin:jobs_job_changelist"),
        reverse("admin:jobs_job_change", args=[job.pk]),
        reverse("admin:jobs_job_dashboard"),
        reverse("admin:projects_project_changelist"),
        reverse("admin:photos_photo_changelist"),
        "/admin/cull/",
    ]
    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        policy = assert_strict_scripts(response)
        # The product's own pages need no inline style either.
        assert policy["style-src"] == ["'self'"], url
        assert policy["img-src"] == ["'self'"], url


def test_login_logout_and_lockout_pages_have_the_strict_policy(client, tenant):
    make_user(tenant, "stella", staff=True, password=PASSWORD)
    assert_strict_scripts(client.get(reverse("admin:login")))
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("admin:login"), {"username": "stella", "password": f"x{n}"})
    assert response.status_code == 429
    assert directives(response)["style-src"] == ["'self'"]
    assert_strict_scripts(response)


def test_api_docs_load_their_script_from_this_origin(staff_client):
    page = staff_client.get(api_path("api-docs"))
    policy = assert_strict_scripts(page)
    # Swagger UI's stylesheet draws its icons as data: images; nothing else is relaxed.
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["style-src"] == ["'self'"]
    html = page.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script on /api/docs/"
    script = staff_client.get(api_path("api-docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_api_answers_and_the_browsable_api_have_the_strict_script_policy(staff_client):
    assert_strict_scripts(
        staff_client.get(api_path("project-list"), HTTP_ACCEPT="application/json")
    )
    browsable = staff_client.get(api_path("project-list"), HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")
    policy = assert_strict_scripts(browsable)
    # DRF's own templates carry inline styles (core/api/renderers.py): styles only.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


@pytest.mark.urls("tests.test_csp")
def test_error_pages_have_the_strict_policy(client, db):
    assert_strict_scripts(client.get("/no-such-page/"))
    assert_strict_scripts(client.get("/api/no-such-thing/"))
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_strict_scripts(response)


TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_templates_have_no_inline_script_handler_or_style():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for name, pattern in (
            ("inline script", INLINE_SCRIPT),
            ("event handler", EVENT_HANDLER),
            ("inline style", INLINE_STYLE),
        ):
            if pattern.search(text):
                found.append(f"{template.relative_to(TEMPLATES)}: {name}")
    assert found == []


# HTML that scripts build: an attribute with a quoted value (``onclick="…"``, ``style='…'``)
# or a script element inside a string. Property assignments (``xhr.onload = f``) are fine.
SCRIPT_BUILT_INLINE = re.compile(r"""\s(on[a-z]+|style)\s*=\s*\\?["']|<script""", re.I)
SCRIPT_FOLDERS = [Path(settings.BASE_DIR) / "static", Path(settings.BASE_DIR) / "photos" / "static"]


def test_scripts_build_no_inline_handler_style_or_script():
    found = [
        f"{script.name}:{number}: {line.strip()}"
        for folder in SCRIPT_FOLDERS
        for script in sorted(folder.rglob("*.js"))
        for number, line in enumerate(script.read_text().splitlines(), 1)
        if SCRIPT_BUILT_INLINE.search(line)
    ]
    assert found == []


def test_admin_badges_and_progress_bars_have_no_style_attribute():
    html = status_badge("failed") + progress_bar(3, 4) + status_badge("something-new")
    assert "style=" not in html
    assert 'class="pl-badge pl-status-failed"' in html
    assert '<progress class="pl-progress"' in html
    assert 'value="75"' in html
