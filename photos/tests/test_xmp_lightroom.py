"""Lightroom interop (SPEC §4, issue 24 item 9): an XMP reject (``xmp:Rating`` -1) reads as a
discard, ``dc:subject`` keywords read into tags, and tags are written back with the rating and
label when ``PIPELINE_WRITE_XMP`` is on. Real JPEGs and XMP sidecars on disk, exiv2 reading.
"""

from __future__ import annotations

import pytest

from jobs.models import Event
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import xmp
from photos.models import Photo
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import jpeg_bytes, write_file
from tests.urls import api_path


def lightroom_xmp(*, rating: int, keywords: tuple[str, ...] = (), label: str = "") -> bytes:
    """A sidecar as Lightroom Classic writes it (attributes, a ``dc:subject`` bag)."""
    bag = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" '
        f'xmp:Rating="{rating}" xmp:Label="{label}" crs:Exposure2012="+0.35">'
        + (f"<dc:subject><rdf:Bag>{bag}</rdf:Bag></dc:subject>" if keywords else "")
        + '</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
    ).encode()


def jpeg_photo(project, basename: str, *, sidecar: bytes | None = None) -> Photo:  # type: ignore[no-untyped-def]
    write_file(project_dir(project) / f"{basename}.jpg", jpeg_bytes(size=(64, 48)))
    if sidecar is not None:
        write_file(project_dir(project) / f"{basename}.xmp", sidecar)
    return Photo.objects.create(
        project=project, basename=basename, ext="jpg", jpg_available=True, keep_jpg=True
    )


def tags_of(photo: Photo) -> list[str]:
    return sorted(Photo.objects.get(pk=photo.pk).tags.values_list("name", flat=True))


def test_parse_reads_reject_and_keywords():
    said = xmp.rating_label_parse(
        {"Xmp.xmp.Rating": "-1", "Xmp.dc.subject": [" Iceland ", "glacier", "Iceland", ""]}
    )
    assert said == xmp.RatingLabel(rating=None, rejected=True, keywords=("Iceland", "glacier"))
    assert xmp.rating_label_parse({"Xmp.dc.subject": "lone"}).keywords == ("lone",)
    assert not xmp.rating_label_parse({"Xmp.xmp.Rating": "3"}).rejected


def test_lightroom_reject_reads_as_discard_and_keywords_as_tags(tenant, project):
    rejected = jpeg_photo(
        project, "REJ", sidecar=lightroom_xmp(rating=-1, keywords=("wedding", "Ceremony"))
    )
    rated = jpeg_photo(project, "OK", sidecar=lightroom_xmp(rating=4, keywords=("wedding",)))

    start_task("generate_derivatives", tenant, items=[rejected.pk, rated.pk])
    drain()

    row = Photo.objects.get(pk=rejected.pk)
    assert (row.keep_jpg, row.keep_raw, row.rating) == (False, False, 0)
    assert tags_of(rejected) == ["Ceremony", "wedding"]
    other = Photo.objects.get(pk=rated.pk)
    assert (other.keep_jpg, other.rating) == (True, 4)
    assert tags_of(rated) == ["wedding"]
    # The commit tray learns of the discard; the photo's event carries its tags.
    pending = Event.objects.filter(type="pending_changes", project=project).last()
    assert pending is not None
    assert pending.payload["jpg"] == 1
    item = Event.objects.filter(type="item", photo_id=rejected.pk, payload__tags__isnull=False)
    assert item.get().payload["tags"] == ["Ceremony", "wedding"]


def test_a_reject_never_undoes_a_keep_the_user_set_since(project):
    photo = jpeg_photo(project, "AGAIN", sidecar=lightroom_xmp(rating=-1, keywords=("a",)))
    photo_derivatives_generate(photo=photo)
    assert Photo.objects.get(pk=photo.pk).keep_jpg is False
    Photo.objects.filter(pk=photo.pk).update(keep_jpg=True)
    Photo.objects.get(pk=photo.pk).tags.clear()  # the user removed the tag too

    photo_derivatives_generate(photo=photo, force=True)

    assert Photo.objects.get(pk=photo.pk).keep_jpg is True
    assert tags_of(photo) == []
    # A keyword added in Lightroom later is read; the one removed here stays removed.
    write_file(project_dir(project) / "AGAIN.xmp", lightroom_xmp(rating=-1, keywords=("a", "b")))
    photo_derivatives_generate(photo=photo, force=True)
    assert tags_of(photo) == ["b"]
    assert Photo.objects.get(pk=photo.pk).keep_jpg is True


def test_invalid_keywords_are_left_out(project):
    photo = jpeg_photo(
        project,
        "BAD",
        sidecar=lightroom_xmp(rating=0, keywords=("ok", "x" * 101, "zero\u200bwidth")),
    )
    photo_derivatives_generate(photo=photo)
    assert tags_of(photo) == ["ok"]


def test_tags_are_written_back_as_keywords_with_rating_and_label(api_client, project, settings):
    photo = jpeg_photo(project, "WB", sidecar=lightroom_xmp(rating=2, keywords=("old",)))
    photo_derivatives_generate(photo=photo)
    sidecar = project_dir(project) / "WB.xmp"
    before = sidecar.read_bytes()
    api_client.post(
        api_path("photo-tags-add"),
        {"items": [{"photo_id": photo.pk, "tags": ["new"]}]},
        format="json",
    )
    assert sidecar.read_bytes() == before  # write-back is off by default

    settings.PIPELINE_WRITE_XMP = True
    reply = api_client.post(
        api_path("photo-tags-add"),
        {"items": [{"photo_id": photo.pk, "tags": ["late"]}]},
        format="json",
    )
    assert reply.status_code == 200, reply.content
    api_client.post(
        api_path("photo-rating"),
        {"items": [{"photo_id": photo.pk, "rating": 5, "label": "red"}]},
        format="json",
    )
    said = xmp.read_sidecar(sidecar)
    assert said == xmp.RatingLabel(rating=5, label="red", keywords=("late", "new", "old"))
    assert "Exposure2012" in sidecar.read_text()  # Lightroom's develop settings are kept

    api_client.post(
        api_path("photo-tags-remove"),
        {"items": [{"photo_id": photo.pk, "tags": ["old", "new", "late"]}]},
        format="json",
    )
    assert xmp.read_sidecar(sidecar).keywords == ()


@pytest.mark.parametrize("keywords", [["a", "b"], []])
def test_sidecar_write_sets_or_clears_the_keyword_bag(tmp_path, keywords):
    path = write_file(tmp_path / "k" / "K.xmp", lightroom_xmp(rating=1, keywords=("x",)))
    xmp.sidecar_write(path, keywords=keywords)
    assert xmp.read_sidecar(path).keywords == tuple(keywords)
    assert xmp.read_sidecar(path).rating == 1


def test_embedded_xmp_reject_and_keywords_of_a_raw_are_read(project, settings):
    from tests.raw_fixtures import dng_bytes

    settings.PIPELINE_THUMB_SIZE = 64
    settings.PIPELINE_PREVIEW_SIZE = 200
    write_file(
        project_dir(project) / "R.dng",
        dng_bytes(
            raw_size=(200, 150),
            preview_size=(160, 120),
            xmp=lightroom_xmp(rating=-1, keywords=("studio",)),
        ),
    )
    photo = Photo.objects.create(
        project=project, basename="R", ext="dng", raw_available=True, keep_raw=True
    )

    photo_derivatives_generate(photo=photo)

    assert Photo.objects.get(pk=photo.pk).keep_raw is False
    assert tags_of(photo) == ["studio"]


def test_a_sidecar_with_keywords_only_keeps_the_embedded_rating(project, settings):
    from tests.raw_fixtures import dng_bytes

    settings.PIPELINE_THUMB_SIZE = 64
    settings.PIPELINE_PREVIEW_SIZE = 200
    write_file(
        project_dir(project) / "K.dng",
        dng_bytes(raw_size=(200, 150), preview_size=(160, 120), xmp=lightroom_xmp(rating=4)),
    )
    keywords_only = lightroom_xmp(rating=0, keywords=("north",)).replace(
        b'xmp:Rating="0" xmp:Label=""', b""
    )
    write_file(project_dir(project) / "K.xmp", keywords_only)
    photo = Photo.objects.create(
        project=project, basename="K", ext="dng", raw_available=True, keep_raw=True
    )

    photo_derivatives_generate(photo=photo)

    assert Photo.objects.get(pk=photo.pk).rating == 4
    assert tags_of(photo) == ["north"]
