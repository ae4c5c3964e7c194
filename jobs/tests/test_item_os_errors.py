"""An ``OSError`` inside one item fails that item, unless the whole disk is at fault."""

from __future__ import annotations

import errno

from jobs.enqueue import job_enqueue
from jobs.exceptions import is_item_os_error, os_error_text
from jobs.models import Event, Job, JobStatus
from jobs.registry import ItemRef
from jobs.runtime import drain


def run(tenant, project, names, settings) -> Job:  # type: ignore[no-untyped-def]
    settings.PIPELINE_RETRY_BASE_SECONDS = 0
    items = [ItemRef(None, name) for name in names]
    job = job_enqueue(tenant=tenant, type="test_item_os_errors", project=project, items=items)[0]
    drain()
    job.refresh_from_db()
    return job


def test_an_item_os_error_fails_that_item_and_the_others_go_on(tenant, project, settings):
    job = run(tenant, project, ["A", "errno:ENAMETOOLONG", "B", "errno:EACCES"], settings)
    assert job.status == JobStatus.COMPLETED
    assert job.attempts == 1
    outcome = dict(job.items.values_list("basename", "status"))
    assert outcome == {
        "A": "done",
        "errno:ENAMETOOLONG": "failed",
        "B": "done",
        "errno:EACCES": "failed",
    }
    failed = job.items.get(basename="errno:ENAMETOOLONG")
    assert failed.message == "File name too long: .preview/X.webp"
    # The failed items' transactions were rolled back: only the good ones left an event.
    assert Event.objects.filter(type="test_side_effect", job=job).count() == 2


def test_a_full_disk_fails_the_attempt_not_the_item(tenant, project, settings):
    job = run(tenant, project, ["A", "errno:ENOSPC", "B"], settings)
    assert job.status == JobStatus.FAILED
    assert job.attempts == job.max_attempts
    assert "No space left on device" in job.error_message
    assert job.items.get(basename="B").status == "pending"  # never reached


def test_os_error_text_never_shows_a_server_path(tmp_path):
    inside = OSError(errno.ENOENT, "No such file", str(tmp_path / "t" / "P" / "sub" / "a.jpg"))
    assert os_error_text(inside, root=tmp_path) == "No such file: sub/a.jpg"
    outside = OSError(errno.EACCES, "Permission denied", "/etc/secret/a.jpg", None, "/x/b.jpg")
    assert os_error_text(outside, root=tmp_path) == "Permission denied: a.jpg -> b.jpg"
    assert os_error_text(OSError("plain"), root=tmp_path) == "OSError"
    assert is_item_os_error(OSError(errno.ENAMETOOLONG, "x"))
    assert not is_item_os_error(OSError(errno.EROFS, "x"))
    assert not is_item_os_error(ValueError("x"))
