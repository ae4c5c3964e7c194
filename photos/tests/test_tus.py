"""Resumable uploads (tus 1.0) against the product as served (SPEC §9, §14; photos/tus.py).

A real tus client (``tuspy``) talks to uvicorn serving the product's ASGI app
(``asgi_live_server``): a real JPEG sent in chunks, stopped half-way and resumed by a new
uploader with the same URL, is imported once and byte-identical; each refusal comes before any
byte; a checksum mismatch is a 460 that keeps nothing; termination and the TTL purge remove the
partial file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from jobs.models import TaskRun
from photos import storage
from photos.models import Photo, ResumableUpload
from photos.tus import resumable_uploads_purge
from tests.factories import jpeg_bytes, make_project, make_tenant, make_user
from tests.urls import api_path

CHUNK = 16 * 1024


def big_jpeg(seed: int = 1) -> bytes:
    """A real JPEG of a few hundred KB (noise does not compress)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (480, 360), rng.randbytes(480 * 360 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def token_for(user) -> str:  # type: ignore[no-untyped-def]
    return Token.objects.get_or_create(user=user)[0].key


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def studio(transactional_db):  # type: ignore[no-untyped-def]
    tenant = make_tenant("acme")
    editor = make_user(tenant, "eddie", role="editor")
    return {
        "tenant": tenant,
        "project": make_project(tenant, "Wedding"),
        "editor": editor,
        "token": token_for(editor),
    }


def tus_for(server, token: str) -> tus_client.TusClient:  # type: ignore[no-untyped-def]
    return tus_client.TusClient(
        f"http://127.0.0.1:{server.port}/api/uploads/",
        headers={"Authorization": f"Token {token}"},
    )


def hidden_partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def create(server, token: str, *, length: int, meta: dict[str, str]) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.post(
        f"http://127.0.0.1:{server.port}/api/uploads/",
        headers={
            "Authorization": f"Token {token}",
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(length),
            "Upload-Metadata": ",".join(f"{k} {b64(v)}" for k, v in meta.items()),
        },
        timeout=30,
    )


def test_an_interrupted_upload_resumes_and_imports_the_photo_once(asgi_live_server, studio):
    data = big_jpeg()
    assert len(data) > 6 * CHUNK
    project = studio["project"]
    folder = storage.project_dir(project)
    tus = tus_for(asgi_live_server, studio["token"])
    meta = {"project": str(project.pk), "filename": "IMG_0001.jpg"}

    first = tus.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata=meta)
    first.upload(stop_at=3 * CHUNK)  # the connection "drops" after three chunks
    url = first.url
    assert url is not None
    assert "/api/uploads/" in url
    assert requests.head(url, headers=first.get_headers(), timeout=30).headers[
        "Upload-Offset"
    ] == str(3 * CHUNK)
    # Half-way: the bytes are in a hidden file of the project folder, no photo yet.
    assert len(hidden_partials(folder)) == 1
    assert not Photo.objects.exists()

    resumed = tus.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, url=url)
    assert resumed.offset == 3 * CHUNK
    resumed.upload()

    photo = Photo.objects.get()
    assert (photo.basename, photo.jpg_available) == ("IMG_0001", True)
    assert (folder / "IMG_0001.jpg").read_bytes() == data
    assert hidden_partials(folder) == []
    assert TaskRun.objects.filter(type="upload_postprocess").count() == 1
    state = requests.get(url, headers=first.get_headers(), timeout=30).json()
    assert state["completed"] is True
    assert state["result"]["files"] == ["IMG_0001.jpg"]


def test_the_options_advertise_the_protocol(asgi_live_server, studio):
    reply = requests.options(
        f"http://127.0.0.1:{asgi_live_server.port}/api/uploads/",
        headers={"Authorization": f"Token {studio['token']}"},
        timeout=30,
    )
    assert reply.status_code == 204
    assert reply.headers["Tus-Version"] == "1.0.0"
    assert set(reply.headers["Tus-Extension"].split(",")) == {
        "creation",
        "termination",
        "checksum",
    }
    assert "sha1" in reply.headers["Tus-Checksum-Algorithm"].split(",")
    assert int(reply.headers["Tus-Max-Size"]) > 0


def test_checksummed_chunks_are_verified(asgi_live_server, studio):
    data = big_jpeg(2)
    project = studio["project"]
    tus = tus_for(asgi_live_server, studio["token"])
    uploader = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=CHUNK,
        metadata={"project": str(project.pk), "filename": "IMG_0002.jpg"},
        upload_checksum=True,
    )
    uploader.upload(stop_at=CHUNK)
    url = uploader.url
    headers = {**uploader.get_headers(), "Content-Type": "application/offset+octet-stream"}
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    bad = requests.patch(
        url,
        data=data[CHUNK : 2 * CHUNK],
        headers={**headers, "Upload-Offset": str(CHUNK), "Upload-Checksum": f"sha1 {wrong}"},
        timeout=30,
    )
    assert bad.status_code == 460, bad.content
    assert ResumableUpload.objects.get().offset == CHUNK
    folder = storage.project_dir(project)
    assert [p.stat().st_size for p in folder.iterdir() if p.name.endswith(".tmp")] == [CHUNK]

    uploader.upload()  # every chunk checksummed by the client
    assert (folder / "IMG_0002.jpg").read_bytes() == data


def test_an_offset_that_does_not_match_is_a_conflict(asgi_live_server, studio):
    project = studio["project"]
    created = create(
        asgi_live_server,
        studio["token"],
        length=1000,
        meta={"project": str(project.pk), "filename": "IMG_3.jpg"},
    )
    assert created.status_code == 201, created.content
    url = f"http://127.0.0.1:{asgi_live_server.port}{created.headers['Location']}"
    reply = requests.patch(
        url,
        data=b"x" * 10,
        headers={
            "Authorization": f"Token {studio['token']}",
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "500",
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=30,
    )
    assert reply.status_code == 409
    base = {"Authorization": f"Token {studio['token']}", "Upload-Offset": "0"}
    no_version = requests.patch(
        url,
        data=b"x" * 10,
        headers={**base, "Content-Type": "application/offset+octet-stream"},
        timeout=30,
    )
    assert no_version.status_code == 412
    assert no_version.headers["Tus-Version"] == "1.0.0"
    wrong_type = requests.patch(
        url,
        data=b"x" * 10,
        headers={**base, "Tus-Resumable": "1.0.0", "Content-Type": "application/json"},
        timeout=30,
    )
    assert wrong_type.status_code == 415
    assert ResumableUpload.objects.get().offset == 0


def test_termination_removes_the_partial_file(asgi_live_server, studio):
    data = big_jpeg(3)
    project = studio["project"]
    folder = storage.project_dir(project)
    tus = tus_for(asgi_live_server, studio["token"])
    uploader = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=CHUNK,
        metadata={"project": str(project.pk), "filename": "IMG_0003.jpg"},
    )
    uploader.upload(stop_at=2 * CHUNK)
    assert len(hidden_partials(folder)) == 1
    gone = requests.delete(uploader.url, headers=uploader.get_headers(), timeout=30)
    assert gone.status_code == 204
    assert gone.headers["Tus-Resumable"] == "1.0.0"
    assert hidden_partials(folder) == []
    assert (
        requests.head(uploader.url, headers=uploader.get_headers(), timeout=30).status_code == 404
    )
    assert not ResumableUpload.objects.exists()
    assert not Photo.objects.exists()


def test_a_file_whose_content_is_not_its_type_is_refused_on_completion(asgi_live_server, studio):
    project = studio["project"]
    folder = storage.project_dir(project)
    data = b"<?php echo 'not a photo'; ?>" * 4000
    tus = tus_for(asgi_live_server, studio["token"])
    uploader = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=CHUNK,
        metadata={"project": str(project.pk), "filename": "IMG_0004.jpg"},
    )
    with pytest.raises(TusCommunicationError) as refused:
        uploader.upload()
    assert refused.value.status_code == 400
    assert b"does not match the '.jpg' extension" in refused.value.response_content
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == []
    assert hidden_partials(folder) == []
    assert not Photo.objects.exists()


def test_a_taken_name_is_refused_at_creation_unless_a_rename_template_is_given(
    asgi_live_server, studio
):
    project = studio["project"]
    folder = storage.project_dir(project)
    (folder / "IMG_4507.JPG").write_bytes(jpeg_bytes(model="Canon EOS R5"))
    data = jpeg_bytes(size=(80, 60), make="Canon", model="Canon EOS R6")
    meta = {"project": str(project.pk), "filename": "IMG_4507.JPG"}
    refused = create(asgi_live_server, studio["token"], length=len(data), meta=meta)
    assert refused.status_code == 409
    assert "already exists" in refused.json()["detail"]

    tus = tus_for(asgi_live_server, studio["token"])
    uploader = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=CHUNK,
        metadata={**meta, "rename": "{basename}_{camera}"},
    )
    uploader.upload()
    assert (folder / "IMG_4507_Canon-EOS-R6.JPG").read_bytes() == data
    state = requests.get(uploader.url, headers=uploader.get_headers(), timeout=30).json()
    assert state["result"]["renamed"] == [
        {"file": "IMG_4507.JPG", "saved_as": "IMG_4507_Canon-EOS-R6.JPG"}
    ]


REFUSALS = {
    "tenantless user": 403,
    "viewer role": 403,
    "other tenant's project": 404,
    "nonexistent project": 404,
    "over the size cap": 413,
    "unaccepted extension": 400,
    "hidden name": 400,
    "no project named": 400,
    "throttled": 429,
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_an_upload_is_refused_at_creation(asgi_live_server, studio, settings, case):
    project = studio["project"]
    token, length = studio["token"], 1000
    meta = {"project": str(project.pk), "filename": "IMG_9.jpg"}
    if case == "tenantless user":
        token = token_for(make_user(None, "drifter"))
    elif case == "viewer role":
        token = token_for(make_user(studio["tenant"], "vera", role="viewer"))
    elif case == "other tenant's project":
        meta["project"] = str(make_project(make_tenant("globex"), "Secret").pk)
    elif case == "nonexistent project":
        meta["project"] = str(project.pk + 1000)
    elif case == "over the size cap":
        length = settings.PHOTOS_MAX_UPLOAD_BYTES + 1
    elif case == "unaccepted extension":
        meta["filename"] = "notes.exe"
    elif case == "hidden name":
        meta["filename"] = ".IMG_9.jpg"
    elif case == "no project named":
        del meta["project"]
    elif case == "throttled":
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "uploads": "1/min",
            },
        }
        first = create(asgi_live_server, token, length=length, meta=meta)
        assert first.status_code == 201
        url = f"http://127.0.0.1:{asgi_live_server.port}{first.headers['Location']}"
        headers = {"Authorization": f"Token {token}", "Tus-Resumable": "1.0.0"}
        assert requests.delete(url, headers=headers, timeout=30).status_code == 204
    reply = create(asgi_live_server, token, length=length, meta=meta)
    assert reply.status_code == REFUSALS[case], reply.content
    assert reply.headers["Tus-Resumable"] == "1.0.0"
    assert not ResumableUpload.objects.exists()
    folder = storage.project_dir(project)
    assert hidden_partials(folder) == []
    if case == "throttled":
        assert "Retry-After" in reply.headers


def test_another_users_upload_is_unknown(asgi_live_server, studio):
    project = studio["project"]
    created = create(
        asgi_live_server,
        studio["token"],
        length=1000,
        meta={"project": str(project.pk), "filename": "IMG_5.jpg"},
    )
    url = f"http://127.0.0.1:{asgi_live_server.port}{created.headers['Location']}"
    for who in (
        make_user(studio["tenant"], "colleague", role="editor"),
        make_user(make_tenant("globex"), "stranger", role="owner"),
    ):
        headers = {"Authorization": f"Token {token_for(who)}", "Tus-Resumable": "1.0.0"}
        assert requests.head(url, headers=headers, timeout=30).status_code == 404
        patch = requests.patch(
            url,
            data=b"x" * 10,
            headers={
                **headers,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
            timeout=30,
        )
        assert patch.status_code == 404
        assert requests.delete(url, headers=headers, timeout=30).status_code == 404
    assert ResumableUpload.objects.get().offset == 0


def test_abandoned_uploads_are_purged_after_the_ttl(asgi_live_server, studio, settings):
    settings.PIPELINE_UPLOAD_TTL_HOURS = 2
    data = big_jpeg(5)
    project = studio["project"]
    folder = storage.project_dir(project)
    tus = tus_for(asgi_live_server, studio["token"])
    uploader = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=CHUNK,
        metadata={"project": str(project.pk), "filename": "IMG_0006.jpg"},
    )
    uploader.upload(stop_at=CHUNK)
    upload = ResumableUpload.objects.get()
    assert timedelta(hours=1.9) < upload.expires_at - timezone.now() <= timedelta(hours=2)
    assert resumable_uploads_purge(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(hidden_partials(folder)) == 1
    assert resumable_uploads_purge(now=timezone.now() + timedelta(hours=3)) == 1
    assert hidden_partials(folder) == []
    assert not ResumableUpload.objects.exists()
    assert (
        requests.head(uploader.url, headers=uploader.get_headers(), timeout=30).status_code == 404
    )


def test_a_chunk_streams_past_the_ordinary_body_cap_and_is_checked_before_its_body(
    asgi_live_server, studio, settings
):
    """A chunk is admitted by the upload gate (``config/upload_gate.py``) from its headers:
    streamed to the partial file with the upload cap, or refused before its body."""
    settings.PIPELINE_MAX_BODY_BYTES = 256 * 1024
    data = big_jpeg(7) + bytes(600 * 1024)  # a JPEG padded past the ordinary body cap
    project = studio["project"]
    created = create(
        asgi_live_server,
        studio["token"],
        length=len(data),
        meta={"project": str(project.pk), "filename": "IMG_0007.jpg"},
    )
    url = f"http://127.0.0.1:{asgi_live_server.port}{created.headers['Location']}"
    headers = {
        "Authorization": f"Token {studio['token']}",
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
    }
    too_long = requests.patch(
        url, data=data + b"x", headers={**headers, "Upload-Offset": "0"}, timeout=30
    )
    assert too_long.status_code == 413
    assert too_long.headers["Tus-Resumable"] == "1.0.0"
    assert ResumableUpload.objects.get().offset == 0
    whole = requests.patch(url, data=data, headers={**headers, "Upload-Offset": "0"}, timeout=30)
    assert whole.status_code == 204, whole.content
    assert whole.headers["Upload-Offset"] == str(len(data))
    assert (storage.project_dir(project) / "IMG_0007.jpg").read_bytes() == data


def test_a_session_needs_its_csrf_token(db, tenant, project):
    """A browser's session authenticates a resumable upload only with its CSRF token."""
    from django.test import Client

    editor = make_user(tenant, "eddie", role="editor")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    headers = {
        "HTTP_TUS_RESUMABLE": "1.0.0",
        "HTTP_UPLOAD_LENGTH": "100",
        "HTTP_UPLOAD_METADATA": f"project {b64(str(project.pk))},filename {b64('IMG_1.jpg')}",
    }
    refused = browser.post(api_path("upload-list"), **headers)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    browser.get("/admin/login/")  # sets the CSRF cookie, as the workspace's page does
    token = browser.cookies["csrftoken"].value
    created = browser.post(api_path("upload-list"), HTTP_X_CSRFTOKEN=token, **headers)
    assert created.status_code == 201, created.content
    location = created.headers["Location"]
    assert location.startswith("/api/uploads/")
    unsafe = browser.delete(location, HTTP_TUS_RESUMABLE="1.0.0")
    assert unsafe.status_code == 403
    assert (
        browser.delete(location, HTTP_TUS_RESUMABLE="1.0.0", HTTP_X_CSRFTOKEN=token).status_code
        == 204
    )


def test_a_chunk_cut_mid_body_keeps_what_arrived_and_the_upload_goes_on(asgi_live_server, studio):
    """The client leaves half-way through a PATCH: the bytes that arrived are kept, HEAD says
    how many, and the rest completes the file."""
    data = big_jpeg(8)
    project = studio["project"]
    created = create(
        asgi_live_server,
        studio["token"],
        length=len(data),
        meta={"project": str(project.pk), "filename": "IMG_0008.jpg"},
    )
    location = created.headers["Location"]
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {studio['token']}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    half = len(data) // 2
    conn = socket.create_connection(("127.0.0.1", asgi_live_server.port), timeout=30)
    conn.sendall(head + data[:half])
    time.sleep(1.0)
    conn.close()  # the connection drops
    url = f"http://127.0.0.1:{asgi_live_server.port}{location}"
    auth = {"Authorization": f"Token {studio['token']}", "Tus-Resumable": "1.0.0"}
    for _ in range(100):
        upload = ResumableUpload.objects.get()
        if upload.offset:
            break
        time.sleep(0.1)
    offset = int(requests.head(url, headers=auth, timeout=30).headers["Upload-Offset"])
    assert 0 < offset <= half
    rest = requests.patch(
        url,
        data=data[offset:],
        headers={
            **auth,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=30,
    )
    assert rest.status_code == 204, rest.content
    assert (storage.project_dir(project) / "IMG_0008.jpg").read_bytes() == data
    assert Photo.objects.filter(basename="IMG_0008").count() == 1
