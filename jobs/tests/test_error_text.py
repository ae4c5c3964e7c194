"""Job and item errors never show server paths (SPEC §14; jobs/error_text.py)."""

from __future__ import annotations

from pathlib import Path

from jobs.enqueue import job_enqueue
from jobs.error_text import error_text_clean
from jobs.models import Job, JobStatus
from jobs.runtime import drain
from tests.factories import make_photo, make_project


def test_a_failing_job_shows_paths_relative_to_the_project_folder(
    api_client, tenant, photos_root, settings
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
    detail = api_client.get(f"/api/jobs/{job.pk}/").json()
    error = detail["error_message"]
    assert "FileNotFoundError" in error
    assert "'.trash/gone/IMG_0000.CR2'" in error
    assert root not in error
    assert str(Path(root).resolve()) not in error
    # Source files of the traceback are named inside the code base only.
    assert 'File "jobs/runtime.py"' in error or 'File "tests/handlers.py"' in error
    assert str(settings.BASE_DIR) not in error

    items = api_client.get(f"/api/jobs/{job.pk}/items/").json()["results"]
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
    body = api_client.get(f"/api/jobs/{job.pk}/").json()
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
