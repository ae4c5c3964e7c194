"""The pipeline admin: tenant scoping, job actions, job and task pages, the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.admin import JobAdmin
from jobs.dashboard import dashboard_snapshot
from jobs.enqueue import job_enqueue
from jobs.lifecycle import job_claim, job_fail
from jobs.models import Event, Job, JobItem, JobStatus, LaneState, TaskRun
from jobs.registry import ItemRef
from jobs.tasks import start_task
from projects.services import staff_permissions_grant
from tests.factories import make_item, make_project, make_user

CHANGELIST = "admin:jobs_job_changelist"


def enqueue(tenant, *, priority=50, project=None, **kw) -> Job:
    return job_enqueue(tenant=tenant, type="test_noop", priority=priority, project=project, **kw)[0]


def listed_ids(response) -> set[int]:
    return {job.pk for job in response.context["cl"].result_list}


# --- scoping --------------------------------------------------------------------------------


def test_staff_sees_only_their_tenants_jobs(staff_client, tenant, other_tenant, project):
    own = [enqueue(tenant, project=project), enqueue(tenant, priority=95)]
    foreign = enqueue(other_tenant)
    response = staff_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert listed_ids(response) == {job.pk for job in own}
    assert foreign.pk not in listed_ids(response)


def test_staff_cannot_open_or_act_on_another_tenants_job(staff_client, other_tenant):
    foreign = enqueue(other_tenant)
    page = staff_client.get(reverse("admin:jobs_job_change", args=[foreign.pk]))
    assert page.status_code == 302  # "doesn't exist" redirect, like an unknown id
    cancel = staff_client.post(reverse("admin:jobs_job_cancel", args=[foreign.pk]))
    assert cancel.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == JobStatus.QUEUED


def test_staff_filters_never_list_other_tenants_projects(
    staff_client, tenant, project, other_project
):
    enqueue(tenant, project=project)
    response = staff_client.get(reverse(CHANGELIST))
    content = response.content.decode()
    assert project.name in content
    assert other_project.name not in content
    assert "tenant__id__exact" not in content  # no tenant filter for staff


def test_staff_filtering_by_another_tenants_project_shows_nothing(
    staff_client, other_tenant, other_project
):
    enqueue(other_tenant, project=other_project)
    response = staff_client.get(reverse(CHANGELIST), {"project__id__exact": other_project.pk})
    assert listed_ids(response) == set()


def test_superuser_sees_all_tenants_and_filters_by_tenant(super_client, tenant, other_tenant):
    own, foreign = enqueue(tenant), enqueue(other_tenant)
    everything = super_client.get(reverse(CHANGELIST))
    assert {own.pk, foreign.pk} <= listed_ids(everything)
    assert "tenant__id__exact" in everything.content.decode()
    filtered = super_client.get(reverse(CHANGELIST), {"tenant__id__exact": other_tenant.pk})
    assert listed_ids(filtered) == {foreign.pk}


def test_foreign_key_choices_are_limited_to_the_users_tenant(
    rf, staff, tenant, project, other_project
):
    request = rf.get("/")
    request.user = staff
    field = JobAdmin(Job, site).formfield_for_foreignkey(Job._meta.get_field("project"), request)
    assert list(field.queryset) == [project]
    tenant_field = JobAdmin(Job, site).formfield_for_foreignkey(
        Job._meta.get_field("tenant"), request
    )
    assert list(tenant_field.queryset) == [tenant]


def test_user_without_a_tenant_sees_no_jobs(client, tenant):
    enqueue(tenant)
    loner = make_user(None, "loner", staff=True)
    staff_permissions_grant(user=loner)
    client.force_login(loner)
    # Without a membership there is no role, and no role may read (SPEC §14).
    assert client.get(reverse(CHANGELIST)).status_code == 403


# --- list: columns, filters, search, queries --------------------------------------------------


def test_job_list_shows_progress_bar_lane_attempts_and_age(staff_client, tenant, project):
    job = enqueue(tenant, project=project, priority=95)
    Job.objects.filter(pk=job.pk).update(progress_done=3, progress_total=4, attempts=2)
    content = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert 'class="pl-progress"' in content
    assert "3/4 (75%)" in content
    assert 'priority <small class="pl-muted" title="priority">95</small>' in content
    # A retried job's attempts are beside its status (issue 22: fewer columns at 1440 px).
    assert "attempt 2/3" in content


def test_lane_and_status_filters(staff_client, tenant):
    urgent = enqueue(tenant, priority=100)
    normal = enqueue(tenant, priority=10)
    lane = staff_client.get(reverse(CHANGELIST), {"lane": "priority"})
    assert listed_ids(lane) == {urgent.pk}
    Job.objects.filter(pk=normal.pk).update(status=JobStatus.FAILED)
    failed = staff_client.get(reverse(CHANGELIST), {"status__exact": "failed"})
    assert listed_ids(failed) == {normal.pk}


def test_type_filter_offers_only_own_job_types(staff_client, tenant, other_tenant):
    job_enqueue(tenant=tenant, type="test_sleep")
    job_enqueue(tenant=other_tenant, type="test_always_fails")
    content = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "?type=test_sleep" in content
    assert "test_always_fails" not in content


def test_search_by_task_id_and_prefix(staff_client, tenant, project):
    started = start_task("maintenance", tenant, project=project)
    enqueue(tenant)
    full = staff_client.get(reverse(CHANGELIST), {"q": started["task_id"]})
    assert listed_ids(full) == {started["first_job_id"]}
    prefix = staff_client.get(reverse(CHANGELIST), {"q": started["task_id"][:8]})
    assert listed_ids(prefix) == {started["first_job_id"]}
    by_type = staff_client.get(reverse(CHANGELIST), {"q": "trash_maint"})
    assert listed_ids(by_type) == {started["first_job_id"]}


def _make_jobs(tenant, count: int) -> None:
    projects = [make_project(tenant, create_dir=False) for _ in range(5)]
    tasks = [TaskRun.objects.create(type="maintenance", tenant=tenant) for _ in range(5)]
    Job.objects.bulk_create(
        Job(
            tenant=tenant,
            project=projects[i % 5],
            task=tasks[i % 5],
            type=f"type_{i % 7}",
            priority=(i * 13) % 120,
            progress_total=10,
            progress_done=i % 10,
        )
        for i in range(count)
    )


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_job_list_runs_a_fixed_number_of_queries(
    staff_client, super_client, tenant, django_assert_max_num_queries
):
    _make_jobs(tenant, 10)
    small = _count_queries(staff_client, reverse(CHANGELIST))
    _make_jobs(tenant, 90)
    assert Job.objects.count() == 100
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse(CHANGELIST))
    assert len(listed_ids(response)) == 100
    assert _count_queries(staff_client, reverse(CHANGELIST)) == small
    # The superuser's extra tenant column is fetched with the page too.
    super_small = _count_queries(super_client, reverse(CHANGELIST))
    _make_jobs(tenant, 50)
    assert _count_queries(super_client, reverse(CHANGELIST)) == super_small


# --- actions --------------------------------------------------------------------------------


def post_action(client, action: str, jobs: list[Job]):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [j.pk for j in jobs]},
        follow=True,
    )


def test_cancel_action_cancels_queued_jobs_with_a_message(staff_client, tenant):
    jobs = [enqueue(tenant), enqueue(tenant)]
    response = post_action(staff_client, "cancel_jobs", jobs)
    assert {Job.objects.get(pk=j.pk).status for j in jobs} == {JobStatus.CANCELED}
    assert "2 job(s) canceled" in response.content.decode()


def test_cancel_action_asks_a_running_job_to_stop(staff_client, tenant):
    enqueue(tenant)
    running = job_claim(worker_id="w")
    response = post_action(staff_client, "cancel_jobs", [running])
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING
    assert running.cancel_requested is True
    assert "asked to stop" in response.content.decode()


def test_cancel_action_reports_finished_jobs(staff_client, tenant):
    job = enqueue(tenant)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)
    response = post_action(staff_client, "cancel_jobs", [job])
    assert "already completed" in response.content.decode()


def test_retry_action_requeues_a_failed_job(staff_client, tenant):
    enqueue(tenant)
    claimed = job_claim(worker_id="w")
    job_fail(job_id=claimed.pk, error="disk full", retry=False)
    response = post_action(staff_client, "retry_jobs", [claimed])
    claimed.refresh_from_db()
    assert claimed.status == JobStatus.QUEUED
    assert claimed.attempts == 0
    assert "queued again" in response.content.decode()


def test_actions_never_touch_another_tenants_jobs(staff_client, tenant, other_tenant):
    own, foreign = enqueue(tenant), enqueue(other_tenant)
    post_action(staff_client, "cancel_jobs", [own, foreign])
    assert Job.objects.get(pk=own.pk).status == JobStatus.CANCELED
    assert Job.objects.get(pk=foreign.pk).status == JobStatus.QUEUED


def test_actions_need_the_change_permission(client, tenant):
    viewer = make_user(tenant, "viewer", staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(viewer)
    job = enqueue(tenant)
    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200
    assert "cancel_jobs" not in listing.content.decode()
    post_action(client, "cancel_jobs", [job])
    assert client.post(reverse("admin:jobs_job_cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


# --- the job page ---------------------------------------------------------------------------


def test_job_page_shows_payload_error_and_paginated_items(staff_client, tenant, project):
    items = [ItemRef(None, f"IMG_{i:04d}") for i in range(120)]
    job = job_enqueue(
        tenant=tenant,
        type="test_record_items",
        project=project,
        items=items,
        payload={"marker": "hello-payload"},
    )[0]
    Job.objects.filter(pk=job.pk).update(error_message="Traceback: <boom> & more")
    url = reverse("admin:jobs_job_change", args=[job.pk])
    first = staff_client.get(url).content.decode()
    assert "hello-payload" in first
    assert "Traceback: &lt;boom&gt; &amp; more" in first  # escaped, not raw HTML
    assert "Items (120)" in first
    assert "IMG_0000" in first
    assert "IMG_0049" in first
    assert "IMG_0050" not in first
    last = staff_client.get(url, {"items_page": 3}).content.decode()
    assert "IMG_0119" in last
    assert "IMG_0000" not in last
    assert 'name="_save"' not in first  # read-only page, no save buttons


def test_cancel_and_retry_buttons_on_the_job_page(staff_client, tenant):
    job = enqueue(tenant)
    url = reverse("admin:jobs_job_change", args=[job.pk])
    assert 'id="job-cancel"' in staff_client.get(url).content.decode()
    assert staff_client.get(reverse("admin:jobs_job_cancel", args=[job.pk])).status_code == 405
    response = staff_client.post(reverse("admin:jobs_job_cancel", args=[job.pk]), follow=True)
    assert f"Job #{job.pk} canceled." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    page = staff_client.get(url).content.decode()
    assert 'id="job-cancel"' not in page
    assert 'id="job-retry"' in page
    staff_client.post(reverse("admin:jobs_job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_cancel_button_requires_csrf(staff, tenant):
    job = enqueue(tenant)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(reverse("admin:jobs_job_cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_jobs_cannot_be_added_and_staff_cannot_delete(staff_client, tenant):
    job = enqueue(tenant)
    assert staff_client.get(reverse("admin:jobs_job_add")).status_code == 403
    assert staff_client.get(reverse("admin:jobs_job_delete", args=[job.pk])).status_code == 403


# --- task runs, items, events ---------------------------------------------------------------


def test_task_run_list_and_page_show_jobs_and_aggregate_progress(
    staff_client, tenant, other_tenant, project
):
    started = start_task("maintenance", tenant, project=project)
    Job.objects.filter(pk=started["first_job_id"]).update(progress_done=2, progress_total=8)
    foreign = start_task("maintenance_global", other_tenant)
    listing = staff_client.get(reverse("admin:jobs_taskrun_changelist"))
    assert [t.pk for t in listing.context["cl"].result_list] == [
        TaskRun.objects.get(pk=started["task_id"]).pk
    ]
    assert "2/8 (25%)" in listing.content.decode()
    page = staff_client.get(
        reverse("admin:jobs_taskrun_change", args=[started["task_id"]])
    ).content.decode()
    assert "trash_maintenance" in page
    assert "step 1 of 4" in page
    assert "0 of 1 job(s) completed" in page
    hidden = staff_client.get(reverse("admin:jobs_taskrun_change", args=[foreign["task_id"]]))
    assert hidden.status_code == 302


def test_task_run_list_queries_do_not_grow(staff_client, tenant):
    for _ in range(3):
        start_task("maintenance_global", tenant)
    small = _count_queries(staff_client, reverse("admin:jobs_taskrun_changelist"))
    for _ in range(20):
        start_task("maintenance_global", tenant)
    assert _count_queries(staff_client, reverse("admin:jobs_taskrun_changelist")) == small


def test_event_admin_is_read_only_and_scoped(staff_client, tenant, other_tenant):
    own = enqueue(tenant)
    enqueue(other_tenant)
    response = staff_client.get(reverse("admin:jobs_event_changelist"))
    events = list(response.context["cl"].result_list)
    assert events
    assert {e.tenant_id for e in events} == {tenant.pk}
    event = Event.objects.filter(job=own).first()
    page = staff_client.get(reverse("admin:jobs_event_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff_client.get(reverse("admin:jobs_event_add")).status_code == 403
    assert staff_client.post(reverse("admin:jobs_event_delete", args=[event.pk])).status_code == 403


def test_job_item_admin_is_scoped(staff_client, tenant, other_tenant, project, other_project):
    own = make_item(project, "IMG_OWN")
    foreign = make_item(other_project, "IMG_FOREIGN")
    job_enqueue(tenant=tenant, type="test_noop", items=[own.pk])
    job_enqueue(tenant=other_tenant, type="test_noop", items=[foreign.pk])
    response = staff_client.get(reverse("admin:jobs_jobitem_changelist"))
    assert [i.basename for i in response.context["cl"].result_list] == ["IMG_OWN"]
    assert JobItem.objects.count() == 2


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture
def busy_pipeline(tenant, other_tenant, project, settings):
    """Jobs in every state in both lanes, plus noise in another tenant."""
    now = timezone.now()
    queued_priority = [enqueue(tenant, priority=95, project=project) for _ in range(2)]
    queued_default = [enqueue(tenant, priority=10) for _ in range(3)]
    running = enqueue(tenant, priority=50)
    Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING, heartbeat_at=now)
    stale = enqueue(tenant, priority=100)
    Job.objects.filter(pk=stale.pk).update(
        status=JobStatus.RUNNING,
        heartbeat_at=now - timedelta(seconds=settings.PIPELINE_STALE_SECONDS + 30),
    )
    failed = enqueue(tenant, priority=50)
    Job.objects.filter(pk=failed.pk).update(
        status=JobStatus.FAILED, finished_at=now - timedelta(hours=2), error_message="boom\nline2"
    )
    old_failure = enqueue(tenant, priority=50)
    Job.objects.filter(pk=old_failure.pk).update(
        status=JobStatus.FAILED, finished_at=now - timedelta(hours=30)
    )
    Job.objects.filter(pk=queued_default[0].pk).update(created_at=now - timedelta(hours=1))
    for _ in range(4):
        enqueue(other_tenant, priority=95)
    return {
        "queued_priority": queued_priority,
        "queued_default": queued_default,
        "stale": stale,
        "failed": failed,
    }


def test_dashboard_snapshot_counts_per_lane_for_the_users_tenant(staff, busy_pipeline):
    snapshot = dashboard_snapshot(user=staff)
    lanes = {lane["lane"]: lane for lane in snapshot["lanes"]}
    assert (lanes["priority"]["queued"], lanes["priority"]["running"]) == (2, 1)
    assert (lanes["default"]["queued"], lanes["default"]["running"]) == (3, 1)
    assert lanes["priority"]["stale"] == 1
    assert lanes["default"]["stale"] == 0
    assert lanes["default"]["failed_24h"] == 1
    assert snapshot["stale"]["jobs"][0]["id"] == busy_pipeline["stale"].pk
    assert [j["id"] for j in snapshot["failures_24h"]["jobs"]] == [busy_pipeline["failed"].pk]
    assert snapshot["failures_24h"]["jobs"][0]["error"] == "boom"
    assert lanes["default"]["oldest_waiting"]["id"] == busy_pipeline["queued_default"][0].pk
    assert lanes["default"]["oldest_waiting"]["age_seconds"] >= 3600
    assert lanes["priority"]["oldest_waiting"]["id"] == busy_pipeline["queued_priority"][0].pk


def test_dashboard_snapshot_runs_a_fixed_number_of_queries(
    staff, busy_pipeline, tenant, django_assert_max_num_queries
):
    for _ in range(30):
        enqueue(tenant, priority=95)
    with django_assert_max_num_queries(8):
        dashboard_snapshot(user=staff)


def test_dashboard_for_a_superuser_counts_every_tenant(superuser, super_client, busy_pipeline):
    lanes = {lane["lane"]: lane for lane in dashboard_snapshot(user=superuser)["lanes"]}
    assert lanes["priority"]["queued"] == 6
    page = super_client.get(reverse("admin:jobs_job_dashboard")).content.decode()
    assert '<strong id="dash-scope">every tenant</strong>' in page


def test_dashboard_page_and_json_endpoint(staff_client, busy_pipeline):
    page = staff_client.get(reverse("admin:jobs_job_dashboard"))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-field="queued"' in content
    assert "/api/events/stream" in content
    assert 'Counts cover <strong id="dash-scope">tenant Acme Studio</strong>' in content
    assert f"#{busy_pipeline['failed'].pk} test_noop" in content
    data = staff_client.get(reverse("admin:jobs_job_dashboard_data")).json()
    lanes = {lane["lane"]: lane for lane in data["lanes"]}
    assert lanes["priority"]["queued"] == 2
    assert lanes["default"]["oldest_waiting"]["url"] == reverse(
        "admin:jobs_job_change", args=[busy_pipeline["queued_default"][0].pk]
    )


def test_dashboard_needs_job_view_permission(client, tenant):
    nobody = make_user(tenant, "nobody", staff=True)
    client.force_login(nobody)
    assert client.get(reverse("admin:jobs_job_dashboard")).status_code == 403
    assert client.get(reverse("admin:jobs_job_dashboard_data")).status_code == 403
    anonymous = Client()
    assert anonymous.get(reverse("admin:jobs_job_dashboard")).status_code == 302


def test_pause_and_resume_a_lane(super_client):
    url = reverse("admin:jobs_job_dashboard_lane", args=["default", "pause"])
    assert super_client.get(url).status_code == 405
    response = super_client.post(url, follow=True)
    assert "Lane &#x27;default&#x27; paused" in response.content.decode()
    assert LaneState.objects.get(lane="default").paused is True
    data = super_client.get(reverse("admin:jobs_job_dashboard_data")).json()
    assert {lane["lane"]: lane["paused"] for lane in data["lanes"]} == {
        "priority": False,
        "default": True,
    }
    super_client.post(reverse("admin:jobs_job_dashboard_lane", args=["default", "resume"]))
    assert LaneState.objects.get(lane="default").paused is False
    unknown = reverse("admin:jobs_job_dashboard_lane", args=["turbo", "pause"])
    assert super_client.post(unknown).status_code == 404


def test_tenant_staff_see_the_lanes_but_cannot_pause_them(staff_client, staff):
    """One studio's staff must not stop every studio's work (SPEC §7, §14)."""
    assert not staff.has_perm("jobs.change_lanestate")
    page = staff_client.get(reverse("admin:jobs_job_dashboard")).content.decode()
    assert 'data-lane="priority"' in page
    assert 'id="pause-priority"' not in page
    assert 'id="resume-priority"' not in page
    for action in ("pause", "resume"):
        url = reverse("admin:jobs_job_dashboard_lane", args=["priority", action])
        assert staff_client.post(url).status_code == 403
    assert not LaneState.objects.filter(paused=True).exists()
    # Even an explicitly granted lane permission does not let staff pause the shared lanes.
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="change_lanestate"))
    url = reverse("admin:jobs_job_dashboard_lane", args=["priority", "pause"])
    assert staff_client.post(url).status_code == 403
    assert not LaneState.objects.filter(paused=True).exists()


def test_superuser_sees_the_pause_buttons(super_client):
    page = super_client.get(reverse("admin:jobs_job_dashboard")).content.decode()
    assert 'id="pause-priority"' in page
    assert 'id="pause-default"' in page


def test_migration_takes_the_lane_permission_back_from_staff(tenant):
    """Staff granted the lane permission before it became superuser-only lose it."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    migration = importlib.import_module("jobs.migrations.0002_lane_changes_superusers_only")
    change = Permission.objects.get(codename="change_lanestate")
    old_staff = make_user(tenant, "oldstaff", staff=True)
    old_staff.user_permissions.add(change, Permission.objects.get(codename="view_lanestate"))
    group = Group.objects.create(name="studio staff")
    group.permissions.add(change)
    root = make_user(None, "oldroot", superuser=True)
    root.user_permissions.add(change)

    migration.revoke_lane_permissions(apps, None)

    old_staff = type(old_staff).objects.get(pk=old_staff.pk)
    assert not old_staff.has_perm("jobs.change_lanestate")
    assert old_staff.has_perm("jobs.view_lanestate")
    assert not group.permissions.filter(codename="change_lanestate").exists()
    assert root.user_permissions.filter(codename="change_lanestate").exists()


def test_regranting_staff_takes_back_an_old_lane_permission(tenant):
    from django.contrib.auth.models import Permission

    user = make_user(tenant, "regrant", staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_lanestate"))
    staff_permissions_grant(user=user)
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_perm("jobs.change_lanestate")
    assert user.has_perm("jobs.change_job")


def test_pausing_needs_permission_and_csrf(client, superuser, tenant):
    viewer = make_user(tenant, "viewer", staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(viewer)
    url = reverse("admin:jobs_job_dashboard_lane", args=["priority", "pause"])
    assert client.post(url).status_code == 403
    assert (
        'id="pause-priority"'
        not in client.get(reverse("admin:jobs_job_dashboard")).content.decode()
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(superuser)
    assert strict.post(url).status_code == 403
    assert not LaneState.objects.filter(paused=True).exists()


def test_admin_index_links_to_the_dashboard(staff_client):
    content = staff_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:jobs_job_dashboard") in content


@pytest.mark.parametrize(
    "changelist",
    ["admin:jobs_event_changelist", "admin:jobs_jobitem_changelist", "admin:jobs_job_changelist"],
)
@pytest.mark.parametrize(
    "term", ["12345678901234567890", "9223372036854775808", "#99999999999999999999", "²"]
)
def test_admin_search_for_huge_numbers_finds_nothing_and_never_fails(
    super_client, tenant, changelist, term
):
    """A number beyond the 64-bit id range overflows the drivers (SQLite and PostgreSQL)."""
    job_enqueue(tenant=tenant, type="test_noop")
    response = super_client.get(reverse(changelist), {"q": term})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_admin_search_by_the_largest_id_still_works(super_client, tenant):
    job = job_enqueue(tenant=tenant, type="test_noop")[0]
    page = super_client.get(reverse("admin:jobs_job_changelist"), {"q": str(job.pk)})
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [job.pk]
    largest = super_client.get(reverse("admin:jobs_job_changelist"), {"q": str(2**63 - 1)})
    assert largest.status_code == 200
