"""Job and item errors never show server paths (SPEC §14; jobs/error_text.py)."""

from __future__ import annotations

from pathlib import Path

from jobs.enqueue import job_enqueue
from jobs.error_text import error_text_clean, error_text_summary
from jobs.models import Event, Job, JobStatus
from jobs.runtime import drain
from jobs.tasks import start_task
from tests.factories import make_photo, make_project
from tests.urls import api_path


def test_a_failing_job_shows_paths_relative_to_the_project_folder(
    api_client, client_for, superuser, tenant, photos_root, settings
):
    settings.PIPELINE_MAX_ATTEMPTS = 1
    project = make_project(tenant, "Iceland July 2025")
    present = make_photo(project, "IMG_0001")
    missing = make_photo(project, "IMG_0002", write=False)
    job = job_enqueue(
        tenant=tenant,
        type="test_read_missing",
        project=project,
        items=[present.pk, missing.pk],
        max_attempts=1,
    )[0]

    drain()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    root = str(Path(settings.PHOTOS_ROOT))
    detail = api_client.get(api_path("job-detail", pk=job.pk)).json()
    error = detail["error_message"]
    assert "FileNotFoundError" in error
    assert "'.trash/gone/IMG_0000.CR2'" in error
    assert root not in error
    assert str(Path(root).resolve()) not in error
    # Members read no traceback; superusers do, its source files named inside the code base.
    assert "Traceback" not in error
    error = client_for(superuser).get(api_path("job-detail", pk=job.pk)).json()["error_message"]
    assert 'File "jobs/runtime.py"' in error or 'File "tests/handlers.py"' in error
    assert str(settings.BASE_DIR) not in error
    assert root not in error

    items = api_client.get(api_path("job-items", pk=job.pk)).json()["results"]
    messages = {item["basename"]: item["message"] for item in items}
    assert messages["IMG_0001"] == "read"
    assert "No such file or directory: 'IMG_0002.jpg'" in messages["IMG_0002"]
    assert all(root not in m for m in messages.values())
    # Stored clean, not only shown clean: the admin and the event stream read the rows.
    assert root not in Job.objects.get(pk=job.pk).error_message
    assert all(root not in item.message for item in job.items.all())


def test_rows_stored_before_cleaning_are_cleaned_on_output(api_client, project, settings):
    folder = Path(settings.PHOTOS_ROOT) / project.tenant.slug / project.folder
    job = job_enqueue(tenant=project.tenant, type="test_noop", project=project)[0]
    Job.objects.filter(pk=job.pk).update(
        error_message=f"PermissionError: [Errno 13] Permission denied: '{folder}/IMG_1.jpg'"
    )
    body = api_client.get(api_path("job-detail", pk=job.pk)).json()
    assert body["error_message"] == "PermissionError: [Errno 13] Permission denied: 'IMG_1.jpg'"


def test_error_text_clean_forms(settings, tmp_path):
    root = tmp_path / "srv" / "photos"
    settings.PHOTOS_ROOT = root
    folder = f"{root}/acme/Iceland July 2025"
    cases = {
        f"[Errno 2] No such file or directory: '{folder}/IMG_1.jpg'": (
            "[Errno 2] No such file or directory: 'IMG_1.jpg'"
        ),
        f"[Errno 18] Invalid cross-device link: '{folder}/IMG_1.CR2' -> '{folder}/.trash/IMG_1.CR2'": (
            "[Errno 18] Invalid cross-device link: 'IMG_1.CR2' -> '.trash/IMG_1.CR2'"
        ),
        f"missing folder {folder}": "missing folder acme/Iceland July 2025",
        f"tenant root '{root}/acme' is not a directory": "tenant root 'acme' is not a directory",
        f"PHOTOS_ROOT {root} is full": "PHOTOS_ROOT . is full",
        f'  File "{settings.BASE_DIR}/jobs/runtime.py", line 3, in run_job': (
            '  File "jobs/runtime.py", line 3, in run_job'
        ),
        '  File "/usr/lib/python3.11/site-packages/django/db/utils.py", line 9': (
            '  File "django/db/utils.py", line 9'
        ),
        "no path here": "no path here",
        "": "",
    }
    for raw, clean in cases.items():
        assert error_text_clean(raw) == clean, raw


BOOM = "RuntimeError: boom: the disk is on fire"


def test_tracebacks_are_for_superusers_only(
    api_client, client_for, superuser, staff_client, super_client, tenant, settings
):
    """A job that raised keeps its traceback, for operators: a tenant's members read the error
    without it in the API and the admin, and its events carry none (SPEC §14)."""
    settings.PIPELINE_MAX_ATTEMPTS = 2
    task_id = start_task("test_fails", tenant)["task_id"]
    drain()
    job = Job.objects.get(task_id=task_id)
    assert job.status == JobStatus.FAILED
    assert job.error_message.startswith(BOOM)
    assert "Traceback (most recent call last):" in job.error_message  # kept whole

    member_views = [
        api_client.get(api_path("job-detail", pk=job.pk)).json(),
        *api_client.get(api_path("job-list")).json()["results"],
        *api_client.get(api_path("task-detail", task_id=task_id)).json()["jobs"],
    ]
    assert [view["error_message"] for view in member_views] == [BOOM] * 3
    root_views = [
        client_for(superuser).get(api_path("job-detail", pk=job.pk)).json(),
        *client_for(superuser).get(api_path("task-detail", task_id=task_id)).json()["jobs"],
    ]
    for view in root_views:
        assert view["error_message"].startswith(BOOM)
        assert "Traceback (most recent call last):" in view["error_message"]

    # The retry and the failure are announced to every member: no traceback there.
    errors = [
        event.payload["error"]
        for event in Event.objects.filter(job=job).order_by("id")
        if "error" in event.payload
    ]
    assert errors == [BOOM, BOOM]

    page = staff_client.get(f"/admin/jobs/job/{job.pk}/change/")
    assert page.status_code == 200
    assert BOOM in page.content.decode()
    assert "Traceback" not in page.content.decode()
    page = super_client.get(f"/admin/jobs/job/{job.pk}/change/")
    assert page.status_code == 200
    assert "Traceback (most recent call last):" in page.content.decode()


def test_error_text_summary_drops_the_traceback():
    trace = (
        "Traceback (most recent call last):\n"
        '  File "jobs/runtime.py", line 170, in _run_job\n'
        "    fn(ctx)\n"
        "ValueError: bad value\n"
    )
    assert error_text_summary(f"ValueError: bad value\n\n{trace}") == "ValueError: bad value"
    # A text that is only a traceback keeps its last line, the exception.
    assert error_text_summary(trace) == "ValueError: bad value"
    assert error_text_summary("3 of 4 items failed; first error: x") == (
        "3 of 4 items failed; first error: x"
    )
    assert error_text_summary("") == ""
