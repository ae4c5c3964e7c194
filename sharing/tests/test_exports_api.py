"""``/api/exports/`` (SPEC §18): validation in DRF's shape, per-item errors, the tenant's
exports only, roles, the throttle, and downloads with range requests."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import TaskRun
from jobs.runtime import drain
from photos.models import Photo
from sharing import exportfiles
from sharing.models import Export, ShareLink, SharePick
from tests.factories import make_photo, make_user
from tests.urls import api_path

URL = api_path("export-list")


@pytest.fixture
def editor_client(tenant, client_for):
    return client_for(make_user(tenant, "eddie", role="editor"))


@pytest.fixture
def photos(project):
    return [make_photo(project, f"IMG_{n}") for n in range(3)]


def _items(*photos):  # type: ignore[no-untyped-def]
    return [{"photo_id": p.pk} for p in photos]


def _export(client, body):  # type: ignore[no-untyped-def]
    reply = client.post(URL, body, format="json")
    assert reply.status_code == 202, reply.content
    return reply.json()


def _completed(client, photos) -> dict:  # type: ignore[no-untyped-def]
    started = _export(client, {"items": _items(*photos), "kind": "originals"})
    drain()
    return client.get(api_path("export-detail", pk=started["id"])).json()


# --- POST -----------------------------------------------------------------------------------


def test_post_starts_an_export_task_and_answers_202(editor_client, photos):
    body = _export(
        editor_client,
        {"items": _items(*photos), "kind": "jpeg", "long_edge": 1024, "quality": 75},
    )
    assert body["status"] == "queued"
    assert body["kind"] == "jpeg"
    assert (body["long_edge"], body["quality"]) == (1024, 75)
    assert body["name_template"] == "{basename}"
    assert body["photo_count"] == 3
    assert body["download_url"] is None
    assert "errors" not in body
    task = TaskRun.objects.get(pk=body["task_id"])
    assert task.type == "export"
    assert task.payload["export_id"] == body["id"]
    assert task.payload["title"] == "Exporting 3 photos"
    job = task.jobs.get()
    assert job.type == "export_files"
    assert list(job.items.order_by("id").values_list("photo_id", flat=True)) == [
        p.pk for p in photos
    ]


def test_jpeg_defaults_are_2048_and_90(editor_client, photos):
    body = _export(editor_client, {"items": _items(photos[0]), "kind": "jpeg"})
    assert (body["long_edge"], body["quality"]) == (2048, 90)


def test_unknown_and_other_tenants_photos_are_item_errors_and_the_rest_is_exported(
    editor_client, photos, other_project
):
    foreign = make_photo(other_project, "THEIRS")
    body = _export(
        editor_client,
        {
            "items": [{"photo_id": photos[0].pk}, {"photo_id": 999999}, {"photo_id": foreign.pk}],
            "kind": "originals",
        },
    )
    assert body["photo_count"] == 1
    assert body["errors"] == [
        {"photo_id": 999999, "error": "Photo not found."},
        {"photo_id": foreign.pk, "error": "Photo not found."},
    ]


def test_no_valid_photo_is_a_400_with_the_item_errors(editor_client, other_project):
    foreign = make_photo(other_project, "THEIRS")
    reply = editor_client.post(
        URL, {"items": [{"photo_id": foreign.pk}, {"x": 1}], "kind": "originals"}, format="json"
    )
    assert reply.status_code == 400
    assert reply.json()["detail"] == "No valid photos to export."
    assert reply.json()["errors"] == [
        {"photo_id": foreign.pk, "error": "Photo not found."},
        {"photo_id": None, "error": "photo_id is required."},
    ]
    assert Export.objects.count() == 0
    assert TaskRun.objects.count() == 0


def test_more_than_2000_items_is_refused_with_the_spec_text(editor_client):
    items = [{"photo_id": n} for n in range(1, 2002)]
    reply = editor_client.post(URL, {"items": items, "kind": "originals"}, format="json")
    assert reply.status_code == 400
    assert reply.json() == {"detail": "Payload contains 2001 items, exceeding maximum of 2000."}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"items": [1]}, {"kind": ["This field is required."]}),
        ({"items": [1], "kind": "tiff"}, {"kind": ['"tiff" is not a valid choice.']}),
        ({"kind": "jpeg"}, {"non_field_errors": ["Give items (photo ids) or share (a link id)."]}),
        (
            {"items": [1], "share": 1, "kind": "jpeg"},
            {"non_field_errors": ["Give either items or share, not both."]},
        ),
        ({"items": [], "kind": "jpeg"}, {"items": ["No photos to export."]}),
        (
            {"items": [1], "kind": "jpeg", "quality": 0},
            {"quality": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"items": [1], "kind": "jpeg", "long_edge": 50000},
            {"long_edge": ["Ensure this value is less than or equal to 20000."]},
        ),
        (
            {"items": [1], "kind": "originals", "quality": 80},
            {"quality": ["Only for JPEG exports (kind: jpeg)."]},
        ),
        (
            {"items": [1], "kind": "jpeg", "name_template": "{date}_{foo}"},
            {
                "name_template": [
                    "Unknown field {foo} in the name template; use {basename}, {date}, {seq} or"
                    " {camera}."
                ]
            },
        ),
        (
            {"items": [1], "kind": "jpeg", "name_template": "{seq:04d}"},
            {"name_template": ["Field {seq} takes no format in the name template."]},
        ),
        (
            {"items": [1], "kind": "jpeg", "name_template": "plain"},
            {
                "name_template": [
                    "The name template needs at least one field: {basename}, {date}, {seq},"
                    " {camera}."
                ]
            },
        ),
        (
            {"items": [1], "kind": "jpeg", "name_template": "{date"},
            {
                "name_template": [
                    "The name template is not valid (expected '}' before end of string)."
                ]
            },
        ),
        (
            {"items": [1], "kind": "originals", "picks_only": True},
            {"picks_only": ["Only with share."]},
        ),
    ],
)
def test_bad_bodies_are_400_in_drf_shape_and_start_nothing(editor_client, body, errors):
    reply = editor_client.post(URL, body, format="json")
    assert reply.status_code == 400, reply.content
    assert reply.json() == errors
    assert Export.objects.count() == 0


def test_the_generic_task_endpoint_does_not_start_an_export(editor_client, photos):
    reply = editor_client.post(
        api_path("task-list"), {"task_type": "export", "items": _items(photos[0])}, format="json"
    )
    assert reply.status_code == 400
    assert reply.json() == {"detail": "An export task starts only through POST /api/exports/."}
    assert TaskRun.objects.count() == 0


def test_a_body_that_is_not_an_object_is_a_400(editor_client):
    reply = editor_client.post(URL, [1, 2], format="json")
    assert reply.status_code == 400
    assert "Expected a JSON object" in reply.json()["detail"]


def test_a_viewer_and_a_culler_may_not_export(tenant, client_for, photos):
    for role in ("viewer", "culler"):
        client = client_for(make_user(tenant, role, role=role))
        reply = client.post(URL, {"items": _items(photos[0]), "kind": "jpeg"}, format="json")
        assert reply.status_code == 403
        assert reply.json() == {"detail": f"Your role ({role}) may not export photos."}
    assert Export.objects.count() == 0


def test_exports_are_throttled_per_user(editor_client, photos, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "export": "2/10min",
        },
    }
    body = {"items": _items(photos[0]), "kind": "originals"}
    for _ in range(2):
        assert editor_client.post(URL, body, format="json").status_code == 202
    reply = editor_client.post(URL, body, format="json")
    assert reply.status_code == 429
    assert int(reply["Retry-After"]) > 0
    assert Export.objects.count() == 2


# --- a share link ---------------------------------------------------------------------------


def _link(tenant, photos, **fields):  # type: ignore[no-untyped-def]
    link = ShareLink(tenant=tenant, title="Selects", **fields)
    link.token_set()
    link.save()
    link.photos.set(photos)
    return link


def test_share_exports_the_links_public_photos(editor_client, tenant, photos):
    Photo.objects.filter(pk__in=[photos[0].pk, photos[2].pk]).update(visibility="public")
    link = _link(tenant, photos)
    body = _export(editor_client, {"share": link.pk, "kind": "originals"})
    assert body["share"] == link.pk
    assert body["photo_count"] == 2
    task = TaskRun.objects.get(pk=body["task_id"])
    assert sorted(task.jobs.get().items.values_list("photo_id", flat=True)) == [
        photos[0].pk,
        photos[2].pk,
    ]


def test_share_with_picks_only_exports_the_clients_picks(editor_client, tenant, photos):
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(visibility="public")
    link = _link(tenant, photos)
    SharePick.objects.create(link=link, photo=photos[1], picked=True, client_name="Ann")
    SharePick.objects.create(link=link, photo=photos[2], picked=False, client_name="Ann")
    body = _export(editor_client, {"share": link.pk, "kind": "originals", "picks_only": True})
    assert body["photo_count"] == 1


@pytest.mark.parametrize("state", ["revoked", "expired", "other tenant", "unknown"])
def test_a_link_that_is_not_live_or_not_ours_is_404(
    state, editor_client, tenant, other_tenant, photos
):
    Photo.objects.update(visibility="public")
    fields = {
        "revoked": {"revoked_at": timezone.now()},
        "expired": {"expires_at": timezone.now() - timedelta(minutes=1)},
    }.get(state, {})
    link = _link(other_tenant if state == "other tenant" else tenant, photos, **fields)
    share = 999999 if state == "unknown" else link.pk
    reply = editor_client.post(URL, {"share": share, "kind": "jpeg"}, format="json")
    assert reply.status_code == 404
    assert reply.json() == {"detail": "Share link not found."}
    assert Export.objects.count() == 0


# --- reading --------------------------------------------------------------------------------


def test_list_and_detail_show_only_the_tenants_exports(
    editor_client, other_client, photos, other_project
):
    ours = _export(editor_client, {"items": _items(photos[0]), "kind": "originals"})
    theirs = _export(
        other_client, {"items": _items(make_photo(other_project, "X")), "kind": "originals"}
    )
    listed = editor_client.get(URL).json()
    assert [e["id"] for e in listed["results"]] == [ours["id"]]
    assert editor_client.get(api_path("export-detail", pk=theirs["id"])).status_code == 404
    assert editor_client.get(api_path("export-download", pk=theirs["id"])).status_code == 404
    assert other_client.get(api_path("export-detail", pk=ours["id"])).status_code == 404


def test_the_list_filters_by_task(editor_client, photos):
    first = _export(editor_client, {"items": _items(photos[0]), "kind": "originals"})
    _export(editor_client, {"items": _items(photos[1]), "kind": "jpeg"})
    listed = editor_client.get(URL, {"task": first["task_id"]}).json()
    assert [e["id"] for e in listed["results"]] == [first["id"]]
    assert editor_client.get(URL, {"task": "not-a-uuid"}).status_code == 400


def test_detail_reports_progress_size_expiry_and_the_download_url(editor_client, photos):
    body = _completed(editor_client, photos)
    assert body["status"] == "completed"
    assert body["progress"] == {"done": 3, "total": 3}
    assert body["size"] > 0
    assert body["expires_at"] is not None
    assert body["download_url"] == f"/api/exports/{body['id']}/download"
    assert body["file_name"].endswith(f"-{body['id']}.zip")


def test_a_failed_job_shows_the_export_failed(editor_client, photos):
    body = _export(editor_client, {"items": _items(photos[0]), "kind": "originals"})
    TaskRun.objects.filter(pk=body["task_id"]).update(status="failed")
    assert editor_client.get(api_path("export-detail", pk=body["id"])).json()["status"] == "failed"


def test_a_viewer_may_read_and_download(tenant, client_for, editor_client, photos):
    body = _completed(editor_client, photos)
    viewer = client_for(make_user(tenant, "vic", role="viewer"))
    assert viewer.get(api_path("export-detail", pk=body["id"])).status_code == 200
    assert viewer.get(body["download_url"]).status_code == 200


# --- download -------------------------------------------------------------------------------


def _bytes(reply) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(reply.streaming_content)


def test_download_before_completion_is_404(editor_client, photos):
    body = _export(editor_client, {"items": _items(photos[0]), "kind": "originals"})
    reply = editor_client.get(api_path("export-download", pk=body["id"]))
    assert reply.status_code == 404
    assert reply.json() == {"detail": f"Export {body['id']} is queued, not ready."}


def test_download_sends_the_whole_zip_with_accept_ranges(editor_client, photos):
    body = _completed(editor_client, photos)
    reply = editor_client.get(body["download_url"])
    assert reply.status_code == 200
    assert reply["Accept-Ranges"] == "bytes"
    assert reply["Content-Type"] == "application/zip"
    assert reply["Content-Length"] == str(body["size"])
    assert f'filename="{body["file_name"]}"' in reply["Content-Disposition"]
    data = _bytes(reply)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"]


def test_range_requests_get_206_with_the_bytes_asked_for(editor_client, photos):
    body = _completed(editor_client, photos)
    export = Export.objects.get(pk=body["id"])
    whole = exportfiles.zip_path(export.tenant.slug, export.pk).read_bytes()
    size = len(whole)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size + 500}": (10, size - 1),
    }
    for header, (first, last) in cases.items():
        reply = editor_client.get(body["download_url"], HTTP_RANGE=header)
        assert reply.status_code == 206, header
        assert reply["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert reply["Content-Length"] == str(last - first + 1)
        assert _bytes(reply) == whole[first : last + 1]
    # A download resumed in pieces gives the same file.
    pieces = [
        _bytes(editor_client.get(body["download_url"], HTTP_RANGE=f"bytes={start}-{start + 999}"))
        for start in range(0, size, 1000)
    ]
    assert b"".join(pieces) == whole


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_with_the_size(editor_client, photos, header):
    body = _completed(editor_client, photos)
    size = body["size"]
    reply = editor_client.get(body["download_url"], HTTP_RANGE=header.format(size=size))
    assert reply.status_code == 416
    assert reply["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-10", "bytes=0-1,5-9", "bytes=x-"])
def test_a_malformed_or_multiple_range_gets_the_whole_file(editor_client, photos, header):
    body = _completed(editor_client, photos)
    reply = editor_client.get(body["download_url"], HTTP_RANGE=header)
    assert reply.status_code == 200
    assert len(_bytes(reply)) == body["size"]


def test_if_range_sends_the_range_only_for_the_same_version(editor_client, photos):
    body = _completed(editor_client, photos)
    first = editor_client.get(body["download_url"])
    etag = first["ETag"]
    same = editor_client.get(body["download_url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert same.status_code == 206
    other = editor_client.get(
        body["download_url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"another-version"'
    )
    assert other.status_code == 200
    assert len(_bytes(other)) == body["size"]
    dated = editor_client.get(
        body["download_url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=first["Last-Modified"]
    )
    assert dated.status_code == 206
    assert editor_client.get(body["download_url"], HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_an_expired_export_is_gone(editor_client, photos):
    from sharing.exports import exports_expired_delete

    body = _completed(editor_client, photos)
    Export.objects.filter(pk=body["id"]).update(expires_at=timezone.now())
    assert exports_expired_delete(now=timezone.now()) == 1
    detail = editor_client.get(api_path("export-detail", pk=body["id"])).json()
    assert detail["status"] == "expired"
    assert detail["download_url"] is None
    assert editor_client.get(body["download_url"]).status_code == 404


def test_starting_an_export_costs_the_same_queries_for_2_or_40_photos(editor_client, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    many = [make_photo(project, f"P_{n}", write=False) for n in range(40)]
    counts = []
    for chosen in (many[:2], many):
        with CaptureQueriesContext(connection) as queries:
            _export(editor_client, {"items": _items(*chosen), "kind": "originals"})
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_list_costs_the_same_queries_for_2_or_12_exports(editor_client, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    photo = make_photo(project, "P", write=False)
    counts = []
    for n in (2, 10):
        for _ in range(n):
            _export(editor_client, {"items": _items(photo), "kind": "originals"})
        with CaptureQueriesContext(connection) as queries:
            listed = editor_client.get(URL).json()
        assert all(e["progress"] == {"done": 0, "total": 1} for e in listed["results"])
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
