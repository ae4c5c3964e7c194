"""Generated folders (hypothesis) against the "never lose a file" guarantees 1–4.

Each example builds a project folder from a generated mix of photos, sidecars in every form
and case, strays (videos, documents, files without an extension), overlong and multi-byte
names, and system folders that are real, symlinked out of ``PHOTOS_ROOT`` or regular files,
then runs the product's own tasks (``maintenance`` with a trash TTL of 0, discovery, the
scavenger) in-process. Whatever is generated: no job fails, nothing is written outside
``PHOTOS_ROOT``, and every file the user put there is still there with its bytes, because
none of these tasks is an explicit commit. ``FUZZ_EXAMPLES`` raises the example count.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.manifest import manifest_write
from photos.models import Photo
from photos.project_deletion import project_delete
from projects.models import Project
from tests.factories import jpeg_bytes, make_project, make_tenant, make_user
from tests.urls import api_path

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]

FUZZ = hypothesis_settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_seq = itertools.count(1)

stems = st.one_of(
    st.sampled_from(["IMG_0001", "DSC 2", "été", "水", "a.b", "x" * 200, "é" * 101, "L" * 240]),
    st.text(st.characters(min_codepoint=48, max_codepoint=0x2FFF), min_size=1, max_size=12),
)
photo_exts = st.sampled_from(["jpg", "JPG", "cr2", "NEF", "png"])
sidecar_forms = st.sampled_from(
    ["{b}.xmp", "{b}.XMP", "{b}.{e}.xmp", "{b}.pp3", "{b}.{e}.pp3", "{b}.dop", "{b}.on1",
     "{b}.AAE", "{b}.thm"]
)  # fmt: skip
strays = st.sampled_from(["clip.mp4", "clip.MOV", "notes.txt", "README", "contract.pdf"])
system_state = st.sampled_from(["real", "symlink", "file"])


def _fits(name: str) -> bool:
    return len(name.encode()) <= 250 and "/" not in name and not name.startswith(".")


def _tenant_root(tenant) -> Path:  # type: ignore[no-untyped-def]
    return Path(django_settings.PHOTOS_ROOT) / tenant.slug


def _user_files(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
    }


def _populate(folder: Path, photos, sidecars, extra) -> None:  # type: ignore[no-untyped-def]
    for stem, ext in photos:
        name = f"{stem}.{ext}"
        if _fits(name):
            data = jpeg_bytes() if ext.lower() in {"jpg", "png"} else b"raw " + name.encode()
            (folder / name).write_bytes(data)
    for (stem, ext), form in sidecars:
        name = form.format(b=stem, e=ext)
        if _fits(name):
            (folder / name).write_bytes(b"edits " + name.encode())
    for name in extra:
        (folder / name).write_bytes(b"the user's " + name.encode())


@FUZZ
@given(
    photos=st.lists(st.tuples(stems, photo_exts), min_size=1, max_size=5),
    sidecar_choice=st.lists(sidecar_forms, max_size=6),
    extra=st.lists(strays, max_size=3, unique=True),
    trash=system_state,
    thumb=system_state,
)
def test_maintenance_never_loses_a_file_whatever_the_folder_holds(
    db, settings, tmp_path, photos, sidecar_choice, extra, trash, thumb
):
    settings.PIPELINE_TRASH_TTL_SECONDS = 0  # anything trashed would be purged at once
    tenant = make_tenant(f"fz{next(_seq)}")
    project = make_project(tenant, "Shoot")
    folder = _tenant_root(tenant) / project.folder
    outside = tmp_path / f"outside-{tenant.slug}"
    outside.mkdir()
    sidecars = list(zip(itertools.cycle(photos), sidecar_choice, strict=False))
    _populate(folder, photos, sidecars, extra)
    for name, state in ((".trash", trash), (".thumb", thumb)):
        if state == "symlink":
            (folder / name).symlink_to(outside, target_is_directory=True)
        elif state == "file":
            (folder / name).write_bytes(b"not a folder")
    before = _user_files(folder)

    for _ in range(2):  # the second run's trash_maintenance purges whatever the first trashed
        started = start_task("maintenance", tenant, project=project, source="user")
        drain()
    assert _user_files(folder) == before
    assert list(outside.iterdir()) == []
    assert not Job.objects.filter(tenant=tenant, status=JobStatus.FAILED).exists(), started
    for photo in Photo.objects.filter(project=project):
        assert len(photo.basename.encode()) <= 200


@FUZZ
@given(
    new_photos=st.lists(st.tuples(stems, photo_exts), min_size=1, max_size=4),
    extra=st.lists(strays, max_size=2, unique=True),
    with_manifest_copy=st.booleans(),
    task_ran=st.booleans(),
)
def test_a_new_folder_of_a_deleted_projects_name_is_never_deleted(
    db, new_photos, extra, with_manifest_copy, task_ran
):
    tenant = make_tenant(f"fd{next(_seq)}")
    user = make_user(tenant)
    old = make_project(tenant, "Wedding")
    (_tenant_root(tenant) / "Wedding" / "OLD.jpg").write_bytes(jpeg_bytes())
    reply = project_delete(user=user, project=old)
    if task_ran:
        drain()
    new = _tenant_root(tenant) / "Wedding"
    new.mkdir()
    _populate(new, new_photos, [], extra)
    if with_manifest_copy:
        # A manifest copied from another project's folder names no deleted project.
        manifest_write(new, make_project(tenant, "Other"))
    before = _user_files(new)

    client = APIClient()
    client.force_authenticate(user)
    for task_type in ("project_scavenge_global", "folder_discovery", "project_scavenge_global"):
        assert (
            client.post(api_path("task-list"), {"task_type": task_type}, format="json").status_code
            == 202
        )
        drain()
    assert _user_files(new) == before, reply
    adopted = Project.objects.get(tenant=tenant, folder="Wedding")
    assert adopted.status == Project.Status.ACTIVE
    assert adopted.pk != old.pk
