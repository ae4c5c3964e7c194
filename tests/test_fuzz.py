"""Bad input, generated (hypothesis): the bulk endpoints and upload never answer 5xx, and
path-traversal names in uploads, project names and tags never reach outside their folder.

Near-valid bodies (real photo ids of this tenant and of another, wrong types, huge numbers,
odd flags) find more than random JSON does, so both are generated. Uploads are raw multipart
bodies written here, because Django's test client would strip a file name's directories
before the server sees it. Throttles are off; examples are bounded to keep the run short.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.limits import MAX_ITEMS_PER_JOB
from photos.models import Photo, Tag
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, make_project
from tests.urls import api_path

pytestmark = pytest.mark.timeout(300)

FUZZ = hypothesis_settings(
    # FUZZ_EXAMPLES=2000 for a long local hunt; CI keeps the default short.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TRAVERSAL_NAMES = [
    "../evil.jpg",
    "../../etc/passwd.jpg",
    "..\\evil.jpg",
    "..\\..\\evil.jpg",
    "a/../../evil.jpg",
    "/tmp/evil.jpg",
    "/evil.jpg",
    "C:\\evil.jpg",
    "..",
    ".",
    "...",
    "../",
    "./.trash/evil.jpg",
    ".trash",
    ".thumb/evil.webp",
    ".project.yaml",
    "evil.jpg\x00.png",
    "evil\x00",
    "%2e%2e%2fevil.jpg",
    "..%2fevil.jpg",
    "..%c0%afevil.jpg",
    "\u2025/evil.jpg",
    "\uff0e\uff0e/evil.jpg",
    " ../evil.jpg",
    "~/evil.jpg",
    "evil.jpg/..",
    "a" * 300 + ".jpg",
    "",
    " ",
    "\t\n",
    "con.jpg",
    "IMG\u202egpj.exe",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=False)
    | st.text(max_size=20)
)
any_json = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
tag_names = st.sampled_from(TRAVERSAL_NAMES) | st.text(max_size=40)


@pytest.fixture
def api(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def world(tenant, other_tenant, project):
    """Photos of the user's tenant (in two projects) and of another tenant."""
    second = make_project(tenant, "Second")
    foreign = make_project(other_tenant, "Foreign")
    mine = [make_photo(project, f"MINE_{i}", raw=True).pk for i in range(3)]
    mine.append(make_photo(second, "OTHER_PROJECT", raw=True).pk)
    theirs = [make_photo(foreign, "THEIRS", raw=True).pk]
    return {
        "photo_ids": mine,
        "foreign_photo_ids": theirs,
        "project_ids": [project.pk, second.pk],
        "foreign_project_ids": [foreign.pk],
    }


def send(api, method: str, path: str, body):  # type: ignore[no-untyped-def]
    """Encoded here, not by the client: NaN goes over the wire as a sloppy client sends it."""
    payload = json.dumps(body, allow_nan=True)
    return getattr(api, method)(path, payload, content_type="application/json")


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@st.composite
def bulk_requests(draw, world):  # type: ignore[no-untyped-def]
    ids = world["photo_ids"] + world["foreign_photo_ids"]
    projects = world["project_ids"] + world["foreign_project_ids"]
    photo_id = st.sampled_from(ids) | json_scalars
    item = st.fixed_dictionaries(
        {"photo_id": photo_id},
        optional={
            "keep_jpg": st.booleans() | json_scalars,
            "keep_raw": st.booleans() | json_scalars,
            "tags": st.lists(tag_names, max_size=3) | any_json,
        },
    )
    items = st.lists(item, max_size=6) | any_json
    path = draw(
        st.sampled_from(
            [
                api_path("photo-keep"),
                api_path("photo-tags-add"),
                api_path("photo-tags-remove"),
                api_path("photo-process"),
                api_path("photo-move"),
                api_path("photo-commit-changes"),
                api_path("photo-revert-changes"),
            ]
        )
    )
    structured = st.fixed_dictionaries(
        {"items": items},
        optional={
            "dry_run": st.booleans() | json_scalars,
            "force": st.booleans() | json_scalars,
            "dest_project": st.sampled_from(projects) | json_scalars,
            "projects": st.lists(st.sampled_from(projects) | json_scalars, max_size=3)
            | json_scalars,
        },
    )
    body = draw(structured | any_json)
    return path, body


def test_bulk_endpoints_never_answer_with_a_server_error(api, world):
    seen: set[int] = set()

    @FUZZ
    @given(request=bulk_requests(world))
    def run(request):  # type: ignore[no-untyped-def]
        path, body = request
        response = send(api, "post", path, body)
        seen.add(response.status_code)
        assert response.status_code < 500, (path, body, response.content[:500])
        assert response["Content-Type"].startswith("application/json")

    run()
    # The run reached past validation into the services, not only the 400s.
    assert seen & {200, 202}, seen
    # Another tenant's photos were never touched by anything above.
    assert Photo.objects.filter(pk__in=world["foreign_photo_ids"], keep_jpg=True).count() == 1
    assert not Tag.objects.filter(project_id__in=world["foreign_project_ids"]).exists()


def test_bulk_endpoints_refuse_more_than_the_item_limit(api, world):
    items = [{"photo_id": world["photo_ids"][0], "keep_jpg": False}] * (MAX_ITEMS_PER_JOB + 1)
    for path in (api_path("photo-keep"), api_path("photo-tags-add"), api_path("photo-process")):
        response = api.post(path, {"items": items}, format="json")
        assert response.status_code == 400
        assert response.json()["detail"] == (
            f"Payload contains {MAX_ITEMS_PER_JOB + 1} items, exceeding maximum of 2000."
        )


def multipart(files: list[tuple[str, bytes]], boundary: str = "fuzzBOUNDARYfuzz") -> bytes:
    """A multipart body with the file names exactly as given (no client-side cleaning)."""
    parts = []
    for name, content in files:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="files"; filename="{quoted}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode("utf-8", "surrogatepass")
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


upload_names = st.sampled_from(TRAVERSAL_NAMES) | st.builds(
    lambda stem, ext: stem + ext,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from([".jpg", ".JPG", ".cr2", ".png", ".txt", ".exe", "", ".jpg/"]),
)


def test_upload_never_5xx_and_never_writes_outside_the_project_folder(
    api, project, photos_root, tmp_path
):
    folder = (photos_root / project.tenant.slug / project.folder).resolve()
    jpeg = jpeg_bytes()
    accepted: list[str] = []

    @FUZZ
    @given(
        names=st.lists(upload_names, min_size=1, max_size=3),
        content=st.sampled_from([jpeg, b"", b"not an image", jpeg[:50]]),
    )
    def run(names, content):  # type: ignore[no-untyped-def]
        before = snapshot(photos_root)
        outside_before = set(os.listdir(tmp_path))
        response = api.post(
            api_path("project-upload", pk=project.pk),
            data=multipart([(n, content) for n in names]),
            content_type="multipart/form-data; boundary=fuzzBOUNDARYfuzz",
        )
        assert response.status_code < 500, (names, response.content[:500])
        for new in snapshot(photos_root) - before:
            path = (photos_root / new).resolve()
            assert path.parent == folder, f"{names!r} wrote {new!r}"
            assert not path.name.startswith("."), f"{names!r} wrote hidden {new!r}"
        assert set(os.listdir(tmp_path)) == outside_before
        if response.status_code == 201:
            saved = [f["name"] if isinstance(f, dict) else f for f in response.json()["files"]]
            for name in map(str, saved):
                # A single path component: "IMG..jpg" is a name, "../x.jpg" a traversal.
                assert "/" not in name
                assert "\\" not in name
                assert "\x00" not in name
                assert name not in {".", ".."}
                assert not name.startswith(".")
            accepted.extend(map(str, saved))

    run()
    assert accepted, "no upload was ever accepted: the run only exercised refusals"
    # Photos were created only for files that exist in the project folder.
    for photo in Photo.objects.filter(project=project):
        assert any(p.name.startswith(photo.basename + ".") for p in folder.iterdir())


def test_project_names_with_traversal_become_safe_folders_inside_the_tenant_root(
    api, tenant, photos_root
):
    tenant_root = (photos_root / tenant.slug).resolve()
    tenant_root.mkdir(parents=True, exist_ok=True)

    @FUZZ
    @given(name=st.sampled_from(TRAVERSAL_NAMES) | st.text(max_size=80) | any_json)
    def run(name):  # type: ignore[no-untyped-def]
        before = snapshot(photos_root)
        response = send(api, "post", api_path("project-list"), {"name": name})
        assert response.status_code < 500, (name, response.content[:500])
        if response.status_code == 201:
            folder = response.json()["folder"]
            assert folder
            assert folder == folder.strip()
            assert "/" not in folder
            assert "\\" not in folder
            assert "\x00" not in folder
            assert folder not in {".", ".."}
            assert not folder.startswith(".")
            assert len(folder) <= 240
            assert not any(unicodedata.category(c) == "Cc" for c in folder)
            for new in snapshot(photos_root) - before:
                resolved = (photos_root / new).resolve()
                assert resolved.is_relative_to(tenant_root / folder), new
            project_id = response.json()["id"]
            renamed = send(api, "patch", api_path("project-detail", pk=project_id), {"name": name})
            assert renamed.status_code < 500
        else:
            assert snapshot(photos_root) == before

    run()
    for project in Project.objects.filter(tenant=tenant):
        assert (tenant_root / project.folder).resolve().parent == tenant_root


@pytest.mark.parametrize("name", [".hidden", "./.trash/evil.jpg", " .profile"])
def test_project_folder_is_never_hidden(api, name):
    response = api.post(api_path("project-list"), {"name": name}, format="json")
    assert response.status_code == 201
    assert not response.json()["folder"].startswith(".")


def test_tags_with_traversal_or_control_characters_touch_no_file(api, world, photos_root):
    photo_id = world["photo_ids"][0]

    @FUZZ
    @given(tags=st.lists(tag_names, min_size=1, max_size=4))
    def run(tags):  # type: ignore[no-untyped-def]
        before = snapshot(photos_root)
        items = [{"photo_id": photo_id, "tags": tags}]
        added = send(api, "post", api_path("photo-tags-add"), {"items": items})
        assert added.status_code < 500, (tags, added.content[:500])
        removed = send(api, "post", api_path("photo-tags-remove"), {"items": items})
        assert removed.status_code < 500, (tags, removed.content[:500])
        assert snapshot(photos_root) == before  # tags are data: never a file or a folder
        for name in Tag.objects.values_list("name", flat=True):
            assert name == name.strip()
            assert name
            assert not any(unicodedata.category(c) in {"Cc", "Cs"} for c in name), repr(name)

    run()


# --- query parameters of every list endpoint (SPEC §9: edge values are 400s, never 500s) -----

EDGE_VALUES = [
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "10000-01-01",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-13-45",
    "2026-01-01T25:00",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "",
    " ",
    "\x00",
    "²",
    "1" * 500,
    "true",
    "../",
    "\u202e",
    "not-a-cursor",
    "cD0yMDI2",
]


def get_endpoints_with_query_parameters() -> list[tuple[str, list[str]]]:
    """Every GET endpoint of the OpenAPI schema with its query parameters (plus ordering)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    endpoints = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or path.endswith("/stream/") or path == "/api/schema/":
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        endpoints.append((path, [*names, "ordering", "page", "page_size", "cursor"]))
    return endpoints


@pytest.fixture
def listed(world, project):
    """Real ids for the path parameters of the GET endpoints."""
    from jobs.enqueue import job_enqueue

    job = job_enqueue(tenant=project.tenant, type="test_noop", project=project)[0]
    return {
        "id": None,
        "project": project.pk,
        "photo": world["photo_ids"][0],
        "job": job.pk,
        "task_id": str(job.task_id),
    }


def fill_path(path: str, ids: dict) -> str:  # type: ignore[type-arg]
    if "{task_id}" in path:
        return path.replace("{task_id}", ids["task_id"])
    if path.startswith("/api/jobs/{id}"):
        return path.replace("{id}", str(ids["job"]))
    if path.startswith("/api/photos/{id}"):
        return path.replace("{id}", str(ids["photo"]))
    return path.replace("{id}", str(ids["project"]))


def test_list_endpoints_answer_edge_values_without_a_server_error(api, listed):
    """Each query parameter of each GET endpoint, one edge value at a time."""
    endpoints = get_endpoints_with_query_parameters()
    assert any(path == "/api/photos/pending-deletes/" for path, _ in endpoints)
    failures = []
    for path, names in endpoints:
        url = fill_path(path, listed)
        for name in names:
            for value in EDGE_VALUES:
                response = api.get(url, {name: value})
                if response.status_code >= 500:
                    failures.append((url, name, value))
    assert failures == []


def test_far_dates_are_a_clear_400(api, listed):
    response = api.get(api_path("photo-pending-deletes"), {"date_to": "9999-12-31"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "date_to must be a date or date-time between 0001-01-01 and 9998-12-31."
    }
    response = api.get(
        api_path("photo-pending-deletes"), {"date_from": "0001-01-01T00:00:00+14:00"}
    )
    assert response.status_code == 400
    assert "date_from" in response.json()["detail"]
    assert api.get(api_path("photo-pending-deletes"), {"date_to": "9998-12-31"}).status_code == 200
    response = api.get(api_path("photo-list"), {"taken_at_before": "9999-12-31T23:59:59-14:00"})
    assert response.status_code == 400
    assert "between 0001-01-01 and 9998-12-31" in json.dumps(response.json())
    assert (
        api.get(api_path("photo-list"), {"taken_at_after": "1990-01-01T00:00:00Z"}).status_code
        == 200
    )


query_values = st.sampled_from(EDGE_VALUES) | st.text(max_size=30) | st.integers().map(str)


def test_list_endpoint_query_parameters_fuzzed_never_answer_5xx(api, listed):
    endpoints = get_endpoints_with_query_parameters()

    @hypothesis_settings(FUZZ, max_examples=min(FUZZ.max_examples * 2, 400))
    @given(
        endpoint=st.sampled_from(endpoints),
        data=st.data(),
    )
    def run(endpoint, data):  # type: ignore[no-untyped-def]
        path, names = endpoint
        params = data.draw(
            st.dictionaries(st.sampled_from(names), query_values, max_size=4), label="params"
        )
        response = api.get(fill_path(path, listed), params)
        assert response.status_code < 500, (path, params, response.content[:300])

    run()


# --- upload content (SPEC §14: uploads checked by content, not only by extension) ------------

UPLOAD_EXTENSIONS = sorted(
    {"jpg", "JPG", "jpeg", "png", "tif", "webp", "heic", "cr2", "NEF", "dng", "orf", "rw2"}
    | {"raf", "cr3", "raw"}
)


def test_uploads_are_stored_only_when_their_content_matches_the_extension(api, project):
    """Real files of one format, signatures of others and random bytes under every accepted
    extension: a file is stored exactly when its first bytes are what the extension says."""
    from photos.signatures import EXPECTED, content_kind
    from tests.factories import image_bytes, raw_bytes

    samples = [
        jpeg_bytes(),
        image_bytes("PNG"),
        image_bytes("WEBP"),
        raw_bytes(),
        b"FUJIFILMCCD-RAW 0201" + b"\x00" * 40,
        b"\x00\x00\x00\x18ftypcrx " + b"\x00" * 40,
        b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40,
        b"IIRO\x08\x00\x00\x00" + b"\x00" * 40,
        b"<?php echo 1; ?>",
        b"GIF89a" + b"\x00" * 40,
    ]
    seq = iter(range(10**9))
    stored = refused = 0

    @FUZZ
    @given(
        ext=st.sampled_from(UPLOAD_EXTENSIONS),
        content=st.sampled_from(samples) | st.binary(min_size=1, max_size=80),
    )
    def run(ext, content):  # type: ignore[no-untyped-def]
        nonlocal stored, refused
        name = f"F{next(seq)}.{ext}"
        response = api.post(
            api_path("project-upload", pk=project.pk),
            data=multipart([(name, content)]),
            content_type="multipart/form-data; boundary=fuzzBOUNDARYfuzz",
        )
        assert response.status_code < 500, (name, response.content[:300])
        matches = content_kind(content[:64]) in EXPECTED[ext.lower()]
        folder = storage_dir(project)
        if matches:
            assert response.status_code == 201, (name, content[:16], response.json())
            assert (folder / name).is_file()
            stored += 1
        else:
            assert response.status_code == 400, (name, content[:16])
            assert "does not match" in response.json()["errors"][0]["error"]
            assert not (folder / name).exists()
            refused += 1

    run()
    assert stored, "no upload was ever stored"
    assert refused, "no upload was ever refused"


def storage_dir(project: Project) -> Path:
    from photos import storage

    return storage.project_dir(project)
