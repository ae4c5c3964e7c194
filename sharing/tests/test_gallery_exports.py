"""Exports delivered through a share link (SPEC §18): ``/s/<token>/exports/<id>/download``
with range requests, the downloads menu, the counter and the event, and the one 404 for every
export the link does not deliver (docs/SECURITY.md "Client galleries")."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jobs.models import Event
from jobs.runtime import drain
from sharing import exportfiles
from sharing.exports import export_start, exports_expired_delete
from sharing.models import Export, ShareLink, token_new
from sharing.tests.conftest import Shared, public_photo, share_make
from sharing.tests.test_gallery_security import reply_shape
from tests.factories import make_project, make_tenant, make_user

pytestmark = pytest.mark.django_db


def export_url(shared: Shared, export_id: int) -> str:
    return f"/s/{shared.token}/exports/{export_id}/download"


def export_made(shared: Shared, *, kind: str = Export.Kind.ORIGINALS, run: bool = True) -> Export:
    """An export of the link, made by an editor of its tenant as the API does; ``run`` drains
    its task so the ZIP exists."""
    user = make_user(shared.link.tenant, f"ed{token_new()[:6]}", role="editor")
    started = export_start(user=user, kind=kind, share_id=shared.link.pk)
    if run:
        drain()
    return Export.objects.select_related("tenant").get(pk=started.export.pk)


def zip_bytes(export: Export) -> bytes:
    return exportfiles.zip_path(export.tenant.slug, export.pk).read_bytes()


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def the_404(client: Any) -> tuple[Any, ...]:
    """The gallery's one 404, as an unknown token gets it on the same path."""
    return reply_shape(client.get(f"/s/{token_new()}/exports/1/download"))


@pytest.fixture
def delivered(tenant: Any, shoot: list[Any]) -> Shared:
    return share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)


# --- downloading ----------------------------------------------------------------------------


def test_a_completed_export_of_the_link_downloads_whole(client, delivered, shoot):
    export = export_made(delivered)
    assert export.status == Export.Status.COMPLETED
    reply = client.get(export_url(delivered, export.pk), {"name": "Anna"})
    assert reply.status_code == 200
    assert reply["Content-Type"] == "application/zip"
    assert reply["Accept-Ranges"] == "bytes"
    assert reply["Cache-Control"] == "private, no-store"
    assert reply["X-Robots-Tag"] == "noindex, nofollow"
    assert reply["Referrer-Policy"] == "no-referrer"
    assert export.file_name in reply["Content-Disposition"]
    data = body(reply)
    assert data == zip_bytes(export)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(names) == [f"{p.basename}.jpg" for p in shoot]
    delivered.link.refresh_from_db()
    assert delivered.link.download_count == 1
    event = Event.objects.get(type="share_downloaded")
    assert event.payload["kind"] == "export"
    assert event.payload["export_id"] == export.pk
    assert event.payload["client_name"] == "Anna"
    assert sorted(event.payload["photo_ids"]) == sorted(p.pk for p in shoot)
    assert event.payload["count"] == 3
    assert event.tenant_id == delivered.link.tenant_id


def test_ranges_get_206_and_a_resumed_download_counts_once(client, delivered):
    export = export_made(delivered)
    whole = zip_bytes(export)
    url = export_url(delivered, export.pk)
    first = client.get(url, HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert body(first) == whole[:100]
    rest = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=first["ETag"])
    assert rest.status_code == 206
    assert body(rest) == whole[100:]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert body(tail) == whole[-10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(whole)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(whole)}"
    delivered.link.refresh_from_db()
    assert delivered.link.download_count == 1
    assert Event.objects.filter(type="share_downloaded").count() == 1


def test_a_jpeg_export_is_delivered_by_a_preview_link(client, tenant, shoot):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.PREVIEW)
    export = export_made(shared, kind=Export.Kind.JPEG)
    reply = client.get(export_url(shared, export.pk))
    assert reply.status_code == 200
    assert body(reply) == zip_bytes(export)


def test_the_downloads_menu_lists_the_links_completed_exports(client, tenant, shoot, delivered):
    ours = export_made(delivered)
    other_link = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    theirs = export_made(other_link)
    queued = export_made(delivered, run=False)
    page = client.get(delivered.url).content.decode()
    assert 'id="gallery-deliveries"' in page
    assert f'href="{export_url(delivered, ours.pk)}"' in page
    assert "Original files (3 photos," in page
    assert f"/exports/{queued.pk}/" not in page
    assert f"/exports/{theirs.pk}/" not in page


def test_the_menu_has_no_deliveries_when_there_are_none(client, delivered):
    assert 'id="gallery-deliveries"' not in client.get(delivered.url).content.decode()


# --- what a link never delivers: all the gallery's one 404 ---------------------------------


def test_another_links_export_is_the_404(client, tenant, shoot, delivered):
    other = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    export = export_made(other)
    assert client.get(export_url(other, export.pk)).status_code == 200
    assert reply_shape(client.get(export_url(delivered, export.pk))) == the_404(client)


def test_another_tenants_export_is_the_404(client, delivered):
    globex = make_tenant("globex3", "Globex Three")
    project = make_project(globex, "Secret")
    theirs = share_make(
        globex, [public_photo(project, "SECRET_1")], downloads=ShareLink.Downloads.ORIGINAL
    )
    export = export_made(theirs)
    assert client.get(export_url(theirs, export.pk)).status_code == 200
    assert reply_shape(client.get(export_url(delivered, export.pk))) == the_404(client)
    assert 'id="gallery-deliveries"' not in client.get(delivered.url).content.decode()


def test_an_export_made_of_no_link_is_the_404(client, delivered, shoot):
    user = make_user(delivered.link.tenant, "eddie", role="editor")
    started = export_start(user=user, kind="originals", items=[{"photo_id": shoot[0].pk}])
    drain()
    assert Export.objects.get(pk=started.export.pk).status == Export.Status.COMPLETED
    assert reply_shape(client.get(export_url(delivered, started.export.pk))) == the_404(client)


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_revoked_or_expired_link_no_longer_delivers(client, delivered, state):
    export = export_made(delivered)
    url = export_url(delivered, export.pk)
    assert client.get(url).status_code == 200
    change = (
        {"revoked_at": timezone.now()}
        if state == "revoked"
        else {"expires_at": timezone.now() - timedelta(seconds=1)}
    )
    ShareLink.objects.filter(pk=delivered.link.pk).update(**change)
    assert reply_shape(client.get(url)) == the_404(client)


def test_an_expired_export_is_the_404_before_and_after_maintenance(client, delivered):
    export = export_made(delivered)
    url = export_url(delivered, export.pk)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # Past its expiry, before maintenance deleted the file: not delivered any more.
    assert zipfile.is_zipfile(exportfiles.zip_path(export.tenant.slug, export.pk))
    assert reply_shape(client.get(url)) == the_404(client)
    assert f"/exports/{export.pk}/" not in client.get(delivered.url).content.decode()
    assert exports_expired_delete(now=timezone.now()) == 1
    assert reply_shape(client.get(url)) == the_404(client)


def test_an_export_not_completed_or_whose_file_is_gone_is_the_404(client, delivered):
    done = export_made(delivered)
    queued = export_made(delivered, run=False)
    assert reply_shape(client.get(export_url(delivered, queued.pk))) == the_404(client)
    exportfiles.zip_path(done.tenant.slug, done.pk).unlink()
    assert reply_shape(client.get(export_url(delivered, done.pk))) == the_404(client)


@pytest.mark.parametrize(
    ("downloads", "kind"),
    [
        (ShareLink.Downloads.NONE, Export.Kind.ORIGINALS),
        (ShareLink.Downloads.NONE, Export.Kind.JPEG),
        (ShareLink.Downloads.PREVIEW, Export.Kind.ORIGINALS),
    ],
)
def test_downloads_the_link_does_not_allow_are_the_404(client, tenant, shoot, downloads, kind):
    shared = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    export = export_made(shared, kind=kind)
    url = export_url(shared, export.pk)
    assert client.get(url).status_code == 200
    ShareLink.objects.filter(pk=shared.link.pk).update(downloads=downloads)
    assert reply_shape(client.get(url)) == the_404(client)
    assert f"/exports/{export.pk}/" not in client.get(shared.url).content.decode()


def test_a_password_link_delivers_only_once_opened(client, tenant, shoot):
    shared = share_make(
        tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL, password="correct horse"
    )
    export = export_made(shared)
    url = export_url(shared, export.pk)
    assert reply_shape(client.get(url)) == the_404(client)
    assert client.post(shared.url, {"password": "correct horse"}).status_code == 302
    assert client.get(url).status_code == 200


def test_a_signed_in_studio_user_gets_nothing_more(client, tenant, shoot, delivered):
    other = share_make(tenant, shoot, downloads=ShareLink.Downloads.ORIGINAL)
    export = export_made(other)
    client.force_login(make_user(tenant, "owner1"))
    assert reply_shape(client.get(export_url(delivered, export.pk))) == the_404(client)
