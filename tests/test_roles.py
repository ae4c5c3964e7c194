"""Roles (SPEC §14) enforced alike in the API, the admin and the workspace.

The API matrix lists every endpoint from the URL resolver, so a new endpoint cannot be
forgotten: ``EXPECTED`` must name the action of each one (the test of the list fails
otherwise), and every endpoint is called by every role (viewer, culler, editor, owner, and a
user without a membership). Allowed: anything but 403. Refused: 403, and nothing written (no
event, task, job change, row change or file).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from jobs.enqueue import job_enqueue
from jobs.lifecycle import job_fail
from jobs.models import Event, Job, JobStatus, TaskRun
from jobs.tasks import start_task
from photos.models import Photo, ResumableUpload
from photos.tus import resumable_upload_create
from projects.api.permissions import RolePermission
from projects.models import Project
from projects.roles import MIN_ROLE, ROLE_ORDER, Action, Role, role_allows, task_action
from sharing.models import Export, ShareLink, SharePick
from tests.factories import jpeg_bytes, make_photo, make_project, make_user
from tests.urls import api_path

ROLES = (*ROLE_ORDER, None)  # None: a user without a membership
PUBLIC = "public"  # the API root and its docs answer anyone
STREAM = "stream"  # not a DRF view: the event stream scopes itself (jobs/api/stream.py)

# The action of every (method, URL name) of the API. A new endpoint fails
# ``test_every_api_endpoint_declares_its_action`` until it is added here.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "api-root"): PUBLIC,
    ("GET", "api-schema"): PUBLIC,
    ("GET", "api-docs"): PUBLIC,
    ("GET", "event-stream"): STREAM,
    ("GET", "project-list"): Action.READ,
    ("POST", "project-list"): Action.PROJECT_CREATE,
    ("GET", "project-detail"): Action.READ,
    ("PATCH", "project-detail"): Action.PROJECT_RENAME,
    ("DELETE", "project-detail"): Action.PROJECT_DELETE,
    ("POST", "project-upload"): Action.UPLOAD,
    ("POST", "project-commit-changes"): Action.COMMIT,
    ("POST", "project-revert-changes"): Action.REVERT,
    ("POST", "project-process"): Action.PROCESS,
    ("POST", "project-clock-offset"): Action.PROCESS,
    ("GET", "project-jobs"): Action.READ,
    ("POST", "project-jobs"): "task_type",
    ("GET", "project-trash"): Action.READ,
    ("GET", "photo-list"): Action.READ,
    ("GET", "photo-detail"): Action.READ,
    ("GET", "photo-thumbnail"): Action.READ,
    ("GET", "photo-preview"): Action.READ,
    ("GET", "photo-original"): Action.READ,
    ("GET", "photo-full"): Action.READ,
    ("GET", "photo-screen"): Action.READ,
    ("GET", "photo-pending-deletes"): Action.READ,
    ("POST", "photo-keep"): Action.CULL,
    ("POST", "photo-rating"): Action.CULL,
    ("POST", "photo-tags-add"): Action.CULL,
    ("POST", "photo-tags-remove"): Action.CULL,
    ("POST", "photo-process"): Action.PROCESS,
    ("POST", "photo-move"): Action.MOVE,
    ("POST", "photo-restore"): Action.RESTORE,
    ("POST", "photo-bursts-keep-sharpest"): Action.CULL,
    ("POST", "photo-commit-changes"): Action.COMMIT,
    ("POST", "photo-revert-changes"): Action.REVERT,
    ("POST", "photo-visibility"): Action.VISIBILITY,
    ("GET", "share-list"): Action.READ,
    ("POST", "share-list"): Action.SHARE,
    ("GET", "share-detail"): Action.READ,
    ("PATCH", "share-detail"): Action.SHARE,
    ("DELETE", "share-detail"): Action.SHARE,
    ("GET", "share-picks"): Action.READ,
    ("POST", "share-apply-picks"): Action.SHARE,
    ("GET", "job-list"): Action.READ,
    ("GET", "job-detail"): Action.READ,
    ("GET", "job-items"): Action.READ,
    ("POST", "job-cancel"): Action.JOB_CONTROL,
    ("POST", "job-retry"): Action.JOB_CONTROL,
    ("GET", "task-list"): Action.READ,
    ("POST", "task-list"): "task_type",
    ("GET", "task-detail"): Action.READ,
    ("GET", "task-definitions"): Action.READ,
    ("POST", "maintenance-run"): Action.MAINTENANCE,
    ("POST", "maintenance-discover"): Action.MAINTENANCE,
    ("POST", "upload-list"): Action.UPLOAD,
    ("GET", "upload-detail"): Action.READ,
    ("PATCH", "upload-detail"): Action.UPLOAD,
    ("DELETE", "upload-detail"): Action.UPLOAD,
    ("GET", "export-list"): Action.READ,
    ("POST", "export-list"): Action.EXPORT,
    ("GET", "export-detail"): Action.READ,
    ("GET", "export-download"): Action.READ,
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_endpoints() -> set[tuple[str, str]]:
    """Every (method, URL name) under ``/api/``, read from the URL resolver."""
    found = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        assert pattern.name, f"every API URL has a name: {route}"
        callback = pattern.callback
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            methods = set(actions)
        elif view_class is not None:
            methods = set(view_class.http_method_names) & set(dir(view_class))
        else:
            methods = {"get"}  # a plain Django view (the event stream)
        # HEAD and OPTIONS answer like GET, without a body: reads.
        found |= {(m.upper(), pattern.name) for m in methods - {"head", "options"}}
    return found


def test_every_api_endpoint_declares_its_action():
    endpoints = api_endpoints()
    missing = sorted(endpoints - set(EXPECTED))
    assert not missing, (
        f"add the action of these endpoints to EXPECTED (and role_actions): {missing}"
    )
    assert sorted(set(EXPECTED) - endpoints) == []


def test_a_write_without_a_declaration_is_refused_even_for_an_owner(tenant):
    class Undeclared(APIView):
        def post(self, request: Any) -> Any:
            raise AssertionError("never reached")

    assert RolePermission in [type(p) for p in Undeclared().get_permissions()]
    request = APIRequestFactory().post("/api/undeclared/", {}, format="json")
    force_authenticate(request, user=make_user(tenant, "owner", role=Role.OWNER))
    response = Undeclared.as_view()(request)
    assert response.status_code == 403
    assert "does not declare" in response.data["detail"]


def test_the_roles_table_is_spec_14():
    by_role = {role: {a for a, needed in MIN_ROLE.items() if needed == role} for role in ROLE_ORDER}
    assert by_role == {
        Role.VIEWER: {Action.READ},
        Role.CULLER: {Action.CULL},
        Role.EDITOR: {
            Action.UPLOAD,
            Action.PROCESS,
            Action.MOVE,
            Action.COMMIT,
            Action.REVERT,
            Action.RESTORE,
            Action.PROJECT_CREATE,
            Action.PROJECT_RENAME,
            Action.VISIBILITY,
            Action.SHARE,
            Action.EXPORT,
            Action.TASK_START,
            Action.JOB_CONTROL,
        },
        Role.OWNER: {Action.PROJECT_DELETE, Action.MAINTENANCE, Action.MEMBERS},
    }
    assert set(MIN_ROLE) == set(Action.values)


# --- the API matrix -----------------------------------------------------------------------------


@dataclass
class World:
    tenant: Any
    project: Project
    other: Project
    photo: Photo
    queued: Job
    failed: Job
    task_id: str
    share: ShareLink
    export: Export
    upload: str = ""


@pytest.fixture
def world(tenant) -> World:
    project = make_project(tenant, "Shoot")
    other = make_project(tenant, "Other shoot")
    photo = make_photo(project, "IMG_0001", raw=True, keep_raw=False)
    make_photo(project, "IMG_0002")
    queued = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    failed = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    failed = job_fail(job_id=failed.pk, error="boom", retry=False)
    assert failed.status == JobStatus.FAILED
    task = start_task("test_three_steps", tenant)
    share = ShareLink(tenant=tenant, title="Selects")
    share.token_set()
    share.save()
    share.photos.add(photo)
    SharePick.objects.create(link=share, photo=photo, client_name="Anna")
    # A resumable upload (``/api/uploads/<id>``); another user's, so a 404 for the callers
    # allowed, a 403 for the others: the role decides before the lookup.
    upload = resumable_upload_create(
        user=make_user(tenant, "uploader", role=Role.EDITOR),
        project=project,
        filename="IMG_0100.jpg",
        length=100,
    )
    export = Export.objects.create(tenant=tenant, kind=Export.Kind.ORIGINALS)
    return World(
        tenant,
        project,
        other,
        photo,
        queued,
        failed,
        str(task["task_id"]),
        share,
        export,
        upload.pk,
    )


@dataclass
class Case:
    method: str
    name: str
    # The action the request needs; for the task endpoints, the action of ``body``'s type.
    action: str
    body: Any = None
    multipart: bool = False
    kwargs: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        extra = f"[{self.body['task_type']}]" if self.action.startswith("task:") else ""
        return f"{self.method} {self.name}{extra}"


def _cases() -> list[Case]:
    """One call of every endpoint, with a body that does something when allowed."""
    p, ph, job, failed, task = "{project}", "{photo}", "{queued}", "{failed}", "{task}"
    share = "{share}"
    new_share = {"title": "T", "photo_ids": [ph], "downloads": "none", "allow_picks": True}
    items = [{"photo_id": ph}]
    bodies: dict[tuple[str, str], tuple[Any, dict[str, str]]] = {
        ("POST", "project-list"): ({"name": "New one"}, {}),
        ("GET", "project-detail"): (None, {"pk": p}),
        ("PATCH", "project-detail"): ({"name": "Renamed"}, {"pk": p}),
        ("DELETE", "project-detail"): (None, {"pk": p}),
        ("POST", "project-commit-changes"): (None, {"pk": p}),
        ("POST", "project-revert-changes"): (None, {"pk": p}),
        ("POST", "project-process"): ({"force": True}, {"pk": p}),
        ("POST", "project-clock-offset"): ({"camera": "Canon EOS R5", "seconds": 60}, {"pk": p}),
        ("GET", "project-jobs"): (None, {"pk": p}),
        ("GET", "project-trash"): (None, {"pk": p}),
        ("GET", "photo-detail"): (None, {"pk": ph}),
        ("GET", "photo-thumbnail"): (None, {"pk": ph}),
        ("GET", "photo-preview"): (None, {"pk": ph}),
        ("GET", "photo-original"): (None, {"pk": ph}),
        ("GET", "photo-full"): (None, {"pk": ph}),
        ("GET", "photo-screen"): (None, {"pk": ph}),
        ("POST", "photo-keep"): ({"items": [{"photo_id": ph, "keep_jpg": False}]}, {}),
        ("POST", "photo-rating"): ({"items": [{"photo_id": ph, "rating": 4}]}, {}),
        ("POST", "photo-tags-add"): ({"items": [{"photo_id": ph, "tags": ["x"]}]}, {}),
        ("POST", "photo-tags-remove"): ({"items": [{"photo_id": ph, "tags": ["x"]}]}, {}),
        ("POST", "photo-process"): ({"items": items, "force": True}, {}),
        ("POST", "photo-move"): ({"items": items, "dest_project": "{other}"}, {}),
        ("POST", "photo-restore"): ({"items": items}, {}),
        ("POST", "photo-bursts-keep-sharpest"): ({"projects": [p]}, {}),
        ("POST", "photo-commit-changes"): ({}, {}),
        ("POST", "photo-revert-changes"): ({}, {}),
        ("GET", "job-detail"): (None, {"pk": job}),
        ("GET", "job-items"): (None, {"pk": job}),
        ("POST", "job-cancel"): (None, {"pk": job}),
        ("POST", "job-retry"): (None, {"pk": failed}),
        ("GET", "task-detail"): (None, {"task_id": task}),
        ("POST", "photo-visibility"): ({"items": [{"photo_id": ph, "visibility": "public"}]}, {}),
        ("POST", "share-list"): (new_share, {}),
        ("GET", "share-detail"): (None, {"pk": share}),
        ("PATCH", "share-detail"): ({"title": "Renamed"}, {"pk": share}),
        ("DELETE", "share-detail"): (None, {"pk": share}),
        ("GET", "share-picks"): (None, {"pk": share}),
        ("POST", "share-apply-picks"): ({"set": {"rating": 5}}, {"pk": share}),
        ("POST", "maintenance-run"): ({}, {}),
        ("POST", "maintenance-discover"): ({}, {}),
        ("GET", "upload-detail"): (None, {"pk": "{upload}"}),
        ("PATCH", "upload-detail"): (None, {"pk": "{upload}"}),
        ("DELETE", "upload-detail"): (None, {"pk": "{upload}"}),
        ("POST", "export-list"): ({"items": items, "kind": "originals"}, {}),
        ("GET", "export-detail"): (None, {"pk": "{export}"}),
        ("GET", "export-download"): (None, {"pk": "{export}"}),
    }
    cases = []
    for (method, name), action in sorted(EXPECTED.items()):
        if action in (PUBLIC, STREAM):
            continue
        if action == "task_type":
            # One task type per least role that may start it.
            for task_type in ("generate_derivatives", "change_commit_all", "maintenance_global"):
                kwargs = {"pk": p} if name == "project-jobs" else {}
                if name == "project-jobs" and task_type.endswith("_global"):
                    task_type = "maintenance"
                cases.append(
                    Case(
                        method,
                        name,
                        f"task:{task_action(task_type)}",
                        {"task_type": task_type},
                        kwargs=kwargs,
                    )
                )
            continue
        if name == "project-upload":
            cases.append(Case(method, name, action, "upload", True, {"pk": p}))
            continue
        body, kwargs = bodies.get((method, name), (None, {}))
        cases.append(Case(method, name, action, body, kwargs=kwargs))
    return cases


CASES = _cases()


def _fill(value: Any, world: World) -> Any:
    names = {
        "{project}": world.project.pk,
        "{other}": world.other.pk,
        "{photo}": world.photo.pk,
        "{queued}": world.queued.pk,
        "{failed}": world.failed.pk,
        "{task}": world.task_id,
        "{share}": world.share.pk,
        "{upload}": world.upload,
        "{export}": world.export.pk,
    }
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _snapshot(world: World) -> dict[str, Any]:
    """What any write of the API would change."""
    return {
        "events": Event.objects.count(),
        "tasks": TaskRun.objects.count(),
        "exports": Export.objects.count(),
        "jobs": list(Job.objects.order_by("pk").values_list("pk", "status", "cancel_requested")),
        "projects": list(Project.objects.order_by("pk").values_list("pk", "name", "status")),
        "photos": list(
            Photo.objects.order_by("pk").values_list(
                "pk", "project_id", "keep_jpg", "keep_raw", "rating", "label", "visibility"
            )
        ),
        "shares": list(
            ShareLink.objects.order_by("pk").values_list("pk", "title", "revoked_at", "updated_at")
        ),
        "tags": list(Photo.tags.through.objects.order_by("pk").values_list("pk", flat=True)),
        "files": _files(Path(settings.PHOTOS_ROOT)),
        "uploads": list(ResumableUpload.objects.order_by("pk").values_list("pk", "offset")),
    }


def _allowed(role: str | None, action: str) -> bool:
    return role_allows(role, action.removeprefix("task:"))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no-membership")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_api_endpoint_answers_each_role_by_the_roles_table(case, role, world, client_for):
    user = make_user(world.tenant if role else None, f"user-{role or 'none'}", role=role or "owner")
    client = client_for(user)
    url = reverse(case.name, kwargs={k: _fill(v, world) for k, v in case.kwargs.items()})
    if case.multipart:
        data: Any = {"files": [SimpleUploadedFile("NEW_0001.jpg", jpeg_bytes(), "image/jpeg")]}
        fmt = "multipart"
    else:
        data, fmt = _fill(case.body, world), "json"
    before = _snapshot(world)
    call = getattr(client, case.method.lower())
    response = call(url, data, format=fmt) if data is not None else call(url)
    assert response.status_code < 500, response.content
    if _allowed(role, case.action):
        assert response.status_code != 403, response.content
    else:
        assert response.status_code == 403, response.content
        assert _snapshot(world) == before


def test_a_refused_request_counts_against_no_throttle(world, client_for, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "commit": "1/5min",
        },
    }
    culler = client_for(make_user(world.tenant, "culler", role=Role.CULLER))
    editor = client_for(make_user(world.tenant, "editor", role=Role.EDITOR))
    for _ in range(3):
        assert culler.post(api_path("photo-commit-changes")).status_code == 403
    assert editor.post(api_path("photo-commit-changes")).status_code in (200, 202)


def test_a_superuser_may_do_everything_through_the_api(world, client_for):
    root = client_for(make_user(None, "root", superuser=True))
    response = root.post(api_path("project-commit-changes", pk=world.project.pk))
    assert response.status_code == 202, response.content
    assert root.delete(api_path("project-detail", pk=world.other.pk)).status_code == 202


def test_the_refusal_names_the_role_and_the_action(world, client_for):
    viewer = client_for(make_user(world.tenant, "vic", role=Role.VIEWER))
    response = viewer.post(api_path("project-commit-changes", pk=world.project.pk))
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role (viewer) may not commit changes."}
    # Refused before the lookup: the role decides first, whatever the object.
    assert viewer.post(api_path("job-cancel", pk=999999)).status_code == 403


# --- the admin ----------------------------------------------------------------------------------

PHOTO_ACTIONS = {
    Role.VIEWER: set(),
    Role.CULLER: {
        "keep_jpg_only",
        "keep_raw_only",
        "keep_both",
        "discard",
        "rate",
        "set_label",
        "add_tag",
    },
}
PHOTO_ACTIONS[Role.EDITOR] = PHOTO_ACTIONS[Role.CULLER] | {"move_to_project", "reprocess"}
PHOTO_ACTIONS[Role.OWNER] = PHOTO_ACTIONS[Role.EDITOR]
PROJECT_ACTIONS = {
    Role.VIEWER: set(),
    Role.CULLER: set(),
    Role.EDITOR: {"commit_changes", "revert_changes", "process_photos"},
    Role.OWNER: {"commit_changes", "revert_changes", "process_photos", "run_maintenance"},
}
JOB_ACTIONS = {
    Role.VIEWER: set(),
    Role.CULLER: set(),
    Role.EDITOR: {"cancel_jobs", "retry_jobs"},
    Role.OWNER: {"cancel_jobs", "retry_jobs"},
}


def staff_member(tenant: Any, role: str) -> Any:
    from projects.services import staff_permissions_grant

    user = make_user(tenant, f"staff-{role}", staff=True, role=role)
    staff_permissions_grant(user=user)
    return user


def offered(model: type, user: Any) -> set[str]:
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return set(site._registry[model].get_actions(request)) - {"delete_selected"}


@pytest.mark.parametrize("role", ROLE_ORDER)
def test_admin_offers_each_role_only_its_actions(role, tenant, client):
    user = staff_member(tenant, role)
    assert offered(Photo, user) == PHOTO_ACTIONS[role]
    assert offered(Project, user) == PROJECT_ACTIONS[role]
    assert offered(Job, user) == JOB_ACTIONS[role]
    client.force_login(user)
    for url in ("/admin/photos/photo/", "/admin/projects/project/", "/admin/jobs/job/"):
        assert client.get(url).status_code == 200, url


def test_admin_gives_a_superuser_every_action(superuser):
    assert offered(Photo, superuser) == PHOTO_ACTIONS[Role.OWNER]
    assert offered(Project, superuser) == PROJECT_ACTIONS[Role.OWNER]
    assert offered(Job, superuser) == JOB_ACTIONS[Role.OWNER]


def test_admin_refuses_a_posted_action_the_role_may_not_take(tenant, client):
    project = make_project(tenant, "Shoot")
    photo = make_photo(project, "IMG_1", keep_jpg=False)
    kept = make_photo(project, "IMG_2")
    # A culler posts the editor's commit: nothing starts.
    client.force_login(staff_member(tenant, Role.CULLER))
    client.post(
        "/admin/projects/project/",
        {"action": "commit_changes", "_selected_action": [project.pk]},
        follow=True,
    )
    assert not TaskRun.objects.exists()
    # A viewer posts the confirmed discard: no flag changes.
    client.force_login(staff_member(tenant, Role.VIEWER))
    before = Event.objects.count()
    client.post(
        "/admin/photos/photo/",
        {"action": "discard", "_selected_action": [kept.pk, photo.pk], "post": "yes"},
        follow=True,
    )
    kept.refresh_from_db()
    assert kept.keep_jpg is True
    assert Event.objects.count() == before


def test_admin_viewer_reads_but_cannot_add_rename_or_control_jobs(tenant, client):
    project = make_project(tenant, "Shoot")
    job = job_enqueue(tenant=tenant, type="test_noop", priority=50)[0]
    client.force_login(staff_member(tenant, Role.VIEWER))
    assert client.get(f"/admin/projects/project/{project.pk}/change/").status_code == 200
    assert client.get("/admin/projects/project/add/").status_code == 403
    response = client.post(f"/admin/projects/project/{project.pk}/change/", {"name": "Renamed"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name == "Shoot"
    assert client.post(f"/admin/jobs/job/{job.pk}/cancel/").status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert not job.cancel_requested


def test_admin_editor_renames_but_a_culler_may_not(tenant, client):
    project = make_project(tenant, "Shoot")
    client.force_login(staff_member(tenant, Role.CULLER))
    url = f"/admin/projects/project/{project.pk}/change/"
    assert client.post(url, {"name": "By culler"}).status_code == 403
    client.force_login(staff_member(tenant, Role.EDITOR))
    assert client.post(url, {"name": "By editor"}).status_code == 302
    project.refresh_from_db()
    assert project.name == "By editor"


# --- the workspace ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLE_ORDER)
def test_workspace_bootstrap_carries_the_roles_capabilities(role, tenant, client):
    import json
    import re

    client.force_login(staff_member(tenant, role))
    response = client.get("/admin/cull/")
    assert response.status_code == 200
    match = re.search(
        r'<script id="cull-bootstrap" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match
    boot = json.loads(match.group(1))
    assert boot["role"] == role
    assert boot["capabilities"] == {a: role_allows(role, a) for a in Action.values}
    # Every control the page hides names an action of the table.
    needs = set(re.findall(r'data-needs="([a-z_]+)"', response.content.decode()))
    assert needs == {
        "cull",
        "commit",
        "revert",
        "move",
        "process",
        "upload",
        "visibility",
        "share",
        "export",
        "project_create",
        "project_rename",
    }
    assert needs <= set(Action.values)
