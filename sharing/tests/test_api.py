"""``/api/shares/`` (SPEC §18): create (dry run, token once), detail, change, revoke, picks,
apply picks; tenant scoping and validation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from jobs.models import Event
from photos.models import Photo
from sharing.models import ShareLink
from tests.factories import make_photo
from tests.urls import api_path

from .factories import pick_record

BASE = {"title": "Wedding selects", "downloads": "preview", "allow_picks": True}


def create(client, **body):
    return client.post(api_path("share-list"), {**BASE, **body}, format="json")


def test_create_links_the_photos_makes_them_public_and_shows_the_token_once(api_client, photos):
    a, b, c, _ = photos
    Photo.objects.filter(pk=c.pk).update(visibility="public")
    response = create(api_client, photo_ids=[a.pk, b.pk, c.pk], message="Hi!", password="s3cret")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Wedding selects"
    assert body["photo_ids"] == [a.pk, b.pk, c.pk]
    assert body["made_public"] == [a.pk, b.pk]
    assert body["photo_count"] == 3
    assert body["public_count"] == 3
    assert body["has_password"] is True
    assert "password" not in body
    url = body["url"]
    token = url.rsplit("/s/", 1)[1].strip("/")
    assert len(token) >= 43  # 32 random bytes, URL-safe
    link = ShareLink.objects.get(pk=body["id"])
    # Only the hash is stored; the token is nowhere else.
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ShareLink.objects.filter(pk=link.pk).values().first())
    assert link.password != "s3cret"
    assert check_password("s3cret", link.password)
    assert set(Photo.objects.filter(pk__in=[a.pk, b.pk]).values_list("visibility", flat=True)) == {
        "public"
    }
    # The expiry defaults to 30 days.
    assert timedelta(days=29) < link.expires_at - timezone.now() <= timedelta(days=30)
    # Never again: not in the detail, the list, nor any event.
    detail = api_client.get(api_path("share-detail", pk=link.pk)).json()
    assert "url" not in detail
    assert token not in str(detail)
    assert token not in str(api_client.get(api_path("share-list")).json())
    assert token not in str(list(Event.objects.values_list("payload", flat=True)))
    created = Event.objects.get(type="share_created")
    assert created.payload["share_id"] == link.pk
    assert created.payload["made_public"] == 2
    items = Event.objects.filter(type="item").order_by("photo_id")
    assert [(e.photo_id, e.payload["visibility"]) for e in items] == [
        (a.pk, "public"),
        (b.pk, "public"),
    ]


def test_create_dry_run_says_what_becomes_public_and_writes_nothing(api_client, photos):
    a, b, *_ = photos
    Photo.objects.filter(pk=b.pk).update(visibility="public")
    for response in (
        create(api_client, photo_ids=[a.pk, b.pk], dry_run=True),
        api_client.post(
            api_path("share-list") + "?dry_run=1",
            {**BASE, "photo_ids": [a.pk, b.pk]},
            format="json",
        ),
    ):
        assert response.status_code == 200, response.content
        assert response.json() == {
            "dry_run": {"photo_count": 2, "photo_ids": [a.pk, b.pk], "would_become_public": [a.pk]}
        }
    assert not ShareLink.objects.exists()
    assert not Event.objects.exists()
    assert Photo.objects.get(pk=a.pk).visibility == "private"


def test_create_from_a_project_and_filter(api_client, project, photos):
    a, b, *_ = photos
    Photo.objects.filter(pk__in=[a.pk, b.pk]).update(rating=4)
    response = create(api_client, project=project.pk, filter={"rating_min": 3})
    assert response.status_code == 201, response.content
    assert response.json()["photo_ids"] == [a.pk, b.pk]
    bad = create(api_client, project=project.pk, filter={"rating_min": "lots"})
    assert bad.status_code == 400
    assert "filter is not valid" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"downloads": "everything"}, "downloads"),
        ({"allow_picks": None}, "allow_picks"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"photo_ids": "1,2"}, "photo_ids"),
        ({"photo_ids": []}, "photo_ids"),
    ],
)
def test_create_refuses_bad_fields_in_drf_shape(api_client, photos, body, field):
    data = {**BASE, "photo_ids": [photos[0].pk], **body}
    response = api_client.post(api_path("share-list"), data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ShareLink.objects.exists()


def test_create_needs_photo_ids_or_a_project_not_both(api_client, project, photos):
    for extra in ({}, {"photo_ids": [photos[0].pk], "project": project.pk}):
        response = api_client.post(api_path("share-list"), {**BASE, **extra}, format="json")
        assert response.status_code == 400
        assert "photo_ids" in response.json()
    missing = api_client.post(api_path("share-list"), {"photo_ids": [photos[0].pk]}, format="json")
    assert set(missing.json()) >= {"title", "downloads", "allow_picks"}


def test_create_refuses_more_than_2000_photo_ids(api_client, photos):
    response = create(api_client, photo_ids=list(range(1, 2002)))
    assert response.status_code == 400
    assert response.json()["detail"] == "Payload contains 2001 items, exceeding maximum of 2000."


def test_another_tenants_photos_are_not_found_and_never_made_public(
    api_client, photos, other_project
):
    theirs = make_photo(other_project, "THEIRS")
    response = create(api_client, photo_ids=[photos[0].pk, theirs.pk])
    assert response.status_code == 201
    assert response.json()["photo_ids"] == [photos[0].pk]
    assert response.json()["errors"] == [{"photo_id": theirs.pk, "error": "Photo not found."}]
    theirs.refresh_from_db()
    assert theirs.visibility == "private"
    only_theirs = create(api_client, photo_ids=[theirs.pk])
    assert only_theirs.status_code == 400
    assert only_theirs.json()["detail"] == "No photo of the selection was found."


def test_another_tenants_link_is_not_found(api_client, other_client, photos):
    link_id = create(api_client, photo_ids=[photos[0].pk]).json()["id"]
    assert other_client.get(api_path("share-detail", pk=link_id)).status_code == 404
    assert other_client.get(api_path("share-picks", pk=link_id)).status_code == 404
    assert (
        other_client.patch(
            api_path("share-detail", pk=link_id), {"title": "x"}, format="json"
        ).status_code
        == 404
    )
    assert other_client.delete(api_path("share-detail", pk=link_id)).status_code == 404
    assert (
        other_client.post(
            api_path("share-apply-picks", pk=link_id), {"set": {"rating": 5}}, format="json"
        ).status_code
        == 404
    )
    assert other_client.get(api_path("share-list")).json()["results"] == []
    assert ShareLink.objects.get(pk=link_id).revoked_at is None
    assert (
        other_client.get(api_path("photo-list") + f"?picked_by_share={link_id}").json()["results"]
        == []
    )


def test_list_and_detail_carry_counters(api_client, photos):
    a, b, *_ = photos
    link_id = create(api_client, photo_ids=[a.pk, b.pk]).json()["id"]
    link = ShareLink.objects.get(pk=link_id)
    pick_record(link, a, comment="Love it")
    pick_record(link, b, client_name="Ben", picked=False, comment="Too dark")
    ShareLink.objects.filter(pk=link_id).update(view_count=7, download_count=2)
    listed = api_client.get(api_path("share-list")).json()["results"]
    assert [row["id"] for row in listed] == [link_id]
    row = listed[0]
    assert (row["view_count"], row["download_count"]) == (7, 2)
    assert (row["photo_count"], row["picks_count"], row["comments_count"]) == (2, 1, 2)
    assert row["is_live"] is True
    assert row["revoked_at"] is None


def test_patch_changes_fields_and_photos_and_new_photos_become_public(api_client, photos):
    a, b, c, _ = photos
    link_id = create(api_client, photo_ids=[a.pk, b.pk], password="pw").json()["id"]
    later = (timezone.now() + timedelta(days=3)).isoformat()
    response = api_client.patch(
        api_path("share-detail", pk=link_id),
        {
            "title": "Final selects",
            "message": "New",
            "expires_at": later,
            "downloads": "original",
            "password": "",
            "add_photo_ids": [c.pk],
            "remove_photo_ids": [a.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Final selects"
    assert body["downloads"] == "original"
    assert body["has_password"] is False
    assert body["photo_ids"] == [b.pk, c.pk]
    assert body["added"] == [c.pk]
    assert body["removed"] == [a.pk]
    assert body["made_public"] == [c.pk]
    assert Photo.objects.get(pk=c.pk).visibility == "public"
    # A removed photo keeps its visibility: another link may show it.
    assert Photo.objects.get(pk=a.pk).visibility == "public"
    updated = Event.objects.get(type="share_updated")
    assert set(updated.payload["changed"]) == {
        "title",
        "message",
        "expires_at",
        "downloads",
        "password",
    }
    new_password = api_client.patch(
        api_path("share-detail", pk=link_id), {"password": "n3w"}, format="json"
    )
    assert new_password.json()["has_password"] is True
    assert check_password("n3w", ShareLink.objects.get(pk=link_id).password)


def test_patch_refuses_bad_values(api_client, photos):
    link_id = create(api_client, photo_ids=[photos[0].pk]).json()["id"]
    url = api_path("share-detail", pk=link_id)
    assert (
        "expires_at"
        in api_client.patch(url, {"expires_at": "2001-01-01T00:00:00Z"}, format="json").json()
    )
    assert "downloads" in api_client.patch(url, {"downloads": "all"}, format="json").json()
    assert "title" in api_client.patch(url, {"title": ""}, format="json").json()
    assert api_client.put(url, {**BASE}, format="json").status_code == 405


def test_delete_revokes_at_once_and_the_link_stays_listed(api_client, photos):
    link_id = create(api_client, photo_ids=[photos[0].pk]).json()["id"]
    response = api_client.delete(api_path("share-detail", pk=link_id))
    assert response.status_code == 204
    link = ShareLink.objects.get(pk=link_id)
    assert link.revoked_at is not None
    assert not link.is_live
    assert not ShareLink.objects.live().filter(pk=link_id).exists()
    assert Event.objects.filter(type="share_revoked", payload__share_id=link_id).count() == 1
    detail = api_client.get(api_path("share-detail", pk=link_id)).json()
    assert detail["is_live"] is False
    assert detail["revoked_at"]
    # Again: nothing more happens. A revoked link cannot change.
    assert api_client.delete(api_path("share-detail", pk=link_id)).status_code == 204
    assert Event.objects.filter(type="share_revoked").count() == 1
    assert (
        api_client.patch(
            api_path("share-detail", pk=link_id), {"title": "x"}, format="json"
        ).status_code
        == 409
    )


def test_picks_lists_the_clients_hearts_and_comments(api_client, photos):
    a, b, c, _ = photos
    link = ShareLink.objects.get(pk=create(api_client, photo_ids=[a.pk, b.pk, c.pk]).json()["id"])
    pick_record(link, a, comment="Love it")
    pick_record(link, b, client_name="Ben", picked=False, comment="Too dark")
    pick_record(link, c, picked=False)  # An unpicked heart without comment: nothing to show.
    rows = api_client.get(api_path("share-picks", pk=link.pk)).json()["results"]
    assert {(r["photo_id"], r["picked"], r["comment"], r["client_name"]) for r in rows} == {
        (a.pk, True, "Love it", "Anna"),
        (b.pk, False, "Too dark", "Ben"),
    }
    assert rows[0]["basename"] in ("IMG_0001", "IMG_0002")


def test_photo_list_filters_by_the_clients_picks(api_client, photos):
    a, b, c, _ = photos
    link = ShareLink.objects.get(pk=create(api_client, photo_ids=[a.pk, b.pk, c.pk]).json()["id"])
    other = ShareLink.objects.get(pk=create(api_client, photo_ids=[c.pk]).json()["id"])
    pick_record(link, a)
    pick_record(link, b, picked=False)
    pick_record(other, c)
    ids = [
        p["id"]
        for p in api_client.get(api_path("photo-list") + f"?picked_by_share={link.pk}").json()[
            "results"
        ]
    ]
    assert ids == [a.pk]
    ids = [
        p["id"]
        for p in api_client.get(api_path("photo-list") + f"?picked_by_share={other.pk}").json()[
            "results"
        ]
    ]
    assert ids == [c.pk]
    assert api_client.get(api_path("photo-list") + "?picked_by_share=abc").status_code == 400


def test_apply_picks_dry_run_then_apply_through_keep_and_rating(api_client, photos):
    a, b, c, _ = photos
    Photo.objects.filter(pk=b.pk).update(rating=5)
    link = ShareLink.objects.get(pk=create(api_client, photo_ids=[a.pk, b.pk, c.pk]).json()["id"])
    pick_record(link, a)
    pick_record(link, b, client_name="Ben")
    pick_record(link, b, client_name="Anna")
    url = api_path("share-apply-picks", pk=link.pk)
    before = Event.objects.count()
    dry = api_client.post(
        url, {"set": {"rating": 5, "label": "green"}, "dry_run": True}, format="json"
    )
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "updated": 2,
        "dry_run": {
            "per_item": [
                {"photo_id": a.pk, "would_update": {"rating": 5, "label": "green"}},
                {"photo_id": b.pk, "would_update": {"label": "green"}},
            ]
        },
    }
    assert Event.objects.count() == before
    assert Photo.objects.get(pk=a.pk).rating == 0
    done = api_client.post(
        url, {"set": {"rating": 5, "label": "green", "keep_jpg": True}}, format="json"
    )
    assert done.json() == {"updated": 2}
    rows = dict(Photo.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("pk", "label"))
    assert rows == {a.pk: "green", b.pk: "green", c.pk: "none"}
    assert Photo.objects.get(pk=a.pk).rating == 5
    assert Event.objects.filter(type="item", photo=a).exists()
    # Picks never change a photo by themselves: c was not picked.
    assert Photo.objects.get(pk=c.pk).rating == 0


def test_apply_picks_refuses_an_empty_or_bad_set(api_client, photos):
    link_id = create(api_client, photo_ids=[photos[0].pk]).json()["id"]
    url = api_path("share-apply-picks", pk=link_id)
    assert "set" in api_client.post(url, {"set": {}}, format="json").json()
    assert "set" in api_client.post(url, {"set": {"rating": 9}}, format="json").json()
    assert "set" in api_client.post(url, {}, format="json").json()


def test_the_list_runs_a_fixed_number_of_queries(api_client, photos, django_assert_max_num_queries):
    for n in range(12):
        link_id = create(api_client, title=f"L{n}", photo_ids=[p.pk for p in photos]).json()["id"]
        pick_record(ShareLink.objects.get(pk=link_id), photos[n % 4], comment="x")
    with django_assert_max_num_queries(8):
        response = api_client.get(api_path("share-list"))
    assert response.json()["count"] == 12
    assert {row["picks_count"] for row in response.json()["results"]} == {1}
