"""The project write paths every interface shares: tenant and user creation, the starts of
maintenance, discovery and tasks by name, and the one tenant-scoped project fetch."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from core.errors import ApplicationError, NotFoundError
from jobs.exceptions import TaskAlreadyRunning, TaskNotStartable
from jobs.models import TaskRun
from jobs.tasks import task_start
from photos.services.projects import discovery_start, maintenance_start, project_archive
from projects.models import Membership, Project, Tenant
from projects.selectors import ProjectArchived, project_for_user, tenant_for_user
from projects.services import MembershipConflict, tenant_user_ensure
from tests.factories import make_project

# --- tenant and user ----------------------------------------------------------------------


def test_tenant_user_ensure_creates_both_once_and_keeps_the_token(db):
    first = tenant_user_ensure(slug="studio", username="ann", password="a-long-passphrase")
    assert (first.tenant_created, first.user_created) == (True, True)
    assert first.tenant.name == "studio"
    assert Membership.objects.get(user=first.user).role == Membership.Role.OWNER
    assert first.user.check_password("a-long-passphrase")
    assert not first.user.is_staff
    again = tenant_user_ensure(slug="studio", username="ann")
    assert (again.tenant_created, again.user_created) == (False, False)
    assert again.token == first.token
    again.user.refresh_from_db()
    assert again.user.check_password("a-long-passphrase")  # no password given: kept


def test_tenant_user_ensure_staff_gets_the_admin_and_its_permissions(db):
    ensured = tenant_user_ensure(slug="demo", username="dee", staff=True, tenant_name="Demo")
    assert ensured.tenant.name == "Demo"
    assert Membership.objects.get(user=ensured.user).role == Membership.Role.OWNER
    assert ensured.user.is_staff
    assert not ensured.user.is_superuser
    assert ensured.user.has_perm("jobs.change_job")
    assert not ensured.user.has_usable_password()


def test_tenant_user_ensure_sets_the_role_new_or_existing_and_refuses_an_unknown_one(db):
    ensured = tenant_user_ensure(slug="studio", username="cal", role="culler")
    assert Membership.objects.get(user=ensured.user).role == "culler"
    tenant_user_ensure(slug="studio", username="cal")  # no role given: kept
    assert Membership.objects.get(user=ensured.user).role == "culler"
    tenant_user_ensure(slug="studio", username="cal", role="viewer")
    assert Membership.objects.get(user=ensured.user).role == "viewer"
    with pytest.raises(ApplicationError, match="Unknown role 'boss'"):
        tenant_user_ensure(slug="studio", username="cal", role="boss")
    assert Membership.objects.get(user=ensured.user).role == "viewer"


def test_tenant_user_ensure_refuses_a_user_of_another_tenant_and_writes_nothing(db):
    tenant_user_ensure(slug="studio", username="ann")
    with pytest.raises(MembershipConflict, match="already belongs to tenant studio") as refused:
        tenant_user_ensure(slug="other", username="ann")
    assert refused.value.tenant_slug == "studio"
    assert not Tenant.objects.filter(slug="other").exists()
    with pytest.raises(ApplicationError, match="Invalid tenant slug"):
        tenant_user_ensure(slug="../evil", username="bob")
    assert not get_user_model().objects.filter(username="bob").exists()


# --- tenant-scoped fetch ------------------------------------------------------------------


def test_project_for_user_is_the_same_not_found_for_foreign_and_missing(user, other_project):
    with pytest.raises(NotFoundError) as foreign:
        project_for_user(user=user, project=other_project.pk)
    with pytest.raises(NotFoundError) as missing:
        project_for_user(user=user, project=987_654)
    assert str(foreign.value) == f"Project {other_project.pk} not found."
    assert str(missing.value) == "Project 987654 not found."


def test_tenant_for_user_without_membership_is_refused(db, superuser, tenant, user):
    assert tenant_for_user(user=user) == tenant
    with pytest.raises(ApplicationError, match="belongs to no tenant"):
        tenant_for_user(user=superuser)


# --- maintenance and discovery ------------------------------------------------------------


def test_maintenance_start_is_single_flight_per_tenant_and_project(tenant, project):
    started = maintenance_start(tenant=tenant, source="user")
    task = TaskRun.objects.get(pk=started["task_id"])
    assert (task.type, task.project_id, task.source) == ("maintenance_global", None, "user")
    with pytest.raises(TaskAlreadyRunning) as running:
        maintenance_start(tenant=tenant, source="maintenance")
    assert running.value.task_id == started["task_id"]
    one = maintenance_start(tenant=tenant, project=project, source="maintenance")
    assert TaskRun.objects.get(pk=one["task_id"]).type == "maintenance"
    with pytest.raises(TaskAlreadyRunning):
        maintenance_start(tenant=tenant, project=project, source="user")


def test_maintenance_start_refuses_archived_and_foreign_projects(tenant, project, other_project):
    project_archive(project=project)
    with pytest.raises(ProjectArchived, match=f"Project {project.pk} is archived."):
        maintenance_start(tenant=tenant, project=project, source="user")
    with pytest.raises(ApplicationError, match="another tenant"):
        maintenance_start(tenant=tenant, project=other_project, source="user")
    assert not TaskRun.objects.exists()


def test_discovery_start_is_single_flight(tenant):
    started = discovery_start(tenant=tenant, source="user")
    assert TaskRun.objects.get(pk=started["task_id"]).type == "folder_discovery"
    with pytest.raises(TaskAlreadyRunning):
        discovery_start(tenant=tenant, source="maintenance")


# --- tasks by name ------------------------------------------------------------------------


def test_task_start_refuses_project_delete_and_leaves_the_project_active(tenant, project):
    with pytest.raises(TaskNotStartable) as refused:
        task_start(tenant=tenant, task_type="project_delete", project=project, source="command")
    assert refused.value.task_type == "project_delete"
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert not TaskRun.objects.exists()


def test_task_start_refuses_new_work_on_an_archived_project(tenant):
    archived = make_project(tenant, "Old")
    project_archive(project=archived)
    with pytest.raises(ProjectArchived):
        task_start(tenant=tenant, task_type="generate_derivatives", project=archived, source="user")
    assert not TaskRun.objects.exists()


def test_task_start_applies_the_definitions_single_flight(tenant):
    task_start(tenant=tenant, task_type="folder_discovery", source="command")
    with pytest.raises(TaskAlreadyRunning):
        task_start(tenant=tenant, task_type="folder_discovery", source="user")
    first = task_start(tenant=tenant, task_type="test_three_steps", source="user")
    second = task_start(tenant=tenant, task_type="test_three_steps", source="user")
    assert first["task_id"] != second["task_id"]


# --- schema defaults ----------------------------------------------------------------------


def test_project_inserted_without_a_fingerprint_reads_as_never_checked(tenant):
    table = Project._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, uid, name, folder, status, archive_reason,"
            " unaccepted_files, created_at, updated_at)"
            " VALUES (%s, %s, 'Legacy', 'Legacy', 'active', '', 0, %s, %s)",
            [tenant.pk, uuid.uuid4().hex, now, now],
        )
    project = Project.objects.get(folder="Legacy")
    assert project.checked_fingerprint == {}
    # And a project the ORM creates gets the same.
    assert make_project(tenant, "Fresh", create_dir=False).checked_fingerprint == {}
    assert Project.objects.get(name="Fresh").checked_fingerprint == {}
