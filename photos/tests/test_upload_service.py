"""The upload use case (``photos_upload``): one write path for the multipart endpoint, the
resumable upload and ``demo``; rename templates for clashing names; sidecars with their photo.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Event, TaskRun
from photos import storage
from photos.models import Photo
from photos.renaming import RenameTemplateInvalid
from photos.services.upload import photos_upload
from tests.factories import jpeg_bytes, make_project, raw_bytes
from tests.urls import api_path

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def names(project) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.name for p in storage.project_dir(project).iterdir() if p.is_file())


def second_body() -> bytes:
    return jpeg_bytes(
        size=(70, 50),
        make="Canon",
        model="Canon EOS R6",
        taken_at=datetime(2026, 6, 5, 14, 3, tzinfo=UTC),
    )


def test_the_upload_saves_rows_and_starts_one_postprocess_task(project, user):
    outcome = photos_upload(
        project=project, files=[upload("IMG_1.jpg", jpeg_bytes())], actor_id=user.pk
    )
    assert outcome.files == ["IMG_1.jpg"]
    photo = Photo.objects.get()
    assert outcome.photo_ids == [photo.pk]
    task = TaskRun.objects.get(pk=outcome.task_id)
    assert task.type == "upload_postprocess"
    assert Event.objects.filter(type="item", photo_id=photo.pk).exists()


def test_a_clash_is_refused_without_a_template(project, user):
    photos_upload(project=project, files=[upload("IMG_4507.JPG", jpeg_bytes())], actor_id=None)
    outcome = photos_upload(
        project=project, files=[upload("IMG_4507.JPG", second_body())], actor_id=None
    )
    assert outcome.refused_all
    assert "already exists" in outcome.errors[0]["error"]
    assert outcome.task_id is None


@pytest.mark.parametrize(
    ("template", "saved_as"),
    [
        ("{basename}_{camera}", "IMG_4507_Canon-EOS-R6"),
        ("{date}_{seq}", "20260605_0001"),
    ],
)
def test_a_clash_with_a_rename_template_keeps_both_photos(project, template, saved_as):
    first = jpeg_bytes()
    photos_upload(project=project, files=[upload("IMG_4507.JPG", first)], actor_id=None)
    second = second_body()
    outcome = photos_upload(
        project=project,
        files=[
            upload("IMG_4507.JPG", second),
            upload("IMG_4507.CR2", raw_bytes()),
            upload("IMG_4507.xmp", XMP),
            upload("IMG_4508.JPG", jpeg_bytes()),  # no clash: kept as it is
        ],
        actor_id=None,
        rename=template,
    )
    folder = storage.project_dir(project)
    assert outcome.renamed == [
        {"file": "IMG_4507.JPG", "saved_as": f"{saved_as}.JPG"},
        {"file": "IMG_4507.CR2", "saved_as": f"{saved_as}.CR2"},
        {"file": "IMG_4507.xmp", "saved_as": f"{saved_as}.xmp"},
    ]
    assert (folder / "IMG_4507.JPG").read_bytes() == first  # nothing overwritten
    assert (folder / f"{saved_as}.JPG").read_bytes() == second
    assert (folder / f"{saved_as}.xmp").read_bytes() == XMP
    assert sorted(Photo.objects.values_list("basename", flat=True)) == sorted(
        ["IMG_4507", saved_as, "IMG_4508"]
    )
    renamed = Photo.objects.get(basename=saved_as)
    assert (renamed.jpg_available, renamed.raw_available) == (True, True)


def test_a_rendered_name_that_is_taken_gets_the_next_free_one(project):
    for body in (jpeg_bytes(), second_body(), second_body()):
        photos_upload(
            project=project,
            files=[upload("IMG_1.jpg", body)],
            actor_id=None,
            rename="{basename}_{camera}",
        )
    assert names(project) == ["IMG_1.jpg", "IMG_1_Canon-EOS-R6.jpg", "IMG_1_Canon-EOS-R6_2.jpg"]


def test_a_name_of_another_project_is_renamed_too(tenant, project):
    other = make_project(tenant, "Other")
    photos_upload(project=other, files=[upload("IMG_9.jpg", jpeg_bytes())], actor_id=None)
    outcome = photos_upload(
        project=project,
        files=[upload("IMG_9.jpg", jpeg_bytes(model="X100V"))],
        actor_id=None,
        rename="{basename}_{camera}",
    )
    assert outcome.files == ["IMG_9_X100V.jpg"]


@pytest.mark.parametrize(
    "template", ["", "{basename", "{nope}", "plain", "../{basename}", "{basename!r}", ".{seq}"]
)
def test_an_unusable_template_is_refused_before_anything_is_written(project, template):
    with pytest.raises(RenameTemplateInvalid):
        photos_upload(
            project=project,
            files=[upload("IMG_1.jpg", jpeg_bytes())],
            actor_id=None,
            rename=template or " ",
        )
    assert names(project) == []


def test_sidecars_are_kept_with_their_photo(project):
    outcome = photos_upload(
        project=project,
        files=[
            upload("IMG_2.CR2", raw_bytes()),
            upload("IMG_2.CR2.xmp", XMP),
            upload("IMG_2.pp3", b"[Version]\nAppVersion=5.9\n"),
        ],
        actor_id=None,
    )
    assert sorted(outcome.files) == ["IMG_2.CR2", "IMG_2.CR2.xmp", "IMG_2.pp3"]
    assert names(project) == ["IMG_2.CR2", "IMG_2.CR2.xmp", "IMG_2.pp3"]
    assert Photo.objects.get().basename == "IMG_2"


def test_a_sidecar_joins_a_photo_already_in_the_project(project):
    photos_upload(project=project, files=[upload("IMG_3.jpg", jpeg_bytes())], actor_id=None)
    outcome = photos_upload(project=project, files=[upload("IMG_3.xmp", XMP)], actor_id=None)
    assert outcome.files == ["IMG_3.xmp"]
    assert outcome.photo_ids == [Photo.objects.get().pk]


def test_a_sidecar_without_its_photo_or_not_xml_is_refused(project):
    outcome = photos_upload(
        project=project,
        files=[upload("LONELY.xmp", XMP), upload("IMG_4.jpg", jpeg_bytes())],
        actor_id=None,
        all_or_nothing=False,
    )
    assert outcome.files == ["IMG_4.jpg"]
    assert "kept only with its photo" in outcome.errors[0]["error"]
    outcome = photos_upload(
        project=project, files=[upload("IMG_4.xmp", b"\x00\x01binary")], actor_id=None
    )
    assert "expected XMP" in outcome.errors[0]["error"]
    assert names(project) == ["IMG_4.jpg"]


def test_the_multipart_endpoint_takes_a_rename_template_and_lists_the_renamed(
    project, user, client_for
):
    client = client_for(user)
    url = api_path("project-upload", pk=project.pk)
    first = client.post(url, {"files": [upload("IMG_4507.JPG", jpeg_bytes())]}, format="multipart")
    assert first.status_code == 201, first.content
    assert "renamed" not in first.json()
    clash = client.post(url, {"files": [upload("IMG_4507.JPG", second_body())]}, format="multipart")
    assert clash.status_code == 400
    assert "already exists" in clash.json()["errors"][0]["error"]
    renamed = client.post(
        url,
        {"files": [upload("IMG_4507.JPG", second_body())], "rename": "{basename}_{camera}"},
        format="multipart",
    )
    assert renamed.status_code == 201, renamed.content
    body = renamed.json()
    assert body["files"] == ["IMG_4507_Canon-EOS-R6.JPG"]
    assert body["renamed"] == [{"file": "IMG_4507.JPG", "saved_as": "IMG_4507_Canon-EOS-R6.JPG"}]
    assert body["task_id"]
    bad = client.post(
        url,
        {"files": [upload("IMG_4507.JPG", second_body())], "rename": "{oops}"},
        format="multipart",
    )
    assert bad.status_code == 400
    assert "Unknown placeholder" in bad.json()["detail"]


def test_a_sidecar_that_arrives_after_its_photo_was_indexed_is_read(project, user):
    """Resumable uploads send one file at a time: the photo may be indexed before its XMP
    arrives; the XMP's rating is read all the same."""
    from jobs.runtime import drain

    photos_upload(project=project, files=[upload("IMG_5.jpg", jpeg_bytes())], actor_id=user.pk)
    drain()
    photo = Photo.objects.get()
    assert photo.rating == 0
    photos_upload(project=project, files=[upload("IMG_5.xmp", XMP)], actor_id=user.pk)
    drain()
    photo.refresh_from_db()
    assert photo.rating == 4
