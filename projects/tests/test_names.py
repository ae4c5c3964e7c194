"""Names (SPEC §4, issue 20 item 12): folder names within 240 bytes, one NFC spelling, no
invisible or base-less combining characters."""

from __future__ import annotations

import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError
from photos.models import Photo
from photos.project_maintenance import folders_align, folders_discover
from photos.reconcile.arrivals import folder_check
from photos.reconcile.availability import manifest_check
from photos.services.projects import project_create, project_rename
from projects.folders import FOLDER_MAX_BYTES, folder_name_sanitize, folder_name_unique
from projects.models import Project
from tests.factories import jpeg_bytes, make_photo, raw_bytes, write_file
from tests.urls import api_path

LONG_UMLAUT = "Ü" * 128  # 128 characters, 256 bytes of UTF-8
NFC_E = "\u00c9"  # É
NFD_E = "E\u0301"  # E + combining acute


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


# --- folder names within 240 bytes --------------------------------------------------------


@pytest.mark.parametrize("name", [LONG_UMLAUT, "a" * 239 + "Ü", "€" * 100, "🙂" * 70, "x" * 300])
def test_folder_names_are_capped_at_240_bytes_on_a_character_boundary(name):
    folder = folder_name_sanitize(name)
    assert _bytes(folder) <= FOLDER_MAX_BYTES
    assert name.startswith(folder)  # whole characters, cut at the end only
    assert _bytes(folder) > FOLDER_MAX_BYTES - 4  # not cut shorter than needed


def test_a_cut_never_leaves_a_letter_without_its_combining_marks():
    name = "a" * 239 + "e\u0301\u0301"  # no precomposed form for e + two acutes
    folder = folder_name_sanitize(name)
    assert folder == "a" * 239


def test_numbered_folder_names_stay_within_240_bytes():
    first = folder_name_sanitize(LONG_UMLAUT)
    second = folder_name_unique(LONG_UMLAUT, taken=[first])
    assert second.endswith(" (2)")
    assert _bytes(second) <= FOLDER_MAX_BYTES


def test_api_creates_a_project_with_a_256_byte_name_in_a_capped_folder(api_client, photos_root):
    response = api_client.post(api_path("project-list"), {"name": LONG_UMLAUT}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == LONG_UMLAUT
    assert _bytes(body["folder"]) <= FOLDER_MAX_BYTES
    assert (photos_root / "acme" / body["folder"] / ".project.yaml").is_file()


def test_folder_alignment_converges_after_a_rename_to_a_256_byte_name(
    api_client, project, photos_root
):
    response = api_client.patch(
        api_path("project-detail", pk=project.pk), {"name": LONG_UMLAUT}, format="json"
    )
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    folders_align(projects=[project])
    project.refresh_from_db()
    assert project.folder == folder_name_sanitize(LONG_UMLAUT)
    assert project.folder in {p.name for p in (photos_root / "acme").iterdir()}
    again = folders_align(projects=[Project.objects.get(pk=project.pk)])
    assert again.changes == []


# --- one NFC spelling ---------------------------------------------------------------------


def test_project_names_are_stored_in_nfc(api_client, tenant, project):
    response = api_client.post(
        api_path("project-list"), {"name": f"{NFD_E}t{NFD_E}"}, format="json"
    )
    assert response.status_code == 201
    created = Project.objects.get(pk=response.json()["id"])
    assert created.name == f"{NFC_E}t{NFC_E}"
    assert created.folder == f"{NFC_E}t{NFC_E}"
    renamed = project_rename(project=project, name=f"Caf{'e'}\u0301")
    assert renamed.name == "Caf\u00e9"


def test_an_nfd_and_an_nfc_project_name_get_different_folders_never_the_same(tenant):
    first = project_create(tenant=tenant, name=f"{NFC_E}t{NFC_E}")
    second = project_create(tenant=tenant, name=f"{NFD_E}t{NFD_E}")
    assert first.folder == f"{NFC_E}t{NFC_E}"
    assert second.folder == f"{NFC_E}t{NFC_E} (2)"


def test_an_upload_named_in_nfd_is_stored_in_nfc(api_client, project, photos_root):
    files = [SimpleUploadedFile(f"{NFD_E}.jpg", jpeg_bytes(), content_type="image/jpeg")]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 201, response.content
    folder = photos_root / "acme" / project.folder
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        f"{NFC_E}.jpg"
    ]
    assert list(Photo.objects.values_list("basename", flat=True)) == [NFC_E]


def test_an_upload_in_nfc_clashes_with_the_same_name_on_disk_in_nfd(
    api_client, project, photos_root
):
    folder = photos_root / "acme" / project.folder
    make_photo(project, NFC_E, write=False)
    write_file(folder / f"{NFD_E}.jpg", jpeg_bytes())
    files = [SimpleUploadedFile(f"{NFC_E}.jpg", jpeg_bytes(), content_type="image/jpeg")]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert "already exists" in str(response.json())
    assert not (folder / f"{NFC_E}.jpg").exists()


def test_a_file_on_disk_in_nfd_belongs_to_its_nfc_photo(project, photos_root):
    folder = photos_root / "acme" / project.folder
    photo = make_photo(project, NFC_E)  # É.jpg in NFC
    write_file(folder / f"{NFD_E}.CR2", raw_bytes())  # its RAW, from a Mac, in NFD
    manifest_check(project=project, followup=False)
    folder_check(project=project, followup=False)
    assert list(Photo.objects.filter(project=project).values_list("pk", flat=True)) == [photo.pk]
    photo.refresh_from_db()
    assert photo.raw_available
    assert photo.jpg_available


def test_a_new_nfd_file_on_disk_becomes_a_photo_with_an_nfc_name(project, photos_root):
    folder = photos_root / "acme" / project.folder
    write_file(folder / f"{NFD_E}cole.jpg", jpeg_bytes())
    folder_check(project=project, followup=False)
    assert list(Photo.objects.values_list("basename", flat=True)) == [f"{NFC_E}cole"]
    folder_check(project=project, followup=False)  # the file matches its row from now on
    assert Photo.objects.count() == 1


def test_a_folder_discovered_in_nfd_is_named_in_nfc_and_aligned(tenant, photos_root):
    (photos_root / "acme" / f"{NFD_E}t{NFD_E}").mkdir(parents=True)
    [project] = folders_discover(tenant=tenant)
    assert project.name == f"{NFC_E}t{NFC_E}"
    folders_align(projects=[project])
    project.refresh_from_db()
    assert project.folder == f"{NFC_E}t{NFC_E}"
    assert (photos_root / "acme" / project.folder).is_dir()
    assert unicodedata.is_normalized("NFC", project.folder)


# --- invisible and base-less combining characters ----------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("A\u034fB", "control or invisible characters (U+034F)"),
        ("\u0301Shoot", "combining mark with no letter before it (U+0301)"),
        ("Shoot \u0308", "combining mark with no letter before it (U+0308)"),
    ],
)
def test_invisible_and_lone_combining_characters_are_refused_with_a_clear_400(
    api_client, project, name, text
):
    response = api_client.post(api_path("project-list"), {"name": name}, format="json")
    assert response.status_code == 400
    assert text in str(response.json())
    response = api_client.patch(
        api_path("project-detail", pk=project.pk), {"name": name}, format="json"
    )
    assert response.status_code == 400
    assert text in str(response.json())
    with pytest.raises(ApplicationError, match="U\\+0"):
        project_create(tenant=project.tenant, name=name)


@pytest.mark.parametrize("name", ["A\u034fB.jpg", "\u0301IMG.jpg"])
def test_uploads_named_with_invisible_or_lone_combining_characters_are_refused(
    api_client, project, name
):
    files = [SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")]
    response = api_client.post(
        api_path("project-upload", pk=project.pk), {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert "U+03" in str(response.json())
    assert not Photo.objects.exists()


def test_combining_marks_after_a_letter_are_fine(tenant):
    project = project_create(tenant=tenant, name="Ka\u0301li Nau\u0308")  # NFC: Káli Naü
    assert project.name == "K\u00e1li Na\u00fc"
