"""Ratings and colour labels (``POST /api/photos/rating``), capture-time ordering with keyset
cursors, and the rating/label/metadata filters of ``GET /api/photos/`` (SPEC §3, §9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.limits import MAX_ITEMS_PER_JOB
from jobs.models import Event
from photos import xmp
from photos.models import Label, Photo
from photos.storage import project_dir
from photos.tests.test_api import BULK_QUERY_BUDGET, many_photos, set_rate
from tests.factories import make_photo, write_file
from tests.urls import api_path

T0 = datetime(2025, 7, 1, 12, tzinfo=UTC)


# --- rating endpoint ------------------------------------------------------------------------


def test_rating_sets_rating_and_label_across_projects_with_events(api_client, project, second):
    a = make_photo(project, "A")
    b = make_photo(second, "B")
    response = api_client.post(
        api_path("photo-rating"),
        {"items": [{"photo_id": a.pk, "rating": 4}, {"photo_id": b.pk, "label": "red"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 2}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.rating, a.label) == (4, Label.NONE)
    assert (b.rating, b.label) == (0, Label.RED)
    event = Event.objects.get(type="item", photo=a)
    assert event.payload == {"photo_id": a.pk, "project_id": project.pk, "rating": 4}
    assert Event.objects.get(type="item", photo=b).payload["label"] == "red"


def test_rating_bad_values_unknown_and_foreign_ids_are_item_errors(api_client, project, foreign):
    a = make_photo(project, "A")
    theirs = make_photo(foreign, "F")
    items = [
        {"photo_id": a.pk, "rating": 6},
        {"photo_id": a.pk, "rating": True},
        {"photo_id": a.pk, "label": "orange"},
        {"photo_id": theirs.pk, "rating": 1},
        {"photo_id": 999999, "rating": 1},
        {"rating": 1},
        {"photo_id": a.pk, "rating": 2, "label": "green"},
    ]
    body = api_client.post(api_path("photo-rating") + "/", {"items": items}, format="json").json()
    assert body["updated"] == 1
    # Bad values first (checked before the lookup), then the ids not found.
    assert [e["photo_id"] for e in body["errors"]] == [a.pk, a.pk, a.pk, None, theirs.pk, 999999]
    assert "0 to 5" in body["errors"][0]["error"]
    assert "label must be one of" in body["errors"][2]["error"]
    assert body["errors"][4]["error"] == "Photo not found."
    theirs.refresh_from_db()
    assert theirs.rating == 0
    a.refresh_from_db()
    assert (a.rating, a.label) == (2, Label.GREEN)


def test_rating_dry_run_reports_and_writes_nothing(api_client, project):
    a = make_photo(project, "A", rating=3)
    body = api_client.post(
        api_path("photo-rating"),
        {"items": [{"photo_id": a.pk, "rating": 3, "label": "blue"}], "dry_run": True},
        format="json",
    ).json()
    assert body == {
        "updated": 1,
        "dry_run": {"per_item": [{"photo_id": a.pk, "would_update": {"label": "blue"}}]},
    }
    a.refresh_from_db()
    assert a.label == Label.NONE
    assert not Event.objects.exists()


def test_rating_unchanged_values_do_not_count(api_client, project):
    a = make_photo(project, "A", rating=5, label=Label.PURPLE)
    body = api_client.post(
        api_path("photo-rating"),
        {"items": [{"photo_id": a.pk, "rating": 5, "label": "purple"}]},
        format="json",
    ).json()
    assert body == {"updated": 0}


def test_rating_more_than_2000_items_is_400(api_client, project):
    items = [{"photo_id": i, "rating": 1} for i in range(1, MAX_ITEMS_PER_JOB + 2)]
    response = api_client.post(api_path("photo-rating"), {"items": items}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Payload contains 2001 items, exceeding maximum of 2000."}


def test_rating_2000_items_runs_fixed_queries(api_client, project, django_assert_max_num_queries):
    photos = many_photos(project, MAX_ITEMS_PER_JOB)
    items = [
        {"photo_id": p.pk, "rating": i % 6, "label": Label.values[i % 6]}
        for i, p in enumerate(photos)
    ]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-rating"), {"items": items}, format="json")
    # Items with rating 0 and label none change nothing.
    assert response.json() == {"updated": MAX_ITEMS_PER_JOB - MAX_ITEMS_PER_JOB // 6 - 1}
    assert Photo.objects.filter(rating=5, label=Label.PURPLE).count() == MAX_ITEMS_PER_JOB // 6


def test_rating_is_throttled_as_a_bulk_endpoint(api_client, project, settings):
    set_rate(settings, "bulk", "1/min")
    photo = make_photo(project, "A")
    body = {"items": [{"photo_id": photo.pk, "rating": 1}]}
    assert api_client.post(api_path("photo-rating"), body, format="json").status_code == 200
    assert api_client.post(api_path("photo-rating"), body, format="json").status_code == 429


def test_rating_write_back_updates_the_sidecar_only_when_enabled(api_client, project, settings):
    a = make_photo(project, "A", raw=True)
    b = make_photo(project, "B")
    sidecar = write_file(
        project_dir(project) / "A.xmp",
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmp:Rating="1" dc:format="image/x-canon-cr2"/></rdf:RDF></x:xmpmeta>',
    )
    before = sidecar.read_bytes()

    api_client.post(
        api_path("photo-rating"), {"items": [{"photo_id": a.pk, "rating": 2}]}, format="json"
    )
    assert sidecar.read_bytes() == before  # PIPELINE_WRITE_XMP is off by default
    assert not (project_dir(project) / "B.xmp").exists()

    settings.PIPELINE_WRITE_XMP = True
    items = [{"photo_id": a.pk, "rating": 5, "label": "yellow"}, {"photo_id": b.pk, "label": "red"}]
    assert api_client.post(api_path("photo-rating"), {"items": items}, format="json").json() == {
        "updated": 2
    }
    assert xmp.read_sidecar(sidecar) == xmp.RatingLabel(rating=5, label="yellow")
    assert "image/x-canon-cr2" in sidecar.read_text()
    assert xmp.read_sidecar(project_dir(project) / "B.xmp") == xmp.RatingLabel(label="red")


# --- ordering and cursor pagination ----------------------------------------------------------


def page_through(client, url: str) -> list[str]:
    names: list[str] = []
    while url:
        body = client.get(url).json()
        names += [p["basename"] for p in body["results"]]
        url = body["next"]
    return names


def test_default_order_is_capture_time_then_base_name_missing_dates_last(
    api_client, project, second
):
    make_photo(project, "Z_EARLY", taken_at=T0)
    make_photo(second, "A_LATE", taken_at=T0 + timedelta(hours=1))
    make_photo(project, "B_SAME", taken_at=T0)
    make_photo(project, "A_NODATE")
    make_photo(second, "C_NODATE")

    names = [p["basename"] for p in api_client.get(api_path("photo-list")).json()["results"]]
    assert names == ["B_SAME", "Z_EARLY", "A_LATE", "A_NODATE", "C_NODATE"]
    in_project = api_client.get(api_path("photo-list") + f"?project={project.pk}").json()["results"]
    assert [p["basename"] for p in in_project] == ["B_SAME", "Z_EARLY", "A_NODATE"]


def test_cursor_pages_see_every_photo_once_with_and_without_dates(api_client, project):
    expected = []
    for i in range(7):
        make_photo(project, f"D{i}", taken_at=T0 + timedelta(minutes=i // 2))  # ties
        expected.append(f"D{i}")
    for i in range(6):
        make_photo(project, f"N{i}")
        expected.append(f"N{i}")

    for size in (1, 2, 3, 5):
        assert page_through(api_client, api_path("photo-list") + f"?page_size={size}") == expected
    # Newest first: ties by base name descending too, missing dates still last.
    newest = ["D6", "D5", "D4", "D3", "D2", "D1", "D0", "N5", "N4", "N3", "N2", "N1", "N0"]
    for size in (1, 4):
        url = api_path("photo-list") + f"?ordering=-taken_at,-basename&page_size={size}"
        assert page_through(api_client, url) == newest


def test_a_deep_page_runs_a_fixed_number_of_queries(
    api_client, project, django_assert_max_num_queries
):
    many_photos(project, 30, taken_at=T0)
    many_photos(project, 30, prefix="U")
    url = api_path("photo-list") + "?page_size=25"
    for _ in range(2):
        url = api_client.get(url).json()["next"]
    # The page that crosses from dated to undated photos: two range queries, tags, auth.
    with django_assert_max_num_queries(7):
        body = api_client.get(url).json()
    assert [p["basename"] for p in body["results"]] == [f"U{i:05d}" for i in range(20, 30)]


def test_previous_link_walks_back(api_client, project):
    for i in range(5):
        make_photo(project, f"P{i}", taken_at=T0 + timedelta(minutes=i) if i < 3 else None)
    first = api_client.get(api_path("photo-list") + "?page_size=2").json()
    assert first["previous"] is None
    second_page = api_client.get(first["next"]).json()
    third = api_client.get(second_page["next"]).json()
    assert [p["basename"] for p in third["results"]] == ["P4"]
    back = api_client.get(third["previous"]).json()
    assert [p["basename"] for p in back["results"]] == ["P2", "P3"]
    back_again = api_client.get(back["previous"]).json()
    assert [p["basename"] for p in back_again["results"]] == ["P0", "P1"]
    assert back_again["previous"] is None


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-rating", ["R5", "R3", "R3b", "NONE"]),
        ("rating,-basename", ["NONE", "R3b", "R3", "R5"]),
        ("-iso", ["R3", "R5", "R3b", "NONE"]),  # missing ISO last, descending too
        ("camera", ["NONE", "R3", "R3b", "R5"]),
    ],
)
def test_ordering_parameter_pages_through_with_missing_values_last(
    api_client, project, ordering, expected
):
    make_photo(project, "R5", rating=5, iso=400, camera="Zeta Z1")
    make_photo(project, "R3", rating=3, iso=1600, camera="Alpha A1")
    make_photo(project, "R3b", rating=3, iso=100, camera="Alpha A2")
    make_photo(project, "NONE")

    assert (
        page_through(api_client, api_path("photo-list") + f"?ordering={ordering}&page_size=1")
        == expected
    )


def test_unknown_ordering_field_is_400(api_client, project):
    response = api_client.get(api_path("photo-list") + "?ordering=metadata")
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_tampered_cursor_is_404(api_client, project):
    make_photo(project, "A")
    assert api_client.get(api_path("photo-list") + "?cursor=bm9wZQ").status_code == 404


# --- filters ----------------------------------------------------------------------------------


def test_filters_by_rating_label_camera_lens_and_iso(api_client, project, foreign):
    make_photo(project, "A", rating=5, label=Label.RED, camera="Canon EOS R5", iso=100)
    make_photo(project, "B", rating=3, label=Label.GREEN, lens="RF 50mm F1.2", iso=3200)
    make_photo(project, "C", rating=1)
    make_photo(foreign, "THEIRS", rating=5, label=Label.RED, camera="Canon EOS R5")

    def names(query: str) -> list[str]:
        response = api_client.get(api_path("photo-list") + f"?{query}")
        assert response.status_code == 200, response.content
        return sorted(p["basename"] for p in response.json()["results"])

    assert names("rating=5") == ["A"]
    assert names("rating_min=3") == ["A", "B"]
    assert names("rating_max=3") == ["B", "C"]
    assert names("label=red") == ["A"]
    assert names("label=red&label=green") == ["A", "B"]
    assert names("camera=eos") == ["A"]
    assert names("lens=50mm") == ["B"]
    assert names("iso_min=800") == ["B"]
    assert names("iso_max=800") == ["A"]
    assert api_client.get(api_path("photo-list") + "?label=orange").status_code == 400


def test_the_label_filter_reads_without_distinct(api_client, project):
    """A label is a column of the photo: no join, so nothing to de-duplicate; DISTINCT made
    PostgreSQL sort whole rows of a million-photo list (docs/BENCHMARKS.md §11)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_photo(project, "A", label=Label.RED)
    make_photo(project, "B", label=Label.GREEN)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(api_path("photo-list") + "?label=red&label=green")
    assert sorted(p["basename"] for p in response.json()["results"]) == ["A", "B"]
    photo_reads = [q["sql"] for q in queries if 'FROM "photos_photo"' in q["sql"]]
    assert photo_reads
    assert not any("DISTINCT" in sql for sql in photo_reads), photo_reads
