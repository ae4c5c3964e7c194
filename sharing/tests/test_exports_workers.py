"""An export run by real worker processes (``manage.py qcluster``), as deployed: the API
starts it, a default-lane worker makes the ZIP, the download serves it."""

from __future__ import annotations

import io
import zipfile

import pytest

from sharing.models import Export
from tests.factories import make_photo, make_user
from tests.urls import api_path
from tests.workers import wait_for

pytestmark = [pytest.mark.workers, pytest.mark.timeout(240)]


def test_a_worker_makes_the_export_and_the_api_serves_it(workers, tenant, project, client_for):
    photos = [make_photo(project, f"IMG_{n}", raw=True) for n in range(3)]
    client = client_for(make_user(tenant, "eddie", role="editor"))
    workers.start(lanes=("default",))

    reply = client.post(
        api_path("export-list"),
        {"items": [{"photo_id": p.pk} for p in photos], "kind": "originals"},
        format="json",
    )
    assert reply.status_code == 202, reply.content
    export_id = reply.json()["id"]
    wait_for(
        lambda: Export.objects.filter(pk=export_id, status="completed").exists(),
        timeout=120,
        what="export completed by the worker",
    )

    body = client.get(api_path("export-detail", pk=export_id)).json()
    download = client.get(body["download_url"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert archive.namelist() == [
            "IMG_0.jpg",
            "IMG_0.cr2",
            "IMG_1.jpg",
            "IMG_1.cr2",
            "IMG_2.jpg",
            "IMG_2.cr2",
        ]
