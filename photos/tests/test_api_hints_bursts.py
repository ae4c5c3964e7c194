"""The API of culling hints, bursts and capture time (SPEC §9, §17): fields, filters,
ordering, keep-the-sharpest and the clock correction task."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from jobs.models import Event, TaskRun
from jobs.runtime import drain
from photos.bursts import project_bursts_update
from photos.models import Photo
from photos.storage import project_dir
from projects.roles import Role
from tests.factories import make_photo, make_user, write_file
from tests.urls import api_path

T0 = datetime(2025, 7, 14, 9, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def shoot_burst(project, prefix: str, sharpness: list[float | None], *, start: float = 0):
    photos = [
        make_photo(
            project,
            f"{prefix}{i}",
            write=False,
            camera="Nikon Z8",
            taken_at=at(start + 0.2 * i),
            sharpness=value,
            highlights_clipped=0.0,
            shadows_clipped=0.0,
        )
        for i, value in enumerate(sharpness)
    ]
    project_bursts_update(project=project)
    return photos


@pytest.fixture
def viewer_client(tenant, client_for):
    return client_for(make_user(tenant, role=Role.VIEWER))


@pytest.fixture
def culler_client(tenant, client_for):
    return client_for(make_user(tenant, role=Role.CULLER))


# --- fields, filters, ordering ---------------------------------------------------------------


def test_list_shows_hints_and_the_burst_with_its_size_and_sharpest_frame(api_client, project):
    frames = shoot_burst(project, "A", [10.0, 80.0, None])
    alone = make_photo(project, "Z", write=False, camera="Nikon Z8", taken_at=at(60))

    results = {p["basename"]: p for p in api_client.get(api_path("photo-list")).json()["results"]}

    assert results["A0"]["burst"] == frames[0].pk
    assert results["A0"]["burst_size"] == 3
    assert results["A2"]["burst_sharpest"] == frames[1].pk
    assert results["A1"]["sharpness"] == 80.0
    assert results["A1"]["highlights_clipped"] == 0.0
    assert results["Z"]["burst"] is None
    assert results["Z"]["burst_size"] is None
    assert results["Z"]["burst_sharpest"] is None
    detail = api_client.get(api_path("photo-detail", pk=frames[2].pk)).json()
    assert (detail["burst_size"], detail["burst_sharpest"]) == (3, frames[1].pk)
    assert alone.pk == results["Z"]["id"]


def test_list_with_bursts_runs_a_fixed_number_of_queries(
    api_client, project, django_assert_max_num_queries
):
    for n in range(10):
        shoot_burst(project, f"B{n}_", [1.0 * n, 2.0, 3.0, 4.0, 5.0], start=10 * n)
    with django_assert_max_num_queries(6):
        response = api_client.get(api_path("photo-list") + "?page_size=50")
    assert len(response.json()["results"]) == 50
    assert all(p["burst_size"] == 5 for p in response.json()["results"])


def test_filters_sharpness_burst_and_clipped(api_client, project):
    frames = shoot_burst(project, "A", [10.0, 80.0])
    blown = make_photo(
        project, "BLOWN", write=False, sharpness=50.0, highlights_clipped=0.3, shadows_clipped=0.0
    )
    crushed = make_photo(project, "DARK", write=False, sharpness=5.0, shadows_clipped=0.05)

    def names(query: str) -> list[str]:
        response = api_client.get(api_path("photo-list") + f"?{query}")
        assert response.status_code == 200, response.content
        return sorted(p["basename"] for p in response.json()["results"])

    assert names("sharpness_min=40") == ["A1", "BLOWN"]
    assert names(f"burst={frames[0].pk}") == ["A0", "A1"]
    assert names("in_burst=true") == ["A0", "A1"]
    assert names("clipped=true") == sorted([blown.basename, crushed.basename])
    assert names("clipped=false") == ["A0", "A1"]


def test_ordering_by_sharpness_puts_unknown_last_and_pages_through(api_client, project):
    for name, value in (("S1", 5.0), ("S2", None), ("S3", 50.0), ("S4", 20.0)):
        make_photo(project, name, write=False, sharpness=value)
    seen: list[str] = []
    url = api_path("photo-list") + "?ordering=-sharpness&page_size=2"
    while url:
        body = api_client.get(url).json()
        seen += [p["basename"] for p in body["results"]]
        url = body["next"]
    assert seen == ["S3", "S4", "S1", "S2"]
    for field in ("rating", "basename", "taken_at"):
        assert api_client.get(api_path("photo-list") + f"?ordering={field}").status_code == 200


# --- capture time ----------------------------------------------------------------------------


def test_taken_at_is_the_recorded_wall_clock_with_its_offset_only_when_known(api_client, project):
    make_photo(project, "PLAIN", write=False, taken_at=datetime(2025, 7, 14, 9, 30, tzinfo=UTC))
    make_photo(
        project,
        "OFFSET",
        write=False,
        taken_at=datetime(2025, 7, 14, 9, 30, 0, 500000, tzinfo=UTC),
        taken_at_offset=120,
    )
    results = {p["basename"]: p for p in api_client.get(api_path("photo-list")).json()["results"]}
    assert results["PLAIN"]["taken_at"] == "2025-07-14T09:30:00"
    assert results["OFFSET"]["taken_at"] == "2025-07-14T09:30:00.500000+02:00"
    assert results["OFFSET"]["taken_at_offset"] == 120


# --- keep the sharpest -----------------------------------------------------------------------

KEEP_SHARPEST = api_path("photo-bursts-keep-sharpest")


def test_keep_sharpest_dry_run_then_apply(culler_client, project):
    frames = shoot_burst(project, "A", [10.0, 80.0, 30.0])

    dry = culler_client.post(
        KEEP_SHARPEST, {"projects": [project.pk], "dry_run": True}, format="json"
    )

    assert dry.status_code == 200
    body = dry.json()
    assert body["updated"] == 2
    assert body["kept"] == {str(frames[0].pk): frames[1].pk}
    assert {i["photo_id"] for i in body["dry_run"]["per_item"]} == {f.pk for f in frames}
    assert Photo.objects.filter(keep_jpg=False).count() == 0

    done = culler_client.post(KEEP_SHARPEST, {"items": [{"photo_id": frames[2].pk}]}, format="json")

    assert done.status_code == 200
    assert done.json()["updated"] == 2
    kept = dict(Photo.objects.values_list("basename", "keep_jpg"))
    assert kept == {"A0": False, "A1": True, "A2": False}


def test_keep_sharpest_is_refused_to_a_viewer(viewer_client, project):
    frames = shoot_burst(project, "A", [10.0, 80.0])
    response = viewer_client.post(KEEP_SHARPEST, {"projects": [project.pk]}, format="json")
    assert response.status_code == 403
    assert Photo.objects.get(pk=frames[0].pk).keep_jpg is True


def test_keep_sharpest_cannot_reach_another_tenant(other_client, project):
    frames = shoot_burst(project, "A", [10.0, 80.0])
    response = other_client.post(
        KEEP_SHARPEST,
        {"projects": [project.pk], "items": [{"photo_id": frames[0].pk}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["updated"] == 0
    assert Photo.objects.get(pk=frames[0].pk).keep_jpg is True


def test_keep_sharpest_without_a_selection_is_a_400(api_client):
    assert api_client.post(KEEP_SHARPEST, {"dry_run": True}, format="json").status_code == 400


# --- clock correction ------------------------------------------------------------------------


def exif_jpeg(when: datetime, *, model: str) -> bytes:
    image = Image.new("RGB", (48, 32), (90, 120, 150))
    exif = Image.Exif()
    exif[0x010F] = "Nikon"
    exif[0x0110] = model
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def clock(client, project, camera: str, seconds: int):
    return client.post(
        api_path("project-clock-offset", pk=project.pk),
        {"camera": camera, "seconds": seconds},
        format="json",
    )


def test_clock_offset_shifts_one_cameras_photos_and_regroups_bursts(api_client, project):
    # Two shooters: the Z6's clock is 62 minutes slow, so its frame sorts before the Z8's.
    z8 = make_photo(project, "Z8_1", write=False, camera="Nikon Z8", taken_at=at(3720))
    z6 = make_photo(project, "Z6_1", write=False, camera="Nikon Z6", taken_at=at(0))
    z6b = make_photo(project, "Z6_2", write=False, camera="Nikon Z6", taken_at=at(0.4))
    project_bursts_update(project=project)

    response = clock(api_client, project, "Nikon Z6", 3720)

    assert response.status_code == 202
    assert response.json()["photos"] == 2
    task = TaskRun.objects.get(pk=response.json()["task_id"])
    assert (task.type, task.project_id) == ("photos_clock_correct", project.pk)
    drain()
    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert rows["Z6_1"].taken_at == at(3720)
    assert rows["Z6_2"].taken_at == at(3720.4)
    assert rows["Z8_1"].taken_at == at(3720)  # the other camera is untouched
    assert rows["Z6_1"].burst == z6.pk  # still one burst of the Z6, none across cameras
    assert rows["Z8_1"].burst is None
    events = Event.objects.filter(type="item", payload__source="clock_correction")
    assert sorted(e.photo_id for e in events) == [z6.pk, z6b.pk]
    assert events.get(photo_id=z6.pk).payload["changes"]["taken_at"] == "2025-07-14T10:32:00"
    assert not events.filter(photo_id=z8.pk).exists()


def test_clock_correction_runs_once_per_task_and_survives_a_new_metadata_read(api_client, project):
    from photos.capture import project_clock_correct
    from tests.derivatives import photo_derivatives_generate

    write_file(project_dir(project) / "Z6_1.jpg", exif_jpeg(at(0), model="Z6"))
    photo = make_photo(project, "Z6_1", write=False)
    photo_derivatives_generate(photo=photo)
    assert Photo.objects.get(pk=photo.pk).camera == "Nikon Z6"

    for _ in range(2):  # a retried job
        project_clock_correct(project=project, camera="Nikon Z6", seconds=-90, task_id="t-1")
    assert Photo.objects.get(pk=photo.pk).taken_at == at(-90)

    photo_derivatives_generate(photo=photo, force=True)
    row = Photo.objects.get(pk=photo.pk)
    assert row.taken_at == at(-90)
    assert row.metadata["clock_corrections"] == [{"task": "t-1", "seconds": -90}]


def test_clock_correction_writes_the_time_to_the_sidecar_when_write_back_is_on(project, settings):
    from photos import xmp
    from photos.capture import project_clock_correct

    settings.PIPELINE_WRITE_XMP = True
    write_file(project_dir(project) / "Z6_1.jpg", exif_jpeg(at(0), model="Z6"))
    make_photo(project, "Z6_1", write=False, camera="Nikon Z6", taken_at=at(0))

    done = project_clock_correct(project=project, camera="Nikon Z6", seconds=60, task_id="t-2")

    assert done.sidecars_written == 1
    import pyexiv2

    with pyexiv2.Image(str(project_dir(project) / "Z6_1.xmp")) as image:
        assert image.read_xmp()[xmp.DATE_TIME_ORIGINAL_KEY] == "2025-07-14T09:31:00"


def test_clock_offset_is_refused_to_viewers_and_cullers(viewer_client, culler_client, project):
    make_photo(project, "Z6_1", write=False, camera="Nikon Z6", taken_at=at(0))
    assert clock(viewer_client, project, "Nikon Z6", 60).status_code == 403
    assert clock(culler_client, project, "Nikon Z6", 60).status_code == 403
    assert not TaskRun.objects.exists()


def test_clock_offset_of_another_tenants_project_is_not_found(other_client, project):
    make_photo(project, "Z6_1", write=False, camera="Nikon Z6", taken_at=at(0))
    assert clock(other_client, project, "Nikon Z6", 60).status_code == 404
    assert not TaskRun.objects.exists()


def test_clock_offset_checks_its_body(api_client, project):
    make_photo(project, "Z6_1", write=False, camera="Nikon Z6", taken_at=at(0))
    assert clock(api_client, project, "Nikon Z9", 60).status_code == 400  # no such camera
    assert clock(api_client, project, "Nikon Z6", 0).status_code == 400
    assert clock(api_client, project, "Nikon Z6", 10**9).status_code == 400
    assert not TaskRun.objects.exists()


def test_keep_sharpest_runs_a_fixed_number_of_queries(
    api_client, project, django_assert_max_num_queries
):
    for n in range(60):
        shoot_burst(project, f"K{n}_", [1.0, 2.0 + n, 3.0, 4.0, 5.0], start=10 * n)
    with django_assert_max_num_queries(48):  # test_api.BULK_QUERY_BUDGET, for 300 frames
        response = api_client.post(KEEP_SHARPEST, {"projects": [project.pk]}, format="json")
    assert response.json()["updated"] == 240
