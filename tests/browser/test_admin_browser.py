"""The staff admin in a real browser: tenant scoping, cancelling a job, the live dashboard.

Scenario (SPEC §11): a staff user of tenant A logs in, sees only A's jobs, opens a job, cancels
a queued job and watches the dashboard counts change without reloading it; a superuser filters
the job list by tenant.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jobs.enqueue import job_enqueue
from jobs.models import Job, JobStatus
from projects.services import staff_permissions_grant
from tests.factories import make_project, make_user

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
STREAM_PATH = "/api/events/stream"


def login(page, live_server, username: str) -> None:
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def lane_count(page, lane: str, field: str) -> str:
    return page.inner_text(f'tr[data-lane="{lane}"] [data-field="{field}"]').strip()


def listed_job_ids(page) -> set[int]:
    return {
        int(text)
        for text in page.locator(
            "#result_list tbody th.field-id a, #result_list tbody td.field-id a"
        ).all_inner_texts()
    }


@pytest.fixture
def pipeline(transactional_db, tenant, other_tenant):
    own_project = make_project(tenant, "Iceland July 2025")
    foreign_project = make_project(other_tenant, "Globex Secret Shoot")
    own = [
        job_enqueue(tenant=tenant, type="test_noop", project=own_project, priority=95)[0]
        for _ in range(3)
    ]
    foreign = [
        job_enqueue(tenant=other_tenant, type="test_noop", project=foreign_project, priority=95)[0]
        for _ in range(2)
    ]
    return {"own": own, "foreign": foreign, "foreign_project": foreign_project}


def test_staff_sees_own_jobs_cancels_one_and_the_dashboard_follows(
    browser, live_server, pipeline, tenant, settings, artifacts
):
    staff = make_user(tenant, "stella", staff=True, password=PASSWORD)
    staff_permissions_grant(user=staff)
    # Only events may refresh the dashboard here: the fallback poll is pushed out of the way,
    # and the event stream is played by the browser (the live server cannot stream).
    settings.PIPELINE_DASHBOARD_POLL_MS = 600_000
    canceled = {"done": False}

    def stream(route) -> None:  # type: ignore[no-untyped-def]
        body = "retry: 300\n: keep-alive\n\n"
        if canceled["done"]:
            body = 'retry: 300\nid: 1\nevent: job_canceled\ndata: {"type": "job_canceled"}\n\n'
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(f"**{STREAM_PATH}*", stream)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, "stella")

    # The dashboard, left open in its own tab.
    dashboard = context.new_page()
    dashboard.on("pageerror", lambda exc: errors.append(str(exc)))
    dashboard.goto(live_server.url + reverse("admin:jobs_job_dashboard"))
    assert lane_count(dashboard, "priority", "queued") == "3"
    dashboard.screenshot(path=str(artifacts / "1-dashboard-before.png"), full_page=True)

    # The job list shows tenant A's jobs only, and no trace of tenant B.
    page.goto(live_server.url + reverse("admin:jobs_job_changelist"))
    assert listed_job_ids(page) == {job.pk for job in pipeline["own"]}
    assert pipeline["foreign_project"].name not in page.content()
    assert page.locator("text=3 jobs").count() == 1
    page.screenshot(path=str(artifacts / "2-job-list.png"), full_page=True)

    # Open a queued job and cancel it with the button on its page.
    target = pipeline["own"][0]
    page.click(f'#result_list a[href$="/jobs/job/{target.pk}/change/"]')
    page.wait_for_selector("#job-cancel")
    assert page.locator(".pl-badge", has_text="queued").count() >= 1
    page.screenshot(path=str(artifacts / "3-job-page.png"), full_page=True)
    page.click("#job-cancel")
    page.wait_for_selector(f"text=Job #{target.pk} canceled.")
    page.screenshot(path=str(artifacts / "4-job-canceled.png"), full_page=True)
    assert Job.objects.get(pk=target.pk).status == JobStatus.CANCELED

    # The event arrives; the open dashboard reloads its counts without a page load.
    canceled["done"] = True
    dashboard.wait_for_function(
        """() => document.querySelector('tr[data-lane="priority"] [data-field="queued"]')
                 .textContent.trim() === "2" """,
        timeout=15_000,
    )
    assert "event stream" in dashboard.inner_text("#dash-live")
    dashboard.screenshot(path=str(artifacts / "5-dashboard-after.png"), full_page=True)
    assert errors == []
    context.close()


def test_dashboard_polls_when_there_is_no_event_stream(
    browser, live_server, pipeline, tenant, settings, artifacts
):
    # Lanes are shared by every tenant: only an operator (superuser) pauses them, and the
    # operator's counts cover every tenant (3 own + 2 foreign queued jobs).
    make_user(None, "root", superuser=True, password=PASSWORD)
    settings.PIPELINE_DASHBOARD_STREAM_URL = ""
    settings.PIPELINE_DASHBOARD_POLL_MS = 500
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    login(page, live_server, "root")
    page.goto(live_server.url + reverse("admin:jobs_job_dashboard"))
    assert lane_count(page, "priority", "queued") == "5"
    assert "polling" in page.inner_text("#dash-live")

    # Pause the priority lane with its button, then a job changes behind the page's back.
    page.click("#pause-priority")
    page.wait_for_selector("text=Lane 'priority' paused")
    assert page.is_visible("#resume-priority")
    assert not page.is_visible("#pause-priority")
    from jobs.lifecycle import job_cancel

    job_cancel(job_id=pipeline["own"][1].pk)
    page.wait_for_function(
        """() => document.querySelector('tr[data-lane="priority"] [data-field="queued"]')
                 .textContent.trim() === "4" """,
        timeout=10_000,
    )
    assert lane_count(page, "priority", "state") == "paused"
    page.screenshot(path=str(artifacts / "dashboard-polled.png"), full_page=True)
    page.click("#resume-priority")
    page.wait_for_selector("text=Lane 'priority' resumed.")


def test_superuser_filters_jobs_by_tenant(browser, live_server, pipeline, other_tenant, artifacts):
    make_user(None, "root", superuser=True, password=PASSWORD)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, live_server, "root")
    page.goto(live_server.url + reverse("admin:jobs_job_changelist"))
    everyone = {job.pk for job in pipeline["own"] + pipeline["foreign"]}
    assert listed_job_ids(page) == everyone
    page.screenshot(path=str(artifacts / "1-all-tenants.png"), full_page=True)

    page.locator("#changelist-filter a", has_text=other_tenant.name).click()
    page.wait_for_url(re.compile(rf"tenant__id__exact={other_tenant.pk}"))
    assert listed_job_ids(page) == {job.pk for job in pipeline["foreign"]}
    page.screenshot(path=str(artifacts / "2-filtered-by-tenant.png"), full_page=True)
