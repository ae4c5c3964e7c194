"""The photos API (SPEC §9): list/detail, files, and the bulk photo endpoints."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest
from PIL import Image

from core.limits import MAX_ITEMS_PER_JOB
from jobs.models import Event, Job, JobItem, TaskRun
from photos.models import Photo, Tag
from projects.models import Project
from tests.factories import make_photo
from tests.urls import api_path

# The query budget of a 2,000-item request (SPEC §9, STYLE habit 5): a handful of lookups and
# updates plus bulk inserts, which SQLite splits into batches of its variable limit (~16 for
# 2,000 rows), and the throttle's lock, read and write of the shared database cache (about a
# dozen statements, savepoints included); one query per item would be thousands.
BULK_QUERY_BUDGET = 48


def many_photos(project, n, *, prefix="B", **fields):
    """``n`` photo rows without files (bulk insert), in id order."""
    defaults = {"jpg_available": True, "keep_jpg": True, "ext": "jpg"}
    defaults.update(fields)
    Photo.objects.bulk_create(
        [Photo(project=project, basename=f"{prefix}{i:05d}", **defaults) for i in range(n)],
        batch_size=500,
    )
    return list(Photo.objects.filter(project=project, basename__startswith=prefix).order_by("id"))


def webp_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 200, 10)).save(buffer, "WEBP", quality=50)
    return buffer.getvalue()


def write_thumb(photos_root, photo, kind=".thumb"):
    folder = photos_root / photo.project.tenant.slug / photo.project.folder / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{photo.basename}.webp"
    path.write_bytes(webp_bytes())
    return path


def set_rate(settings, scope, rate):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


# --- list and detail ----------------------------------------------------------------------


def test_list_shows_own_photos_with_tags(api_client, project, foreign):
    photo = make_photo(project, "A")
    tag = Tag.objects.create(project=project, name="sunset")
    photo.tags.add(tag)
    make_photo(foreign, "SECRET")
    body = api_client.get(api_path("photo-list")).json()
    assert [p["basename"] for p in body["results"]] == ["A"]
    row = body["results"][0]
    assert row["tags"] == ["sunset"]
    assert row["project"] == project.pk
    assert {"jpg_available", "keep_jpg", "keep_raw", "pending_delete"} <= set(row)


def test_list_uses_cursor_pagination(api_client, project):
    many_photos(project, 5)
    first = api_client.get(api_path("photo-list") + "?page_size=2").json()
    assert len(first["results"]) == 2
    assert "count" not in first
    second_page = api_client.get(first["next"]).json()
    ids = [p["id"] for p in first["results"] + second_page["results"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4


def test_list_runs_a_fixed_number_of_queries(api_client, project, django_assert_max_num_queries):
    for i, photo in enumerate(many_photos(project, 50)):
        photo.tags.add(Tag.objects.get_or_create(project=project, name=f"t{i % 3}")[0])
    with django_assert_max_num_queries(6):
        response = api_client.get(api_path("photo-list") + "?page_size=50")
    assert len(response.json()["results"]) == 50


def test_list_filters(api_client, project, second):
    when = datetime(2025, 7, 1, 12, tzinfo=UTC)
    a = make_photo(project, "A", taken_at=when, visibility="public")
    b = make_photo(project, "B", jpg=True, raw=True, keep_raw=False, thumbnail_status="failed")
    c = make_photo(second, "C", jpg=False, raw=True)
    b.tags.add(Tag.objects.create(project=project, name="best"))
    b.tags.add(Tag.objects.create(project=project, name="blue"))
    a.tags.add(Tag.objects.get(project=project, name="best"))

    def ids(query):
        response = api_client.get(api_path("photo-list") + f"?{query}")
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids(f"project={second.pk}") == {c.pk}
    assert ids("taken_at_after=2025-06-30T00:00:00Z&taken_at_before=2025-07-02T00:00:00Z") == {a.pk}
    assert ids("file_type=raw") == {b.pk, c.pk}
    assert ids("file_type=jpg") == {a.pk, b.pk}
    assert ids("keep_raw=false&file_type=raw") == {b.pk}
    assert ids("pending=true") == {b.pk}
    assert ids("pending=false") == {a.pk, c.pk}
    assert ids("tags=best") == {a.pk, b.pk}
    assert ids("tags=best,blue") == {b.pk}
    assert ids("visibility=public") == {a.pk}
    assert ids("thumbnail_status=failed") == {b.pk}
    assert api_client.get(api_path("photo-list") + "?file_type=gif").status_code == 400
    assert api_client.get(api_path("photo-list") + "?taken_at_after=yesterday").status_code == 400


@pytest.mark.parametrize("first_max", [0, 1, 100], ids=["both common", "mixed", "both rare"])
def test_tags_filter_reads_rare_and_common_tags_alike(
    api_client, project, second, foreign, monkeypatch, first_max
):
    from photos.api import filters

    # A tag on at most TAG_FIRST_MAX photos is read tag-first, a commoner one in list order:
    # the same photos either way.
    monkeypatch.setattr(filters, "TAG_FIRST_MAX", first_max)
    a, b, c, d = (
        make_photo(p, n) for p, n in ((project, "A"), (project, "B"), (second, "C"), (second, "D"))
    )
    for photo, names in ((a, ["sky", "sea"]), (b, ["sky"]), (c, ["sky", "sea"]), (d, ["sea"])):
        for name in names:
            photo.tags.add(Tag.objects.get_or_create(project=photo.project, name=name)[0])
    stranger = make_photo(foreign, "X")
    stranger.tags.add(Tag.objects.create(project=foreign, name="sky"))

    def ids(query):
        response = api_client.get(api_path("photo-list") + f"?{query}")
        assert response.status_code == 200, response.content
        return [p["basename"] for p in response.json()["results"]]

    assert ids("tags=sky") == ["A", "B", "C"]
    assert ids("tags=sky,sea") == ["A", "C"]
    assert ids("tags=sea,sky") == ["A", "C"]
    assert ids(f"tags=sky&project={second.pk}") == ["C"]
    assert ids("tags=sky,nowhere") == []
    assert ids("tags=nowhere") == []


def test_list_filter_by_other_tenants_project_is_empty(api_client, project, foreign):
    make_photo(foreign, "F")
    make_photo(project, "A")
    assert api_client.get(api_path("photo-list") + f"?project={foreign.pk}").json()["results"] == []


def test_detail_and_cross_tenant_404(api_client, project, foreign):
    mine = make_photo(project, "A")
    theirs = make_photo(foreign, "F")
    assert api_client.get(api_path("photo-detail", pk=mine.pk)).json()["basename"] == "A"
    foreign_reply = api_client.get(api_path("photo-detail", pk=theirs.pk))
    missing_reply = api_client.get(api_path("photo-detail", pk=999999))
    assert foreign_reply.status_code == missing_reply.status_code == 404
    assert foreign_reply.json() == missing_reply.json()


def test_photos_of_archived_projects_are_not_found(api_client, project):
    photo = make_photo(project, "A")
    Project.objects.filter(pk=project.pk).update(status="archived", archived_at=photo.created_at)
    assert api_client.get(api_path("photo-detail", pk=photo.pk)).status_code == 404
    assert api_client.get(api_path("photo-list")).json()["results"] == []


# --- files --------------------------------------------------------------------------------


def test_thumbnail_with_caching_headers(api_client, project, photos_root):
    photo = make_photo(project, "A")
    path = write_thumb(photos_root, photo)
    response = api_client.get(api_path("photo-thumbnail", pk=photo.pk), HTTP_ACCEPT="image/webp")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content) == path.read_bytes()
    assert "max-age" in response["Cache-Control"]
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    again = api_client.get(
        api_path("photo-thumbnail", pk=photo.pk) + "/", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    changed = api_client.get(
        api_path("photo-thumbnail", pk=photo.pk) + "/", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert changed.status_code == 200


def test_preview_and_missing_derivative(api_client, project, photos_root):
    photo = make_photo(project, "A")
    assert api_client.get(api_path("photo-preview", pk=photo.pk)).status_code == 404
    write_thumb(photos_root, photo, kind=".preview")
    response = api_client.get(api_path("photo-preview", pk=photo.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert api_client.get(api_path("photo-thumbnail", pk=photo.pk)).status_code == 404


def test_original_prefers_jpg_and_serves_raw_on_request(api_client, project, photos_root):
    photo = make_photo(project, "A", jpg=True, raw=True)
    jpg = api_client.get(api_path("photo-original", pk=photo.pk))
    assert jpg.status_code == 200
    assert jpg["Content-Type"] == "image/jpeg"
    assert b"".join(jpg.streaming_content).startswith(b"\xff\xd8")
    assert "A.jpg" in jpg["Content-Disposition"]
    raw = api_client.get(api_path("photo-original", pk=photo.pk) + "?file_type=raw&download=1")
    assert raw.status_code == 200
    assert b"".join(raw.streaming_content).startswith(b"RAW-STAND-IN")
    assert raw["Content-Disposition"].startswith("attachment")
    assert (
        api_client.get(api_path("photo-original", pk=photo.pk) + "?file_type=gif").status_code
        == 400
    )


def test_original_missing_on_disk_is_404(api_client, project):
    photo = make_photo(project, "A", write=False)
    assert api_client.get(api_path("photo-original", pk=photo.pk)).status_code == 404


def test_original_refuses_a_symlink_leaving_the_tenant(api_client, project, photos_root, tmp_path):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8secret")
    photo = make_photo(project, "A", write=False)
    (photos_root / "acme" / project.folder / "A.jpg").symlink_to(secret)
    assert api_client.get(api_path("photo-original", pk=photo.pk)).status_code == 404


@pytest.mark.parametrize("kind", ["thumbnail", "preview", "original"])
def test_files_of_other_tenant_are_404(api_client, foreign, photos_root, kind):
    photo = make_photo(foreign, "F")
    write_thumb(photos_root, photo)
    write_thumb(photos_root, photo, kind=".preview")
    assert api_client.get(api_path(f"photo-{kind}", pk=photo.pk)).status_code == 404


# --- keep ---------------------------------------------------------------------------------


def test_keep_across_two_projects(api_client, project, second):
    a = make_photo(project, "A", jpg=True, raw=True)
    b = make_photo(second, "B", jpg=True, raw=True)
    response = api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": a.pk, "keep_jpg": False}, {"photo_id": b.pk, "keep_raw": False}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 2}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.keep_jpg, a.keep_raw) == (False, True)
    assert (b.keep_jpg, b.keep_raw) == (True, False)
    assert Event.objects.filter(type="item", photo=a).exists()


def test_keep_dry_run_reports_and_writes_nothing(api_client, project):
    a = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-keep") + "/",
        {"items": [{"photo_id": a.pk, "keep_jpg": False}], "dry_run": True},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"]["per_item"] == [{"photo_id": a.pk, "would_update": {"keep_jpg": False}}]
    a.refresh_from_db()
    assert a.keep_jpg is True
    assert not Event.objects.filter(type="item").exists()


def test_keep_item_without_flags_is_ignored(api_client, project):
    a = make_photo(project, "A")
    b = make_photo(project, "B")
    response = api_client.post(
        api_path("photo-keep"),
        {"items": [{"photo_id": a.pk}, {"photo_id": b.pk, "keep_jpg": False}]},
        format="json",
    )
    assert response.json() == {"updated": 1}
    a.refresh_from_db()
    assert a.keep_jpg is True


def test_keep_unknown_and_foreign_ids_are_item_errors(api_client, project, foreign):
    a = make_photo(project, "A")
    theirs = make_photo(foreign, "F")
    response = api_client.post(
        api_path("photo-keep"),
        {
            "items": [
                {"photo_id": 999999, "keep_jpg": False},
                {"photo_id": theirs.pk, "keep_jpg": False},
                {"photo_id": a.pk, "keep_jpg": False},
                {"keep_jpg": False},
                {"photo_id": a.pk, "keep_raw": "yes"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["updated"] == 1
    errors = {(e["photo_id"], e["error"]) for e in body["errors"]}
    assert (999999, "Photo not found.") in errors
    assert (theirs.pk, "Photo not found.") in errors
    assert len(body["errors"]) == 4
    theirs.refresh_from_db()
    assert theirs.keep_jpg is True


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"items": "all"}, "items"),
        ({"items": [], "dry_run": "maybe"}, "dry_run"),
        ([{"photo_id": 1}], "detail"),
        ({}, "items"),
    ],
)
def test_keep_wrong_types_are_400(api_client, project, payload, fragment):
    response = api_client.post(api_path("photo-keep"), payload, format="json")
    assert response.status_code == 400
    assert fragment in response.json()


def test_keep_malformed_json_is_400(api_client, project):
    response = api_client.post(api_path("photo-keep"), "{items: [", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize(
    "name", ["keep", "tags-add", "tags-remove", "process", "move", "commit-changes"]
)
def test_more_than_2000_items_is_400_with_spec_text(api_client, project, name):
    key = "projects" if name == "commit-changes" else "items"
    body = {key: [{"photo_id": i} for i in range(1, MAX_ITEMS_PER_JOB + 2)], "dest_project": 1}
    response = api_client.post(api_path(f"photo-{name}"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Payload contains 2001 items, exceeding maximum of 2000."}
    assert not TaskRun.objects.exists()


def test_oversized_body_is_413(api_client, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    items = [{"photo_id": i, "keep_jpg": False} for i in range(1, 200)]
    response = api_client.post(api_path("photo-keep"), {"items": items}, format="json")
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]


def test_keep_2000_items_runs_fixed_queries(api_client, project, django_assert_max_num_queries):
    photos = many_photos(project, MAX_ITEMS_PER_JOB)
    items = [{"photo_id": p.pk, "keep_jpg": False} for p in photos]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-keep"), {"items": items}, format="json")
    assert response.json() == {"updated": MAX_ITEMS_PER_JOB}
    assert Photo.objects.filter(keep_jpg=False).count() == MAX_ITEMS_PER_JOB


def test_bulk_endpoints_are_throttled(api_client, project, settings):
    set_rate(settings, "bulk", "2/min")
    photo = make_photo(project, "A")
    body = {"items": [{"photo_id": photo.pk, "keep_jpg": False}]}
    assert api_client.post(api_path("photo-keep"), body, format="json").status_code == 200
    assert (
        api_client.post(api_path("photo-tags-add"), {"items": []}, format="json").status_code == 200
    )
    response = api_client.post(api_path("photo-keep"), body, format="json")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # Reads are not bulk writes.
    assert api_client.get(api_path("photo-list")).status_code == 200


# --- tags ---------------------------------------------------------------------------------


def test_tags_add_with_overlaps_across_projects(api_client, project, second):
    a = make_photo(project, "A")
    b = make_photo(second, "B")
    a.tags.add(Tag.objects.create(project=project, name="sky"))
    response = api_client.post(
        api_path("photo-tags-add"),
        {
            "items": [
                {"photo_id": a.pk, "tags": ["sky", "sea"]},
                {"photo_id": b.pk, "tags": ["sky"]},
                {"photo_id": a.pk, "tags": ["sea", "sand"]},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 2}
    assert sorted(a.tags.values_list("name", flat=True)) == ["sand", "sea", "sky"]
    assert list(b.tags.values_list("name", flat=True)) == ["sky"]
    assert Tag.objects.get(project=second, name="sky")
    detail = api_client.get(api_path("photo-detail", pk=a.pk)).json()
    assert detail["tags"] == ["sand", "sea", "sky"]


def test_tags_add_dry_run(api_client, project):
    a = make_photo(project, "A")
    a.tags.add(Tag.objects.create(project=project, name="sky"))
    response = api_client.post(
        api_path("photo-tags-add"),
        {"items": [{"photo_id": a.pk, "tags": ["sky", "sea"]}], "dry_run": True},
        format="json",
    )
    assert response.json()["dry_run"]["per_item"] == [{"photo_id": a.pk, "would_add": ["sea"]}]
    assert list(a.tags.values_list("name", flat=True)) == ["sky"]
    assert not Tag.objects.filter(name="sea").exists()


def test_tags_remove_with_overlaps_and_dry_run(api_client, project, second):
    a = make_photo(project, "A")
    b = make_photo(second, "B")
    a.tags.add(*[Tag.objects.create(project=project, name=n) for n in ("sky", "sea")])
    b.tags.add(Tag.objects.create(project=second, name="sky"))
    items = [{"photo_id": a.pk, "tags": ["sky", "snow"]}, {"photo_id": b.pk, "tags": ["sky"]}]
    dry = api_client.post(
        api_path("photo-tags-remove"), {"items": items, "dry_run": True}, format="json"
    ).json()
    assert dry["dry_run"]["per_item"] == [
        {"photo_id": a.pk, "would_remove": ["sky"]},
        {"photo_id": b.pk, "would_remove": ["sky"]},
    ]
    assert b.tags.count() == 1
    response = api_client.post(api_path("photo-tags-remove"), {"items": items}, format="json")
    assert response.json() == {"updated": 2}
    assert list(a.tags.values_list("name", flat=True)) == ["sea"]
    assert b.tags.count() == 0


def test_tags_of_foreign_photo_are_item_errors(api_client, project, foreign):
    theirs = make_photo(foreign, "F")
    mine = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-tags-add"),
        {"items": [{"photo_id": theirs.pk, "tags": ["x"]}, {"photo_id": mine.pk, "tags": ["x"]}]},
        format="json",
    )
    body = response.json()
    assert body["updated"] == 1
    assert body["errors"] == [{"photo_id": theirs.pk, "error": "Photo not found."}]
    assert theirs.tags.count() == 0
    assert not Tag.objects.filter(project=foreign).exists()


def test_tags_2000_items_run_fixed_queries(api_client, project, django_assert_max_num_queries):
    photos = many_photos(project, MAX_ITEMS_PER_JOB)
    items = [{"photo_id": p.pk, "tags": ["keeper", "blue"]} for p in photos]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-tags-add"), {"items": items}, format="json")
    assert response.json() == {"updated": MAX_ITEMS_PER_JOB}
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-tags-remove"), {"items": items}, format="json")
    assert response.json() == {"updated": MAX_ITEMS_PER_JOB}


# --- process ------------------------------------------------------------------------------


def test_process_two_projects_starts_one_task(api_client, project, second):
    a = make_photo(project, "A")
    b = make_photo(second, "B")
    response = api_client.post(
        api_path("photo-process"),
        {"items": [{"photo_id": a.pk}, {"photo_id": b.pk}, {"photo_id": 999999}]},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["job_count"] == 1
    assert body["errors"] == [{"photo_id": 999999, "error": "Photo not found."}]
    task = TaskRun.objects.get()
    assert str(task.pk) == body["task_id"]
    assert (task.type, task.scope) == ("generate_derivatives", "photo_set")
    assert sorted(JobItem.objects.values_list("photo_id", flat=True)) == sorted([a.pk, b.pk])
    assert sorted(task.payload["project_ids"]) == sorted([project.pk, second.pk])


def test_process_without_valid_item_is_400(api_client, project, foreign):
    theirs = make_photo(foreign, "F")
    response = api_client.post(
        api_path("photo-process"), {"items": [{"photo_id": theirs.pk}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"photo_id": theirs.pk, "error": "Photo not found."}]
    assert not TaskRun.objects.exists()


def test_process_2000_items_runs_fixed_queries(
    api_client, project, second, django_assert_max_num_queries
):
    photos = many_photos(project, 1000) + many_photos(second, 1000)
    items = [{"photo_id": p.pk} for p in photos]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-process"), {"items": items}, format="json")
    assert response.status_code == 202
    assert JobItem.objects.count() == MAX_ITEMS_PER_JOB


def test_process_dry_run_answers_per_item_and_starts_nothing(api_client, project, foreign):
    a = make_photo(project, "A")
    theirs = make_photo(foreign, "F")
    response = api_client.post(
        api_path("photo-process"),
        {
            "items": [{"photo_id": a.pk}, {"photo_id": theirs.pk}, {"nope": 1}],
            "dry_run": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    per_item = body["dry_run"]["per_item"]
    assert per_item[0] == {"photo_id": a.pk, "would_process": True}
    assert per_item[1] == {"photo_id": theirs.pk, "error": "Photo not found."}
    assert per_item[2]["photo_id"] is None
    assert per_item[2]["error"]
    assert [e["photo_id"] for e in body["errors"]] == [theirs.pk, None]
    assert "task_id" not in body
    assert not TaskRun.objects.exists()
    assert not Job.objects.exists()


def test_process_dry_run_of_2000_items_runs_fixed_queries(
    api_client, project, django_assert_max_num_queries
):
    items = [{"photo_id": p.pk} for p in many_photos(project, MAX_ITEMS_PER_JOB)]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(
            api_path("photo-process"), {"items": items, "dry_run": True}, format="json"
        )
    assert response.status_code == 200
    assert len(response.json()["dry_run"]["per_item"]) == MAX_ITEMS_PER_JOB
    assert not TaskRun.objects.exists()


# --- move ---------------------------------------------------------------------------------


def test_move_starts_image_move(api_client, project, second):
    a = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-move"),
        {"items": [{"photo_id": a.pk}], "dest_project": second.pk},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["destination_project"] == second.pk
    task = TaskRun.objects.get(pk=body["task_id"])
    assert task.type == "image_move"
    assert task.payload["dest_project_id"] == second.pk


def test_move_to_unknown_or_foreign_destination_is_404(api_client, project, foreign):
    a = make_photo(project, "A")
    for dest in (999999, foreign.pk):
        response = api_client.post(
            api_path("photo-move"),
            {"items": [{"photo_id": a.pk}], "dest_project": dest},
            format="json",
        )
        assert response.status_code == 404
    assert not TaskRun.objects.exists()


def test_move_photo_already_in_destination_is_item_error(api_client, project, second):
    a = make_photo(project, "A")
    b = make_photo(second, "B")
    response = api_client.post(
        api_path("photo-move"),
        {"items": [{"photo_id": a.pk}, {"photo_id": b.pk}], "dest_project": second.pk},
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    assert [e["photo_id"] for e in body["errors"]] == [b.pk]
    assert list(JobItem.objects.values_list("photo_id", flat=True)) == [a.pk]


def test_move_without_destination_is_400(api_client, project):
    a = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-move"), {"items": [{"photo_id": a.pk}]}, format="json"
    )
    assert response.status_code == 400
    assert "dest_project" in response.json()


def test_move_2000_items_runs_fixed_queries(
    api_client, project, second, django_assert_max_num_queries
):
    photos = many_photos(project, MAX_ITEMS_PER_JOB)
    items = [{"photo_id": p.pk} for p in photos]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(
            api_path("photo-move"), {"items": items, "dest_project": second.pk}, format="json"
        )
    assert response.status_code == 202
    assert JobItem.objects.count() == MAX_ITEMS_PER_JOB


def test_move_dry_run_reports_clashes_and_moves_nothing(api_client, project, second, photos_root):
    a = make_photo(project, "A")
    clash = make_photo(project, "SAME")
    make_photo(second, "SAME")
    on_disk = make_photo(project, "DISK")
    disk_file = photos_root / second.tenant.slug / second.folder / "DISK.jpg"
    disk_file.write_bytes(b"someone else's file")
    before = sorted(p.name for p in (photos_root / project.tenant.slug / project.folder).iterdir())
    response = api_client.post(
        api_path("photo-move"),
        {
            "items": [
                {"photo_id": a.pk},
                {"photo_id": clash.pk},
                {"photo_id": on_disk.pk},
                {"photo_id": 999999},
            ],
            "dest_project": second.pk,
            "dry_run": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    per_item = response.json()["dry_run"]["per_item"]
    assert per_item[0] == {"photo_id": a.pk, "would_move": True}
    assert per_item[1]["photo_id"] == clash.pk
    assert "already exists" in per_item[1]["error"]
    assert per_item[2]["photo_id"] == on_disk.pk
    assert "already exists" in per_item[2]["error"]
    assert per_item[3] == {"photo_id": 999999, "error": "Photo not found."}
    assert len(response.json()["errors"]) == 3
    assert not TaskRun.objects.exists()
    assert Photo.objects.get(pk=a.pk).project_id == project.pk
    after = sorted(p.name for p in (photos_root / project.tenant.slug / project.folder).iterdir())
    assert after == before
    assert disk_file.read_bytes() == b"someone else's file"


def test_move_dry_run_to_a_foreign_destination_is_still_404(api_client, project, foreign):
    a = make_photo(project, "A")
    response = api_client.post(
        api_path("photo-move"),
        {"items": [{"photo_id": a.pk}], "dest_project": foreign.pk, "dry_run": True},
        format="json",
    )
    assert response.status_code == 404


def test_move_dry_run_of_2000_items_runs_fixed_queries(
    api_client, project, second, django_assert_max_num_queries
):
    items = [{"photo_id": p.pk} for p in many_photos(project, MAX_ITEMS_PER_JOB)]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(
            api_path("photo-move"),
            {"items": items, "dest_project": second.pk, "dry_run": True},
            format="json",
        )
    assert response.status_code == 200
    assert len(response.json()["dry_run"]["per_item"]) == MAX_ITEMS_PER_JOB
    assert not TaskRun.objects.exists()


# --- commit, revert, pending deletes ------------------------------------------------------


def test_commit_across_two_projects_starts_one_change_commit_all(api_client, project, second):
    a = make_photo(project, "A", keep_jpg=False)
    b = make_photo(second, "B", jpg=True, raw=True, keep_jpg=False, keep_raw=False)
    make_photo(second, "KEEP")
    response = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued_projects"] == 2
    assert body["total_pending"] == 2
    assert {p["project_id"] for p in body["projects"]} == {project.pk, second.pk}
    task = TaskRun.objects.get()
    assert (task.type, str(task.pk)) == ("change_commit_all", body["task_id"])
    item_photos = list(JobItem.objects.values_list("photo_id", flat=True))
    assert sorted(item_photos) == sorted([a.pk, b.pk])


def test_commit_named_projects_reports_missing(api_client, project, second, foreign):
    make_photo(project, "A", keep_jpg=False)
    make_photo(second, "B", keep_jpg=False)
    make_photo(foreign, "F", keep_jpg=False)
    response = api_client.post(
        api_path("photo-commit-changes"),
        {"projects": [project.pk, foreign.pk, 999999]},
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    assert [p["project_id"] for p in body["projects"]] == [project.pk]
    assert sorted(body["missing"]) == sorted([foreign.pk, 999999])


def test_commit_only_unknown_projects_never_means_all(api_client, project):
    make_photo(project, "A", keep_jpg=False)
    response = api_client.post(
        api_path("photo-commit-changes"), {"projects": [999999]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["queued_projects"] == 0
    assert response.json()["missing"] == [999999]
    assert not TaskRun.objects.exists()


def test_commit_with_null_projects_is_400(api_client, project):
    make_photo(project, "A", keep_jpg=False)
    response = api_client.post(api_path("photo-commit-changes"), {"projects": None}, format="json")
    assert response.status_code == 400
    assert not TaskRun.objects.exists()


def test_commit_nothing_pending_is_200(api_client, project):
    make_photo(project, "A")
    response = api_client.post(api_path("photo-commit-changes") + "/")
    assert response.status_code == 200
    assert response.json()["queued_projects"] == 0
    assert response.json()["projects"] == []


def test_commit_2000_pending_runs_fixed_queries(api_client, project, django_assert_max_num_queries):
    many_photos(project, MAX_ITEMS_PER_JOB, keep_jpg=False)
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        response = api_client.post(api_path("photo-commit-changes"), {}, format="json")
    assert response.status_code == 202
    assert response.json()["total_pending"] == MAX_ITEMS_PER_JOB


def test_revert_changes(api_client, project, second, foreign):
    a = make_photo(project, "A", keep_jpg=False)
    theirs = make_photo(foreign, "F", keep_jpg=False)
    response = api_client.post(api_path("photo-revert-changes"), {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["updated_projects"] == 1
    assert body["projects"][0]["project_id"] == project.pk
    a.refresh_from_db()
    theirs.refresh_from_db()
    assert a.keep_jpg is True
    assert theirs.keep_jpg is False
    foreign_reply = api_client.post(
        api_path("photo-revert-changes"), {"projects": [foreign.pk]}, format="json"
    ).json()
    assert foreign_reply["missing"] == [foreign.pk]


def test_commit_and_revert_are_throttled(api_client, project, settings):
    set_rate(settings, "commit", "2/5min")
    assert api_client.post(api_path("photo-commit-changes")).status_code == 200
    assert api_client.post(api_path("photo-revert-changes")).status_code == 200
    response = api_client.post(api_path("photo-commit-changes"))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 300


def test_pending_deletes(api_client, project, second, foreign):
    make_photo(project, "A", jpg=True, raw=True, keep_jpg=False, keep_raw=False)
    make_photo(second, "B", keep_jpg=False)
    make_photo(foreign, "F", keep_jpg=False)
    body = api_client.get(api_path("photo-pending-deletes")).json()
    assert (body["jpg"], body["raw"], body["total"]) == (2, 1, 3)
    assert {p["project_id"] for p in body["by_project"]} == {project.pk, second.pk}
    raw_only = api_client.get(api_path("photo-pending-deletes") + "/?file_type=raw").json()
    assert (raw_only["jpg"], raw_only["raw"]) == (0, 1)
    refused = {
        "file_type=gif": "file_type must be jpg, raw or all.",
        "date_from=soon": "date_from must be an ISO date or date-time.",
        "date_to=9999-12-31": "date_to must be a date or date-time between 0001-01-01 and 9998-12-31.",
        "orientation=9": "orientation must be landscape, portrait, square or an EXIF value 1–8.",
        "orientation=diagonal": "orientation must be landscape, portrait, square or an EXIF value 1–8.",
    }
    for query, detail in refused.items():
        response = api_client.get(api_path("photo-pending-deletes") + f"?{query}")
        assert (response.status_code, response.json()) == (400, {"detail": detail}), query
    upper = api_client.get(
        api_path("photo-pending-deletes") + "?file_type=%20RAW%20&orientation=any"
    )
    assert (upper.status_code, upper.json()["raw"]) == (200, 1)
