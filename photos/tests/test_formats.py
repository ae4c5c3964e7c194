"""Formats a studio brings (SPEC §4, issue 24 item 11): camera HEIF saved as ``.hif``, the RAW
formats LibRaw reads beyond the usual nine, AVIF (Pillow) and JPEG XL (pillow-jxl-plugin).
Real files made by Pillow, pillow-heif and the plugin; real DNG containers for the RAWs.
"""

from __future__ import annotations

import io

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jobs.models import Event
from jobs.runtime import drain
from photos import signatures, storage
from photos.manifest import manifest_write
from photos.models import DerivativeStatus, Photo
from photos.reconcile.arrivals import folder_check
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import write_file
from tests.raw_fixtures import dng_bytes
from tests.urls import api_path

GENERATED = DerivativeStatus.GENERATED
NEW_RAWS = ("iiq", "3fr", "fff", "pef", "srw", "rwl", "nrw", "x3f", "gpr")


def image_bytes(fmt: str, size=(96, 64), color=(200, 40, 40)) -> bytes:  # type: ignore[no-untyped-def]
    if fmt == "JXL":
        import pillow_jxl  # noqa: F401  (registers the encoder)
    if fmt == "HEIF":
        pillow_heif.register_heif_opener()
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # left half blue
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=80)
    return buffer.getvalue()


@pytest.mark.parametrize("ext", [*NEW_RAWS, "NRW", "Pef"])
def test_raw_extensions_libraw_reads_are_raw(ext):
    assert storage.classify(f"IMG_1.{ext}") == storage.FileClass.RAW


@pytest.mark.parametrize("ext", ["hif", "HIF", "heif", "avif", "jxl"])
def test_camera_heif_avif_and_jpeg_xl_are_accepted_images(ext):
    assert storage.classify(f"IMG_1.{ext}") == storage.FileClass.OTHER


@pytest.mark.parametrize("name", ["clip.mov", "scan.jp2", "layers.psd", "IMG_1.crw2"])
def test_other_formats_stay_unaccepted(name):
    assert storage.classify(name) is None


@pytest.mark.parametrize(
    ("ext", "fmt"), [("hif", "HEIF"), ("avif", "AVIF"), ("jxl", "JXL")], ids=["hif", "avif", "jxl"]
)
def test_hif_avif_and_jxl_get_derivatives(project, ext, fmt):
    write_file(project_dir(project) / f"PIC.{ext}", image_bytes(fmt))
    photo = Photo.objects.create(project=project, basename="PIC", ext=ext, other_available=True)

    message = photo_derivatives_generate(photo=photo)

    assert message == f"PIC.{ext}: thumbnail 96×64, preview 96×64."
    row = Photo.objects.get(pk=photo.pk)
    assert (row.thumbnail_status, row.preview_status, row.width) == (GENERATED, GENERATED, 96)
    with Image.open(project_dir(project) / ".preview" / "PIC.webp") as preview:
        left, right = preview.convert("RGB").getpixel((10, 32)), preview.getpixel((80, 32))
    assert left[2] > 150  # the pixels, not a grey placeholder
    assert right[0] > 150


@pytest.mark.parametrize("ext", ["pef", "gpr", "3fr"])
def test_tiff_based_raws_upload_and_get_derivatives(api_client, project, settings, ext):
    settings.PIPELINE_THUMB_SIZE = 100
    settings.PIPELINE_PREVIEW_SIZE = 1000
    dng = dng_bytes(raw_size=(400, 300), preview_size=(320, 240))
    upload = SimpleUploadedFile(f"CAM_1.{ext}", dng, content_type="application/octet-stream")

    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": [upload]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    drain()

    row = Photo.objects.get(project=project, basename="CAM_1")
    assert (row.raw_available, row.ext) == (True, ext)
    assert (row.thumbnail_status, row.preview_status) == (GENERATED, GENERATED)
    assert (row.width, row.height) == (400, 300)


@pytest.mark.parametrize(
    ("ext", "fmt"), [("hif", "HEIF"), ("avif", "AVIF"), ("jxl", "JXL")], ids=["hif", "avif", "jxl"]
)
def test_uploaded_hif_avif_and_jxl_are_checked_by_content(api_client, project, ext, fmt):
    url = api_path("project-upload", pk=project.pk)
    good = SimpleUploadedFile(f"OK.{ext}", image_bytes(fmt))
    fake = SimpleUploadedFile(f"FAKE.{ext}", image_bytes("JPEG"))

    accepted = api_client.post(url, {"files": [good]}, format="multipart")
    refused = api_client.post(url, {"files": [fake]}, format="multipart")

    assert accepted.status_code == 201, accepted.content
    assert (project_dir(project) / f"OK.{ext}").is_file()
    assert refused.status_code == 400, refused.content
    assert "does not match" in refused.content.decode()
    assert not (project_dir(project) / f"FAKE.{ext}").exists()


def test_signatures_of_the_new_containers():
    assert signatures.content_kind(image_bytes("AVIF")[:64]) == "avif"
    assert signatures.content_kind(image_bytes("JXL")[:64]) == "jxl"
    assert signatures.content_kind(b"IIII\x01\x00\x00\x00Raw \x00\x00") == "iiq"
    assert signatures.content_kind(b"FOVb\x00\x02\x00\x00") == "x3f"
    assert signatures.content_problem("x3f", b"II*\x00\x08\x00\x00\x00") is not None
    assert signatures.content_problem("iiq", b"II*\x00\x08\x00\x00\x00") is None


def test_folder_check_ingests_the_new_formats_and_reports_the_rest(project):
    where = project_dir(project)
    manifest_write(where, project)
    write_file(where / "A.hif", image_bytes("HEIF"))
    write_file(where / "B.IIQ", dng_bytes())
    write_file(where / "clip.mov", b"\x00\x00\x00\x18ftypqt  ")
    write_file(where / "layers.psd", b"8BPS")

    folder_check(project=project)

    assert sorted(Photo.objects.values_list("basename", "ext")) == [("A", "hif"), ("B", "iiq")]
    assert (where / "clip.mov").is_file()  # never moved
    assert (where / "layers.psd").is_file()
    event = Event.objects.get(type="unaccepted_files", project=project)
    assert event.payload["files"] == ["clip.mov", "layers.psd"]
