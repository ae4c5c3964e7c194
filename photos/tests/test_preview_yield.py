"""Previews yield to thumbnails (issue 24 item 6, SPEC §6 "thumbnails first"): the preview
step of an upload waits between photos while the studio's thumbnail work is queued or
running, and never longer than ``PIPELINE_PREVIEW_YIELD_SECONDS``. Real jobs, real JPEGs;
the waits are counted, not timed.
"""

from __future__ import annotations

import pytest

from jobs.enqueue import job_enqueue
from jobs.models import Job, JobStatus, Lane
from jobs.runtime import drain
from photos.handlers import derivatives as handler
from photos.models import DerivativeStatus, Photo
from photos.storage import project_dir
from tests.factories import jpeg_bytes, make_project, write_file


def with_thumbnail(project, basename: str) -> Photo:  # type: ignore[no-untyped-def]
    write_file(project_dir(project) / f"{basename}.jpg", jpeg_bytes(size=(64, 48)))
    return Photo.objects.create(
        project=project,
        basename=basename,
        ext="jpg",
        jpg_available=True,
        keep_jpg=True,
        thumbnail_status=DerivativeStatus.GENERATED,
        preview_status=DerivativeStatus.PENDING,
    )


def thumbnail_job(tenant, project, *, status=JobStatus.RUNNING) -> Job:  # type: ignore[no-untyped-def]
    # Running on another worker: drain() here never claims it, as the priority lane would.
    return Job.objects.create(
        tenant=tenant, project=project, type="upload_postprocess", status=status, worker_id="w:1"
    )


@pytest.fixture(autouse=True)
def as_lane_worker(request, monkeypatch):  # type: ignore[no-untyped-def]
    """The jobs run here through ``drain``, as a lane worker would run them: a worker of the
    priority lane makes the thumbnails beside it (``drain`` itself never waits)."""
    if "foreground" not in request.node.name:
        monkeypatch.setattr(handler, "running_in_foreground", lambda: False)


@pytest.fixture
def sleeps(monkeypatch):  # type: ignore[no-untyped-def]
    """Each wait of the handler, with a hook run at each one."""
    calls: list[float] = []
    hooks: list = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        for hook in hooks:
            hook(len(calls))

    monkeypatch.setattr(handler.time, "sleep", sleep)
    return calls, hooks


def test_previews_wait_while_the_tenant_has_thumbnails_to_make(tenant, project, sleeps):
    calls, hooks = sleeps
    photos = [with_thumbnail(project, f"IMG_{i}") for i in range(2)]
    other_upload = thumbnail_job(tenant, project)

    def thumbnails_done(count: int) -> None:
        if count == 3:
            Job.objects.filter(pk=other_upload.pk).update(status=JobStatus.COMPLETED)

    hooks.append(thumbnails_done)
    job_enqueue(tenant=tenant, type="generate_previews", project=project, items=photos)
    drain()

    assert len(calls) == 3  # waited before the first preview, then none was left to wait for
    for photo in photos:
        assert Photo.objects.get(pk=photo.pk).preview_status == DerivativeStatus.GENERATED


def test_another_studios_thumbnails_are_not_waited_for(tenant, other_tenant, project, sleeps):
    calls, _ = sleeps
    photo = with_thumbnail(project, "IMG_1")
    thumbnail_job(other_tenant, make_project(other_tenant, "Theirs"))
    thumbnail_job(tenant, project, status=JobStatus.COMPLETED)

    job_enqueue(tenant=tenant, type="generate_previews", project=project, items=[photo])
    drain()

    assert calls == []
    assert Photo.objects.get(pk=photo.pk).preview_status == DerivativeStatus.GENERATED


def test_the_wait_is_bounded(tenant, project, settings, monkeypatch):
    settings.PIPELINE_PREVIEW_YIELD_SECONDS = 0.3
    photo = with_thumbnail(project, "IMG_1")
    thumbnail_job(tenant, project)  # never ends
    waited: list[float] = []
    monkeypatch.setattr(handler, "YIELD_POLL_SECONDS", 0.05)
    original = handler._Maker.yield_to_thumbnails

    def recorded(self):  # type: ignore[no-untyped-def]
        waited.append(original(self))
        return waited[-1]

    monkeypatch.setattr(handler._Maker, "yield_to_thumbnails", recorded)
    job_enqueue(tenant=tenant, type="generate_previews", project=project, items=[photo])
    drain()

    assert len(waited) == 1
    assert waited[0] >= 0.3
    assert Photo.objects.get(pk=photo.pk).preview_status == DerivativeStatus.GENERATED


def test_uploads_own_thumbnail_pass_never_waits(tenant, project, sleeps):
    calls, _ = sleeps
    thumbnail_job(tenant, project)
    write_file(project_dir(project) / "NEW.jpg", jpeg_bytes(size=(64, 48)))
    photo = Photo.objects.create(
        project=project, basename="NEW", ext="jpg", jpg_available=True, keep_jpg=True
    )

    job_enqueue(tenant=tenant, type="generate_derivatives", project=project, items=[photo])
    drain()

    assert calls == []  # only the upload's preview step yields
    assert Photo.objects.get(pk=photo.pk).preview_status == DerivativeStatus.GENERATED


def test_a_foreground_drain_never_waits_for_thumbnails_it_would_run_itself(tenant, project, sleeps):
    """``drain`` (tests, commands, the first start's demo) runs one job at a time: the queued
    thumbnails wait for this preview job, so the preview job must not wait for them."""
    calls, _ = sleeps
    photo = with_thumbnail(project, "IMG_1")
    queued = thumbnail_job(tenant, project, status=JobStatus.QUEUED)
    Job.objects.filter(pk=queued.pk).update(priority=95)  # the priority lane's

    job_enqueue(tenant=tenant, type="generate_previews", project=project, items=[photo])
    drain(lanes=(Lane.DEFAULT,))

    assert Job.objects.get(pk=queued.pk).status == JobStatus.QUEUED
    assert calls == []
    assert Photo.objects.get(pk=photo.pk).preview_status == DerivativeStatus.GENERATED
