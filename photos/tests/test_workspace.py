"""The culling workspace's server side (SPEC §17, §11): the page, the ``/`` redirect, the
photo list filters the workspace uses, and the photo list's bulk actions in the admin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import resolve, reverse

from jobs.models import TaskRun
from jobs.runtime import drain
from photos.models import Photo
from tests.factories import make_photo, make_project, make_user
from tests.urls import api_path

CULL = "/admin/cull/"
CHANGELIST = "/admin/photos/photo/"


def bootstrap(response) -> dict:  # type: ignore[no-untyped-def]
    match = re.search(
        r'<script id="cull-bootstrap" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries its bootstrap data"
    return json.loads(match.group(1))


# --- the page and the redirect ---------------------------------------------------------------


def test_root_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next=%2Fadmin%2Fcull%2F"


def test_root_sends_signed_in_staff_to_the_workspace(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == CULL


def test_workspace_needs_a_login(client, db):
    response = client.get(CULL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_workspace_needs_a_role_that_may_read(client, tenant):
    # Staff without a membership have no role: refused.
    client.force_login(make_user(None, "loner", staff=True))
    assert client.get(CULL).status_code == 403
    # A viewer reads, without any of the admin's model permissions: the page only calls the API.
    client.force_login(make_user(tenant, "vera", staff=True, role="viewer"))
    response = client.get(CULL)
    assert response.status_code == 200
    assert bootstrap(response)["role"] == "viewer"


def test_admin_links_the_workspace_for_every_role_that_may_open_it(client, tenant):
    # A viewer has none of the admin's model permissions, yet may open the workspace: the
    # admin's home and top bar link it by the same rule as the page (``may.read``).
    client.force_login(make_user(tenant, "vera", staff=True, role="viewer"))
    page = client.get("/admin/").content.decode()
    assert f'<a href="{CULL}">Culling workspace</a> /' in page  # the top bar
    client.force_login(make_user(None, "loner", staff=True))
    assert f'href="{CULL}"' not in client.get("/admin/").content.decode()


def test_workspace_lists_only_the_users_tenant_projects(staff_client, tenant, other_project):
    own = make_project(tenant, "Iceland July 2025")
    archived = make_project(tenant, "Old shoot")
    archived.status = archived.Status.ARCHIVED
    archived.save()
    response = staff_client.get(CULL)
    assert response.status_code == 200
    data = bootstrap(response)
    assert [p["id"] for p in data["projects"]] == [own.pk]
    assert other_project.name not in response.content.decode()
    assert data["max_items"] == 2000
    assert data["labels"] == ["red", "yellow", "green", "blue", "purple"]


def test_workspace_keys_lightrooms_labels_and_lists_every_label_in_its_menu(staff_client):
    response = staff_client.get(CULL)
    # 6–9 as in Lightroom; purple has no number key there either (L / Shift+L reach it).
    assert bootstrap(response)["label_keys"] == {
        "6": "red",
        "7": "yellow",
        "8": "green",
        "9": "blue",
    }
    html = response.content.decode()
    menu = html[html.index('<select id="cull-label"') :]
    menu = menu[: menu.index("</select>")]
    assert '<option value="red">Red (6)</option>' in menu
    assert '<option value="blue">Blue (9)</option>' in menu
    assert '<option value="purple">Purple</option>' in menu
    assert '<option value="none">None</option>' in menu


def test_workspace_offers_a_folder_picker_beside_the_file_picker(staff_client):
    html = staff_client.get(CULL).content.decode()
    assert 'id="cull-upload-input" multiple' in html
    assert 'id="cull-upload-folder" webkitdirectory multiple' in html
    assert "Upload folder…" in html


def test_workspace_starts_the_event_stream_at_the_newest_event_of_the_tenant(
    staff_client, staff, tenant, other_tenant
):
    from jobs.events import EventType, event_record

    own = event_record(tenant_id=tenant.pk, type=EventType.PENDING_CHANGES, payload={})
    event_record(tenant_id=other_tenant.pk, type=EventType.PENDING_CHANGES, payload={})
    assert bootstrap(staff_client.get(CULL))["last_event_id"] == own.pk


def test_workspace_is_linked_from_the_admin_home_projects_and_the_photo_list(staff_client, project):
    assert f'href="{CULL}"' in staff_client.get("/admin/").content.decode()
    page = staff_client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert f'href="{CULL}?project={project.pk}"' in page.content.decode()
    photos = staff_client.get(f"{CHANGELIST}?project__id__exact={project.pk}")
    assert f'href="{CULL}?project={project.pk}"' in photos.content.decode()


def test_client_modules_are_static_files():
    modules = ("main.js", "api.js", "grid.js", "loupe.js", "keys.js", "tray.js", "focus.js")
    more = ("actions.js", "dialogs.js", "live.js", "sync.js", "pending.js", "upload.js")
    for name in (*modules, *more, "store.js", "filters.js", "cull.css"):
        assert finders.find(f"photos/cull/{name}"), name


def test_bootstrap_api_paths_are_the_routes_the_api_serves(staff_client):
    paths = bootstrap(staff_client.get(CULL))["api"]
    assert paths["photo"] == reverse("photo-detail", args=[7]).replace("7", "{id}")
    for name, path in paths.items():
        match = resolve(path.replace("{id}", "7"))
        assert match.url_name, name
    assert paths["events"] == reverse("event-stream")


def test_no_client_module_hard_codes_an_api_url():
    folder = Path(finders.find("photos/cull/api.js")).parent
    holders = sorted(
        f.name for f in folder.glob("*.js") if re.search(r"[\"'`]/api/", f.read_text())
    )
    assert holders == []


# --- filters the workspace uses ------------------------------------------------------------


@pytest.fixture
def assorted(project):
    return {
        "pair": make_photo(project, "PAIR", jpg=True, raw=True, write=False),
        "jpg": make_photo(project, "JPGONLY", jpg=True, raw=False, write=False),
        "raw": make_photo(project, "RAWONLY", jpg=False, raw=True, write=False),
        "other": make_photo(
            project, "OTHER", jpg=False, raw=False, other_available=True, write=False
        ),
        "mismatch": make_photo(
            project, "MISMATCH", jpg=True, raw=True, keep_raw=False, write=False
        ),
        "failed": make_photo(project, "FAILED", jpg=True, write=False, thumbnail_status="failed"),
    }


def listed(api_client, query: str) -> set[str]:
    response = api_client.get(api_path("photo-list") + f"?{query}")
    assert response.status_code == 200, response.content
    return {p["basename"] for p in response.json()["results"]}


def test_file_type_filters_pairs_and_single_files(api_client, assorted):
    assert listed(api_client, "file_type=pair") == {"PAIR", "MISMATCH"}
    assert listed(api_client, "file_type=jpg_only") == {"JPGONLY", "FAILED"}
    assert listed(api_client, "file_type=raw_only") == {"RAWONLY"}
    assert listed(api_client, "file_type=other") == {"OTHER"}


def test_keep_mismatch_and_derivatives_filters(api_client, assorted):
    assert listed(api_client, "keep_mismatch=true") == {"MISMATCH"}
    assert "MISMATCH" not in listed(api_client, "keep_mismatch=false")
    assert listed(api_client, "derivatives=failed") == {"FAILED"}


def test_projects_filter_takes_several_and_never_another_tenants(
    api_client, tenant, project, other_project
):
    second = make_project(tenant, "Second")
    make_photo(project, "A", write=False)
    make_photo(second, "B", write=False)
    make_photo(other_project, "FOREIGN", write=False)
    assert listed(api_client, f"projects={project.pk},{second.pk}") == {"A", "B"}
    assert listed(api_client, f"projects={second.pk},{other_project.pk}") == {"B"}
    assert api_client.get(api_path("photo-list") + "?projects=1,x").status_code == 400


# --- bulk actions in the photo list ------------------------------------------------------


def run_action(client, action: str, photos: list[Photo], **fields):  # type: ignore[no-untyped-def]
    data = {"action": action, "_selected_action": [p.pk for p in photos]}
    confirm = client.post(CHANGELIST, data)
    assert confirm.status_code == 200
    assert "Are you sure?" in confirm.content.decode()
    done = client.post(CHANGELIST, {**data, "post": "yes", **fields})
    assert done.status_code == 302, done.content.decode()[:2000]
    return confirm


@pytest.mark.parametrize(
    ("action", "flags"),
    [
        ("keep_jpg_only", (True, False)),
        ("keep_raw_only", (False, True)),
        ("discard", (False, False)),
    ],
)
def test_keep_actions_set_flags_after_confirmation(staff_client, project, action, flags):
    photos = [make_photo(project, f"P{n}", raw=True, write=False) for n in range(3)]
    confirm = run_action(staff_client, action, photos[:2])
    assert "P0" in confirm.content.decode()
    # The confirmation page alone changes nothing; the confirmed post does.
    for photo in photos[:2]:
        photo.refresh_from_db()
        assert (photo.keep_jpg, photo.keep_raw) == flags
    photos[2].refresh_from_db()
    assert (photos[2].keep_jpg, photos[2].keep_raw) == (True, True)


def test_keep_both_restores_discarded_files(staff_client, project):
    photo = make_photo(project, "P", raw=True, keep_jpg=False, keep_raw=False, write=False)
    run_action(staff_client, "keep_both", [photo])
    photo.refresh_from_db()
    assert (photo.keep_jpg, photo.keep_raw) == (True, True)


def test_confirmation_page_alone_changes_nothing(staff_client, project):
    photo = make_photo(project, "P", raw=True, write=False)
    response = staff_client.post(CHANGELIST, {"action": "discard", "_selected_action": [photo.pk]})
    assert response.status_code == 200
    photo.refresh_from_db()
    assert (photo.keep_jpg, photo.keep_raw) == (True, True)


def test_rate_label_and_tag_actions(staff_client, project):
    photos = [make_photo(project, f"P{n}", write=False) for n in range(2)]
    run_action(staff_client, "rate", photos, rating="4")
    run_action(staff_client, "set_label", photos, label="green")
    run_action(staff_client, "add_tag", photos, tag="keeper")
    for photo in photos:
        photo.refresh_from_db()
        assert (photo.rating, photo.label) == (4, "green")
        assert [t.name for t in photo.tags.all()] == ["keeper"]


def test_invalid_action_input_shows_the_form_again(staff_client, project):
    photo = make_photo(project, "P", write=False)
    response = staff_client.post(
        CHANGELIST,
        {"action": "rate", "_selected_action": [photo.pk], "post": "yes", "rating": "9"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    photo.refresh_from_db()
    assert photo.rating == 0


def test_move_action_starts_the_move_and_lists_only_own_projects(
    staff_client, tenant, project, other_project
):
    dest = make_project(tenant, "Destination")
    photo = make_photo(project, "MOVEME")
    confirm = run_action(staff_client, "move_to_project", [photo], dest_project=str(dest.pk))
    page = confirm.content.decode()
    assert "Destination" in page
    assert other_project.name not in page
    assert TaskRun.objects.filter(type="image_move").count() == 1
    drain()
    photo.refresh_from_db()
    assert photo.project_id == dest.pk


def test_reprocess_action_starts_one_task(staff_client, project):
    photos = [make_photo(project, f"P{n}") for n in range(2)]
    run_action(staff_client, "reprocess", photos)
    assert TaskRun.objects.filter(type="generate_derivatives").count() == 1
    drain()
    assert Photo.objects.filter(project=project, thumbnail_status="generated").count() == 2


def test_actions_never_touch_another_tenants_photos(staff_client, other_project):
    foreign = make_photo(other_project, "FOREIGN", raw=True, write=False)
    staff_client.post(
        CHANGELIST, {"action": "discard", "_selected_action": [foreign.pk], "post": "yes"}
    )
    foreign.refresh_from_db()
    assert (foreign.keep_jpg, foreign.keep_raw) == (True, True)
