"""A trash folder that cannot be written, and a full disk (SPEC §6 file_removal, derivatives).

Tests run as root, where ``chmod 0o500`` denies nothing, so the faults are injected otherwise:
``.trash`` is a regular file (creating the folder and renaming into it fail for real), and
``EACCES`` / ``ENOSPC`` are raised by the system calls themselves (monkeypatched in this
process; the tasks run through the real handlers with ``drain()``). Each ends with the job
ended and a clear message, and every original where it was.
"""

from __future__ import annotations

import errno
import os

import pytest

from jobs.models import Job, JobItem, JobStatus
from jobs.runtime import drain
from photos import imaging
from photos.models import DerivativeStatus, Photo
from photos.services import photos_commit, photos_process
from photos.services.results import CommitStarted, ProcessStarted
from photos.storage import project_dir

from .disk import add_photos, assert_no_original_lost, originals

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]


def commit(user, project) -> Job:  # type: ignore[no-untyped-def]
    started = photos_commit(user=user, project_ids=[project.pk])
    assert isinstance(started, CommitStarted)
    drain(task_id=started.task_id)
    return Job.objects.get(task_id=started.task_id, type="file_removal")


def refuse_in_trash(monkeypatch, error: int) -> None:  # type: ignore[no-untyped-def]
    """Every link or rename whose target is inside a ``.trash`` folder fails with ``error``."""
    real_link, real_replace, real_rename = os.link, os.replace, os.rename

    def guard(real):  # type: ignore[no-untyped-def]
        def call(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            if ".trash" in os.fspath(dst).split(os.sep):
                raise OSError(error, os.strerror(error), os.fspath(dst))
            return real(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "link", guard(real_link))
    monkeypatch.setattr(os, "replace", guard(real_replace))
    monkeypatch.setattr(os, "rename", guard(real_rename))


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("trash is a file", "'.trash' in the project folder is not a folder"),
        ("permission denied", "Permission denied"),
        ("disk full", "No space left on device"),
    ],
)
def test_commit_with_unwritable_trash_fails_items_clearly_and_moves_nothing(
    user, project, monkeypatch, fault, says
):
    photos = add_photos(project, 3, raw=True, keep_raw=False)
    before = originals(project)
    if fault == "trash is a file":
        (project_dir(project) / ".trash").write_bytes(b"not a folder")
    else:
        refuse_in_trash(monkeypatch, errno.EACCES if fault == "permission denied" else errno.ENOSPC)

    job = commit(user, project)

    # The job ends (completed, noting the failed items); each item says what went wrong.
    assert job.status == JobStatus.COMPLETED
    assert job.error_message.startswith("3 of 3 items failed; first error: Could not trash")
    for item in JobItem.objects.filter(job=job):
        assert item.status == "failed"
        assert item.message.startswith(f"Could not trash the files of '{item.basename}'")
        assert says in item.message
    # Nothing moved, nothing lost, and the photos are still pending for the next commit.
    assert originals(project) == before
    assert Photo.objects.filter(project=project, raw_available=True, keep_raw=False).count() == 3

    # Once the trash works again, the next commit finishes the job.
    monkeypatch.undo()
    if fault == "trash is a file":
        (project_dir(project) / ".trash").unlink()
    job = commit(user, project)
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert sorted(p.name for p in (project_dir(project) / ".trash").iterdir()) == sorted(
        f"{p.basename}.cr2" for p in photos
    )
    assert_no_original_lost(before, project)


@pytest.mark.parametrize("engine", ["pyvips", "pillow"])
def test_derivatives_on_a_full_disk_fail_the_job_with_the_error_and_leave_no_partial_file(
    user, project, monkeypatch, settings, engine
):
    settings.PIPELINE_RETRY_BASE_SECONDS = 0  # retries at once: the test needs no backoff
    settings.PIPELINE_IMAGE_ENGINE = engine
    photos = add_photos(project, 2, raw=False, size=(320, 200))
    before = originals(project)
    # Both engines write a derivative through imaging.write_atomic(path, write), which hands
    # ``write`` the open temporary file: the fault goes into that write.
    real_write_atomic = imaging.write_atomic

    def write_atomic(path, write, **kwargs):  # type: ignore[no-untyped-def]
        def full_disk(fh):  # type: ignore[no-untyped-def]
            # As a full disk does: part of the file is written, then the write fails.
            fh.write(b"RIFF\x00\x00")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return real_write_atomic(path, full_disk, **kwargs)

    monkeypatch.setattr(imaging, "write_atomic", write_atomic)
    encoded_by_vips: list[bool] = []
    real_vips_encode = imaging._vips_encode_derivatives

    def vips_encode(*args, **kwargs):  # type: ignore[no-untyped-def]
        encoded = real_vips_encode(*args, **kwargs)
        encoded_by_vips.append(True)  # libvips made the bytes; the write is what fails
        return encoded

    monkeypatch.setattr(imaging, "_vips_encode_derivatives", vips_encode)
    started = photos_process(user=user, items=[{"photo_id": p.pk} for p in photos])
    assert isinstance(started, ProcessStarted)
    drain(task_id=started.task_id)

    job = Job.objects.get(task_id=started.task_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == job.max_attempts
    assert "No space left on device" in job.error_message
    # No torn or temporary derivative is left behind, and no photo claims to have one.
    for kind in (".thumb", ".preview"):
        assert [p.name for p in (project_dir(project) / kind).iterdir()] == []
    assert not Photo.objects.filter(
        project=project, thumbnail_status=DerivativeStatus.GENERATED
    ).exists()
    assert originals(project) == before
    assert bool(encoded_by_vips) == (engine == "pyvips")  # the engine under test wrote
