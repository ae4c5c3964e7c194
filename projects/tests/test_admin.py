"""The project, tenant and membership admins: counts, actions through the services, scoping."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs.models import Event, Job, TaskRun
from photos.admin_projects import ProjectAdmin
from photos.models import Photo
from projects.models import Project, Tenant
from tests.factories import make_photo, make_project, make_user

CHANGELIST = "admin:projects_project_changelist"


def post_action(client, action: str, projects: list[Project]):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in projects]},
        follow=True,
    )


def test_project_list_shows_counts_for_own_tenant_only(staff_client, project, other_project):
    make_photo(project, "IMG_1")
    make_photo(project, "IMG_2", keep_jpg=False)
    make_photo(project, "IMG_3", raw=True, keep_raw=False)
    make_photo(other_project, "IMG_X", keep_jpg=False)
    response = staff_client.get(reverse(CHANGELIST))
    rows = list(response.context["cl"].result_list)
    assert [p.pk for p in rows] == [project.pk]
    assert (rows[0].photo_count, rows[0].pending_delete_count) == (3, 2)
    assert other_project.name not in response.content.decode()


def test_project_list_reads_the_kept_counts_and_sorts_by_them(staff_client, tenant):
    few = make_project(tenant, "Few", create_dir=False)
    many = make_project(tenant, "Many", create_dir=False)
    make_project(tenant, "None yet", create_dir=False)  # no counts row: listed as 0
    make_photo(few, "F1", write=False, keep_jpg=False)
    for i in range(3):
        make_photo(many, f"M{i}", write=False)
    columns = ProjectAdmin.list_display
    photos_o = 1 + columns.index("photos_column")  # 0 is the action checkbox
    pending_o = 1 + columns.index("pending_column")

    def listed(order: str) -> list[tuple[str, int, int]]:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(reverse(CHANGELIST), {"o": order})
        assert response.status_code == 200
        # The counts come from the table the triggers keep, never from counting photos.
        assert not [q["sql"] for q in ctx.captured_queries if "photos_photo" in q["sql"]]
        return [
            (p.name, p.photo_count, p.pending_delete_count)
            for p in response.context["cl"].result_list
        ]

    assert listed(f"{photos_o}.1") == [("None yet", 0, 0), ("Few", 1, 1), ("Many", 3, 0)]
    assert listed(f"-{photos_o}.1") == [("Many", 3, 0), ("Few", 1, 1), ("None yet", 0, 0)]
    assert listed(f"-{pending_o}.1")[0] == ("Few", 1, 1)


def test_project_list_queries_do_not_grow(staff_client, tenant):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(reverse(CHANGELIST)).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        make_photo(make_project(tenant, f"Small {i}", create_dir=False), write=False)
    small = count()
    for i in range(30):
        p = make_project(tenant, f"Big {i}", create_dir=False)
        make_photo(p, write=False, keep_jpg=False)
        make_photo(p, write=False)
    assert count() == small


def test_commit_action_starts_the_commit_task_through_the_service(staff_client, project):
    dropped = make_photo(project, "IMG_DROP", keep_jpg=False)
    make_photo(project, "IMG_KEEP")
    response = post_action(staff_client, "commit_changes", [project])
    task = TaskRun.objects.get(type="change_commit")
    assert task.project_id == project.pk
    items = list(Job.objects.get(task=task).items.values_list("photo_id", flat=True))
    assert items == [dropped.pk]
    assert f"commit started for 1 photo(s), task {task.pk}" in response.content.decode()


def test_commit_action_with_nothing_pending_says_so(staff_client, project):
    make_photo(project, "IMG_KEEP")
    response = post_action(staff_client, "commit_changes", [project])
    assert not TaskRun.objects.exists()
    assert f"{project.name}: " in response.content.decode()


def test_revert_action_restores_keep_flags(staff_client, project):
    photo = make_photo(project, "IMG_DROP", keep_jpg=False)
    response = post_action(staff_client, "revert_changes", [project])
    photo.refresh_from_db()
    assert photo.keep_jpg is True
    assert "reverted 1 photo(s)" in response.content.decode()


def test_process_action_starts_derivative_generation(staff_client, project):
    make_photo(project, "IMG_1")
    response = post_action(staff_client, "process_photos", [project])
    task = TaskRun.objects.get(type="generate_derivatives")
    assert task.project_id == project.pk
    assert "processing started" in response.content.decode()


def test_maintenance_action_is_single_flight(staff_client, project):
    first = post_action(staff_client, "run_maintenance", [project])
    assert "maintenance started" in first.content.decode()
    second = post_action(staff_client, "run_maintenance", [project])
    assert "already queued or running" in second.content.decode()
    assert TaskRun.objects.filter(type="maintenance", project=project).count() == 1


def test_actions_never_touch_another_tenants_projects(staff_client, project, other_project):
    make_photo(other_project, "IMG_X", keep_jpg=False)
    post_action(staff_client, "commit_changes", [other_project])
    post_action(staff_client, "run_maintenance", [project, other_project])
    assert not TaskRun.objects.filter(tenant=other_project.tenant).exists()
    assert TaskRun.objects.filter(project=project, type="maintenance").count() == 1


def test_actions_need_the_change_permission(client, tenant, project):
    from django.contrib.auth.models import Permission

    viewer = make_user(tenant, "viewer", staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_project"))
    client.force_login(viewer)
    assert "run_maintenance" not in client.get(reverse(CHANGELIST)).content.decode()
    post_action(client, "run_maintenance", [project])
    assert not TaskRun.objects.exists()


def test_adding_a_project_uses_the_service_and_the_staff_users_tenant(staff_client, tenant):
    response = staff_client.post(reverse("admin:projects_project_add"), {"name": "Wedding: A/B"})
    assert response.status_code == 302
    project = Project.objects.get(name="Wedding: A/B")
    assert project.tenant_id == tenant.pk
    assert project.folder == "Wedding- A-B"
    folder = settings.PHOTOS_ROOT / tenant.slug / project.folder
    assert (folder / ".project.yaml").is_file()
    assert Event.objects.filter(project=project, type="project_discovered").exists()


def test_superuser_picks_the_tenant_of_a_new_project(superuser, other_tenant):
    client = Client()
    client.force_login(superuser)
    client.post(
        reverse("admin:projects_project_add"), {"tenant": other_tenant.pk, "name": "Remote"}
    )
    assert Project.objects.get(name="Remote").tenant_id == other_tenant.pk


def test_renaming_a_project_goes_through_the_service(staff_client, project):
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = staff_client.post(url, {"name": "Iceland August 2025"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Iceland August 2025"
    assert project.folder == "Iceland July 2025"  # the folder follows in maintenance
    event = Event.objects.get(project=project, type="manifest_changed")
    assert event.payload["old_name"] == "Iceland July 2025"


def test_staff_cannot_open_or_rename_another_tenants_project(staff_client, other_project):
    url = reverse("admin:projects_project_change", args=[other_project.pk])
    assert staff_client.get(url).status_code == 302
    staff_client.post(url, {"name": "Hijacked"})
    other_project.refresh_from_db()
    assert other_project.name == "Globex Secret Shoot"


def test_projects_are_not_deleted_from_the_admin(staff_client, project):
    url = reverse("admin:projects_project_delete", args=[project.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()


def grant(user, *codenames: str) -> None:
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def test_staff_get_no_tenant_or_membership_admin_by_default(staff_client):
    assert staff_client.get(reverse("admin:projects_tenant_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:projects_membership_changelist")).status_code == 403


def test_staff_see_only_their_tenant_and_cannot_edit_tenants(
    staff_client, staff, tenant, other_tenant
):
    grant(staff, "view_tenant", "change_tenant", "add_tenant")
    response = staff_client.get(reverse("admin:projects_tenant_changelist"))
    assert [t.pk for t in response.context["cl"].result_list] == [tenant.pk]
    url = reverse("admin:projects_tenant_change", args=[tenant.pk])
    staff_client.post(url, {"slug": tenant.slug, "name": "Renamed"})
    assert Tenant.objects.get(pk=tenant.pk).name == "Acme Studio"
    assert staff_client.get(reverse("admin:projects_tenant_add")).status_code == 403


def test_membership_list_is_scoped(staff_client, staff, other_user):
    grant(staff, "view_membership")
    response = staff_client.get(reverse("admin:projects_membership_changelist"))
    assert [m.user_id for m in response.context["cl"].result_list] == [staff.pk]


def test_superuser_sees_every_project_with_a_tenant_filter(superuser, project, other_project):
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse(CHANGELIST))
    assert {p.pk for p in response.context["cl"].result_list} == {project.pk, other_project.pk}
    filtered = client.get(reverse(CHANGELIST), {"tenant__id__exact": other_project.tenant_id})
    assert [p.pk for p in filtered.context["cl"].result_list] == [other_project.pk]
    assert Photo.objects.count() == 0


def test_admin_refuses_project_names_with_invisible_characters(staff_client, tenant, project):
    add = staff_client.post(reverse("admin:projects_project_add"), {"name": "Wed\u200bding"})
    assert add.status_code == 200
    assert "cannot contain control or invisible characters (U+200B)" in add.content.decode()
    assert not Project.objects.filter(name__contains="Wed").exists()

    change = staff_client.post(
        reverse("admin:projects_project_change", args=[project.pk]), {"name": "Evil\u202eName"}
    )
    assert change.status_code == 200
    assert "(U+202E)" in change.content.decode()
    project.refresh_from_db()
    assert "\u202e" not in project.name
