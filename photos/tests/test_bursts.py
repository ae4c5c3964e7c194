"""Bursts (SPEC §3, §17): grouping, the pipeline's regrouping, and keep-the-sharpest."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from core.errors import ApplicationError
from jobs.models import Event
from jobs.runtime import drain
from jobs.tasks import start_task
from photos.bursts import bursts_of, project_bursts_update
from photos.models import Photo
from photos.services.bursts import bursts_keep_sharpest
from photos.storage import project_dir
from tests.factories import make_photo, make_project, make_tenant, make_user, write_file

T0 = datetime(2025, 7, 14, 9, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- grouping --------------------------------------------------------------------------------


def test_frames_closer_than_the_threshold_chain_into_one_burst():
    frames = [(1, "Z8", at(0)), (2, "Z8", at(0.4)), (3, "Z8", at(1.2)), (4, "Z8", at(2.3))]
    # 0 → 0.4 → 1.2 chain (gaps 0.4 and 0.8); 2.3 is 1.1 s after 1.2: alone.
    assert bursts_of(frames, seconds=1.0) == {1: 1, 2: 1, 3: 1, 4: None}


def test_sub_seconds_decide_and_a_gap_of_exactly_the_threshold_splits():
    frames = [(1, "Z8", at(0)), (2, "Z8", at(0.95)), (3, "Z8", at(1.9)), (4, "Z8", at(2.85))]
    assert bursts_of(frames, seconds=1.0) == {1: 1, 2: 1, 3: 1, 4: 1}
    frames = [(1, "Z8", at(0)), (2, "Z8", at(1.0))]
    assert bursts_of(frames, seconds=1.0) == {1: None, 2: None}


def test_two_cameras_at_the_same_moment_make_separate_bursts():
    frames = [
        (1, "Z8", at(0)),
        (2, "R5", at(0.1)),
        (3, "Z8", at(0.3)),
        (4, "R5", at(0.5)),
        (5, "R5", at(5)),
    ]
    assert bursts_of(frames, seconds=1.0) == {1: 1, 3: 1, 2: 2, 4: 2, 5: None}


def test_project_bursts_are_written_once_and_recomputing_changes_nothing(project, tenant):
    a = make_photo(project, "A", write=False, camera="Z8", taken_at=at(0))
    b = make_photo(project, "B", write=False, camera="Z8", taken_at=at(0.5))
    c = make_photo(project, "C", write=False, camera="Z8", taken_at=at(9))
    undated = make_photo(project, "D", write=False, camera="Z8")
    nameless = make_photo(project, "E", write=False, camera="", taken_at=at(0.2))
    other = make_project(tenant, "Other")
    elsewhere = make_photo(other, "F", write=False, camera="Z8", taken_at=at(0.1))

    assert project_bursts_update(project=project) == 2
    rows = {p.basename: p.burst for p in Photo.objects.all()}
    assert rows == {"A": a.pk, "B": a.pk, "C": None, "D": None, "E": None, "F": None}
    events = Event.objects.filter(type="item", payload__source="bursts")
    assert sorted(e.photo_id for e in events) == [a.pk, b.pk]
    assert project_bursts_update(project=project) == 0
    alone = Photo.objects.filter(pk__in=[c.pk, undated.pk, nameless.pk, elsewhere.pk])
    assert set(alone.values_list("burst", flat=True)) == {None}


def test_a_trashed_frame_leaves_its_burst(project):
    a = make_photo(project, "A", write=False, camera="Z8", taken_at=at(0))
    b = make_photo(project, "B", write=False, camera="Z8", taken_at=at(0.5))
    c = make_photo(project, "C", write=False, camera="Z8", taken_at=at(1.2))
    project_bursts_update(project=project)
    assert Photo.objects.get(pk=c.pk).burst == a.pk
    Photo.objects.filter(pk=a.pk).update(trashed_at=at(100))

    project_bursts_update(project=project)

    assert Photo.objects.get(pk=b.pk).burst == b.pk
    assert Photo.objects.get(pk=c.pk).burst == b.pk


# --- in the pipeline: sub-seconds from EXIF --------------------------------------------------


def burst_jpeg(when: datetime, subsec: str, *, model: str = "Z8") -> bytes:
    image = Image.new("RGB", (64, 48), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "Nikon"
    exif[0x0110] = model
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9291] = subsec  # SubSecTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_an_upload_groups_frames_by_their_exif_sub_seconds(project):
    # 09:30:00.10, 09:30:00.90, 09:30:01.50 (one burst), then 09:30:03.00 (alone).
    shots = [("A", 0, "10"), ("B", 0, "90"), ("C", 1, "50"), ("D", 3, "00")]
    photos = []
    for name, second, subsec in shots:
        write_file(project_dir(project) / f"{name}.jpg", burst_jpeg(at(second), subsec))
        photos.append(make_photo(project, name, write=False))
    start_task(
        "upload_postprocess",
        project.tenant,
        project=project,
        items=[{"photo_id": p.pk, "basename": p.basename} for p in photos],
    )
    drain()

    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert rows["B"].taken_at == datetime(2025, 7, 14, 9, 30, 0, 900000, tzinfo=UTC)
    first = rows["A"].pk
    assert [rows[n].burst for n in "ABCD"] == [first, first, first, None]


def test_a_move_regroups_both_projects(project, tenant):
    dest = make_project(tenant, "Dest")
    for where, name, second, subsec in ((project, "A", 0, "0"), (project, "B", 0, "5")):
        write_file(project_dir(where) / f"{name}.jpg", burst_jpeg(at(second), subsec))
    write_file(project_dir(dest) / "C.jpg", burst_jpeg(at(0), "8"))
    a = make_photo(project, "A", write=False, camera="Nikon Z8", taken_at=at(0))
    b = make_photo(project, "B", write=False, camera="Nikon Z8", taken_at=at(0.5))
    c = make_photo(dest, "C", write=False, camera="Nikon Z8", taken_at=at(0.8))
    project_bursts_update(project=project)
    assert Photo.objects.get(pk=b.pk).burst == a.pk

    start_task(
        "image_move",
        tenant,
        scope="photo_set",
        items=[{"photo_id": b.pk, "basename": "B"}],
        payload={"dest_project_id": dest.pk},
    )
    drain()

    assert Photo.objects.get(pk=a.pk).burst is None
    assert Photo.objects.get(pk=b.pk).project_id == dest.pk
    assert Photo.objects.get(pk=b.pk).burst == b.pk
    assert Photo.objects.get(pk=c.pk).burst == b.pk


# --- keep the sharpest -----------------------------------------------------------------------


def shoot_burst(project, prefix: str, sharpness: list[float | None], *, start: float = 0):
    photos = [
        make_photo(
            project,
            f"{prefix}{i}",
            write=False,
            raw=True,
            camera="Z8",
            taken_at=at(start + 0.2 * i),
            sharpness=value,
        )
        for i, value in enumerate(sharpness)
    ]
    project_bursts_update(project=project)
    return photos


def keep_of(photo: Photo) -> tuple[bool, bool]:
    row = Photo.objects.get(pk=photo.pk)
    return row.keep_jpg, row.keep_raw


def test_keep_sharpest_dry_run_changes_nothing_then_applies(project, user):
    frames = shoot_burst(project, "A", [10.0, 80.0, 30.0])

    preview = bursts_keep_sharpest(user=user, projects=[project.pk], dry_run=True)

    assert preview.reply.updated == 2
    assert preview.kept == {frames[0].pk: frames[1].pk}
    assert [keep_of(f) for f in frames] == [(True, True)] * 3

    done = bursts_keep_sharpest(user=user, projects=[project.pk])

    assert done.reply.updated == 2
    assert [keep_of(f) for f in frames] == [(False, False), (True, True), (False, False)]
    # Through the keep path: its events, and the project's pending_changes.
    assert Event.objects.filter(type="pending_changes", project=project).exists()
    again = bursts_keep_sharpest(user=user, projects=[project.pk])
    assert again.reply.updated == 0


def test_keep_sharpest_keeps_a_discarded_sharpest_frame_again(project, user):
    frames = shoot_burst(project, "A", [10.0, 80.0])
    Photo.objects.filter(pk=frames[1].pk).update(keep_jpg=False, keep_raw=False)
    bursts_keep_sharpest(user=user, projects=[project.pk])
    assert keep_of(frames[1]) == (True, True)


def test_keep_sharpest_by_photos_acts_on_their_bursts_only(project, user):
    first = shoot_burst(project, "A", [10.0, 80.0], start=0)
    second = shoot_burst(project, "B", [50.0, 20.0], start=100)

    done = bursts_keep_sharpest(user=user, photo_ids=[{"photo_id": second[1].pk}])

    assert done.kept == {second[0].pk: second[0].pk}
    assert [keep_of(f) for f in first] == [(True, True)] * 2
    assert [keep_of(f) for f in second] == [(True, True), (False, False)]


def test_keep_sharpest_leaves_a_burst_with_unknown_sharpness_alone(project, user):
    frames = shoot_burst(project, "A", [10.0, None])
    done = bursts_keep_sharpest(user=user, projects=[project.pk])
    assert done.undecided == [frames[0].pk]
    assert done.reply.updated == 0


def test_keep_sharpest_never_touches_another_tenants_bursts(project, user):
    other_tenant = make_tenant("rival")
    theirs = shoot_burst(make_project(other_tenant, "Theirs"), "T", [1.0, 9.0])

    done = bursts_keep_sharpest(
        user=user, projects=[theirs[0].project_id], photo_ids=[{"photo_id": theirs[0].pk}]
    )

    assert done.reply.updated == 0
    assert {"project_id": theirs[0].project_id, "error": "Project not found."} in done.reply.errors
    assert {"photo_id": theirs[0].pk, "error": "Photo not found."} in done.reply.errors
    assert [keep_of(f) for f in theirs] == [(True, True)] * 2
    assert make_user(other_tenant)  # the rival tenant is a real one


def test_keep_sharpest_needs_projects_or_photos(user):
    with pytest.raises(ApplicationError):
        bursts_keep_sharpest(user=user)
