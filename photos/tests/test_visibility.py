"""``POST /api/photos/visibility`` (SPEC §9, §18): the bulk master switch of share links."""

from __future__ import annotations

from jobs.models import Event
from photos.models import Photo
from projects.roles import Role
from tests.factories import make_photo, make_user
from tests.urls import api_path


def test_visibility_changes_photos_and_writes_an_item_event_per_changed_photo(api_client, project):
    a = make_photo(project, "A")
    b = make_photo(project, "B", visibility="public")
    response = api_client.post(
        api_path("photo-visibility"),
        {
            "items": [
                {"photo_id": a.pk, "visibility": "public"},
                {"photo_id": b.pk, "visibility": "public"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 1}
    a.refresh_from_db()
    assert a.visibility == "public"
    events = list(Event.objects.filter(type="item").values_list("photo_id", "payload"))
    assert len(events) == 1
    assert events[0][0] == a.pk
    assert events[0][1]["visibility"] == "public"


def test_visibility_dry_run_writes_nothing_and_says_what_would_change(api_client, project):
    a = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-visibility") + "/",
        {"items": [{"photo_id": a.pk, "visibility": "public"}], "dry_run": True},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "updated": 1,
        "dry_run": {"per_item": [{"photo_id": a.pk, "would_update": {"visibility": "public"}}]},
    }
    a.refresh_from_db()
    assert a.visibility == "private"
    assert not Event.objects.exists()


def test_visibility_collects_per_item_errors_while_valid_items_apply(api_client, project):
    a = make_photo(project, "A")
    b = make_photo(project, "B")
    response = api_client.post(
        api_path("photo-visibility"),
        {
            "items": [
                {"photo_id": a.pk, "visibility": "public"},
                {"photo_id": 999999, "visibility": "public"},
                {"photo_id": b.pk},
                {"photo_id": b.pk, "visibility": "secret"},
                {"photo_id": "x", "visibility": "public"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "updated": 1,
        "errors": [
            {"photo_id": b.pk, "error": "visibility is required."},
            {"photo_id": b.pk, "error": "visibility must be one of private, public."},
            {"photo_id": "x", "error": "photo_id must be an integer."},
            {"photo_id": 999999, "error": "Photo not found."},
        ],
    }
    assert Photo.objects.get(pk=a.pk).visibility == "public"
    assert Photo.objects.get(pk=b.pk).visibility == "private"


def test_visibility_of_another_tenants_photo_is_not_found(api_client, other_project):
    theirs = make_photo(other_project, "THEIRS")
    response = api_client.post(
        api_path("photo-visibility"),
        {"items": [{"photo_id": theirs.pk, "visibility": "public"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "updated": 0,
        "errors": [{"photo_id": theirs.pk, "error": "Photo not found."}],
    }
    theirs.refresh_from_db()
    assert theirs.visibility == "private"


def test_visibility_refuses_more_than_2000_items(api_client, project):
    items = [{"photo_id": n, "visibility": "public"} for n in range(1, 2002)]
    response = api_client.post(api_path("photo-visibility"), {"items": items}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Payload contains 2001 items, exceeding maximum of 2000."


def test_visibility_runs_a_fixed_number_of_queries(
    api_client, project, django_assert_max_num_queries
):
    photos = [make_photo(project, f"P{n}", write=False) for n in range(40)]
    items = [{"photo_id": p.pk, "visibility": "public"} for p in photos]
    with django_assert_max_num_queries(20):
        response = api_client.post(api_path("photo-visibility"), {"items": items}, format="json")
    assert response.json() == {"updated": 40}


def test_a_culler_may_not_change_visibility(client_for, project):
    photo = make_photo(project, "A")
    culler = client_for(make_user(project.tenant, "cully", role=Role.CULLER))
    response = culler.post(
        api_path("photo-visibility"),
        {"items": [{"photo_id": photo.pk, "visibility": "public"}]},
        format="json",
    )
    assert response.status_code == 403
    photo.refresh_from_db()
    assert photo.visibility == "private"


def test_the_photo_list_filters_by_visibility(api_client, project):
    make_photo(project, "A")
    public = make_photo(project, "B", visibility="public")
    response = api_client.get(api_path("photo-list") + "?visibility=public")
    assert [p["id"] for p in response.json()["results"]] == [public.pk]
