"""The Content-Security-Policy in a real browser (SPEC §14, docs/SECURITY.md#content-security-policy).

Every page type is loaded in Chromium from the ASGI server with the policy on, and Chromium's
own reports (the ``securitypolicyviolation`` event and the console's "Refused to …" lines)
must stay empty while the page still works: the workspace shows its thumbnails, the dashboard
refreshes itself, the API docs render, a locked-out login shows its page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.enqueue import job_enqueue
from jobs.models import Job
from projects.services import staff_permissions_grant
from tests.browser.test_cull_workspace import index, shoot
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"

# Runs before any script of each page (Playwright injects it outside the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


class Violations:
    """What Chromium reported on the pages visited so far."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.console: list[str] = []
        self.events: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.console.append(msg.text)
                if "Content Security Policy" in msg.text or "Refused to" in msg.text
                else None
            ),
        )

    def collect(self, where: str) -> None:
        self.events += [f"{where}: {v}" for v in self.page.evaluate("window.__cspViolations")]

    def all(self) -> list[str]:
        return self.console + self.events


def visit(page, violations: Violations, url: str, ready: str) -> None:  # type: ignore[no-untyped-def]
    """Load ``url`` and wait for ``ready``, a function: a bare expression would be evaluated
    with eval(), which the policy refuses."""
    response = page.goto(url)
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, url
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0], url
    page.wait_for_function(ready)
    violations.collect(url)


def test_pages_work_with_the_policy_and_report_no_violation(
    browser, asgi_live_server, transactional_db, tenant, settings, artifacts
):
    settings.PIPELINE_DASHBOARD_POLL_MS = 300
    staff = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=staff)
    make_user(tenant, "sam", staff=True, password=PASSWORD)
    project = make_project(tenant, "Iceland July 2025")
    shoot(project, 3, raw=False)
    index(project)
    job = job_enqueue(tenant=tenant, type="test_noop", project=project, priority=95)[0]
    Job.objects.filter(pk=job.pk).update(progress_done=1, progress_total=4)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    violations = Violations(page)
    base = asgi_live_server.url

    # The login page, then a lockout: the axes page is a page like the others.
    visit(
        page,
        violations,
        base + reverse("admin:login"),
        "() => document.querySelector('#id_username')",
    )
    for n in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "sam")
        page.fill("#id_password", f"guess-{n}")
        page.click("input[type=submit]")
        page.wait_for_load_state()
    assert page.locator("#login-locked").count() == 1
    violations.collect("lockout page")

    page.goto(base + reverse("admin:login"))
    page.fill("#id_username", "stella")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    violations.collect("admin index")

    # The job list: status badges and progress bars are classes, not style attributes.
    visit(
        page,
        violations,
        base + reverse("admin:jobs_job_changelist"),
        "() => document.querySelector('.pl-badge') && document.querySelector('progress.pl-progress')",
    )
    # The dashboard refreshes itself from its static script.
    visit(
        page,
        violations,
        base + reverse("admin:jobs_job_dashboard"),
        "() => document.getElementById('pipeline-dashboard').dataset.refreshed",
    )
    # The workspace renders its grid with thumbnails.
    visit(
        page,
        violations,
        base + f"/admin/cull/?project={project.pk}",
        """() => {
            const images = [...document.querySelectorAll('.cull-tile img')];
            return images.length === 3 && images.every((i) => i.complete && i.naturalWidth > 0);
        }""",
    )
    page.screenshot(path=str(artifacts / "workspace.png"))
    # The API docs (Swagger UI from drf-spectacular-sidecar) render the operations.
    visit(page, violations, base + "/api/docs/", "() => document.querySelector('.opblock')")
    page.screenshot(path=str(artifacts / "api-docs.png"))
    # DRF's browsable API.
    visit(
        page, violations, base + "/api/projects/", "() => document.querySelector('.response-info')"
    )
    # An error page.
    response = page.goto(base + "/admin/no-such-page/")
    assert response is not None
    assert response.status == 404
    assert "content-security-policy" in response.headers
    violations.collect("404")

    assert violations.all() == []
