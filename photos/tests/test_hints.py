"""Culling hints (SPEC §3, §17): sharpness and clipping, computed with the thumbnail."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageFilter

from jobs.exceptions import ItemSkipped
from jobs.runtime import drain
from jobs.tasks import start_task
from photos import hints, imaging
from photos.models import DerivativeStatus, Photo
from photos.storage import project_dir
from tests.derivatives import photo_derivatives_generate
from tests.factories import make_photo, write_file
from tests.hint_frames import burst, scene

# Small frames keep the 40 bursts of the ranking test quick; the pipeline's 800-px thumbnail
# of a 960-px frame is reduced the same way as that of a 24-MP original.
TEST_FRAME = (960, 640)
RANKING_BURSTS = 40
RANKING_GOAL = 0.95


def thumbnail_of(image: Image.Image, box: int = 800) -> Image.Image:
    thumb = image.copy()
    thumb.thumbnail((box, box), imaging.RESAMPLE)
    return thumb


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# --- the measure ---------------------------------------------------------------------------


def test_blur_lowers_sharpness_step_by_step():
    sharp = scene(3, TEST_FRAME)
    scores = [
        hints.image_hints(thumbnail_of(sharp.filter(ImageFilter.GaussianBlur(r)))).sharpness
        for r in (0, 1, 2, 4)
    ]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 2 * scores[2]


def test_sharpness_does_not_depend_on_the_originals_resolution():
    """The same scene at 12 and at 48 megapixel-like sizes scores alike (fixed rendition)."""
    large = scene(5, (2400, 1600))
    small = large.resize((1200, 800), Image.Resampling.LANCZOS)
    a = hints.image_hints(thumbnail_of(large)).sharpness
    b = hints.image_hints(thumbnail_of(small)).sharpness
    assert abs(a - b) / max(a, b) < 0.25


def test_centre_weighting_prefers_a_sharp_centre_over_a_sharp_corner_of_the_same_area():
    # A texture alike everywhere, so only where the sharp quarter lies differs.
    blocks = np.random.default_rng(7).integers(0, 256, (160, 240), dtype=np.uint8)
    base = Image.fromarray(blocks, "L").resize(TEST_FRAME, Image.Resampling.NEAREST)
    soft = base.filter(ImageFilter.GaussianBlur(4))
    width, height = base.size
    quarter = (width // 2, height // 2)
    centre = soft.copy()
    centre.paste(
        base.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4)),
        (width // 4, height // 4),
    )
    corner = soft.copy()
    corner.paste(base.crop((0, 0, *quarter)), (0, 0))
    assert (
        hints.image_hints(thumbnail_of(centre)).sharpness
        > 2 * hints.image_hints(thumbnail_of(corner)).sharpness
    )


def test_clipped_fractions_count_pixels_near_white_and_black():
    image = Image.new("RGB", (400, 200), (128, 128, 128))
    image.paste((255, 255, 255), (0, 0, 100, 200))  # a quarter blown out
    image.paste((2, 2, 2), (300, 0, 400, 100))  # an eighth crushed
    found = hints.image_hints(image)
    assert found.highlights_clipped == pytest.approx(0.25, abs=0.01)
    assert found.shadows_clipped == pytest.approx(0.125, abs=0.01)
    flat = hints.image_hints(Image.new("RGB", (300, 200), (128, 128, 128)))
    assert (flat.highlights_clipped, flat.shadows_clipped, flat.sharpness) == (0.0, 0.0, 0.0)


def test_the_sharp_frame_ranks_first_in_at_least_95_percent_of_bursts():
    """Generated bursts (sharp; Gaussian blur at three radii; two motion blurs; a soft frame
    with more grain; every frame with its burst's sensor noise), deterministic seeds."""
    first = 0
    for seed in range(RANKING_BURSTS):
        frames = burst(seed, TEST_FRAME)
        random.Random(seed).shuffle(frames)
        scored = [(hints.image_hints(thumbnail_of(f.image)).sharpness, f.kind) for f in frames]
        first += max(scored)[1] == "sharp"
    assert first / RANKING_BURSTS >= RANKING_GOAL, f"{first}/{RANKING_BURSTS}"


# --- in the pipeline -----------------------------------------------------------------------


@pytest.fixture(params=["pyvips", "pillow"])
def engine(request, settings):
    settings.PIPELINE_IMAGE_ENGINE = request.param
    return request.param


def test_hints_are_recorded_with_the_thumbnail_by_both_engines(project, engine):
    sharp = scene(11, TEST_FRAME)
    photos = {}
    for name, image in (("SHARP", sharp), ("SOFT", sharp.filter(ImageFilter.GaussianBlur(3)))):
        photos[name] = make_photo(project, name, write=False)
        write_file(project_dir(project) / f"{name}.jpg", jpeg(image))

    for photo in photos.values():
        photo_derivatives_generate(photo=photo)

    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert rows["SHARP"].thumbnail_status == DerivativeStatus.GENERATED
    assert rows["SHARP"].sharpness > rows["SOFT"].sharpness > 0
    assert 0 <= rows["SHARP"].highlights_clipped < 1
    assert 0 <= rows["SHARP"].shadows_clipped < 1


def test_hints_do_not_decode_the_original_again(project, engine, monkeypatch):
    """The hints come from the thumbnail in memory: no extra open of the source file."""
    photo = make_photo(project, "ONE", write=False)
    write_file(project_dir(project) / "ONE.jpg", jpeg(scene(2, TEST_FRAME)))
    opened: list[str] = []
    real_open = imaging._open

    def counting(path):
        opened.append(path.name)
        return real_open(path)

    monkeypatch.setattr(imaging, "_open", counting)
    photo_derivatives_generate(photo=photo)
    assert opened == ["ONE.jpg"]
    assert Photo.objects.get(pk=photo.pk).sharpness is not None


def test_an_existing_photo_gets_its_hints_on_a_forced_derivative_run(project, engine):
    photo = make_photo(project, "OLD", write=False)
    write_file(project_dir(project) / "OLD.jpg", jpeg(scene(4, TEST_FRAME)))
    photo_derivatives_generate(photo=photo)
    # A row from before the hints existed: derivatives up to date, no hints.
    Photo.objects.filter(pk=photo.pk).update(sharpness=None, highlights_clipped=None)
    with pytest.raises(ItemSkipped):  # up to date: nothing made, nothing read
        photo_derivatives_generate(photo=photo)
    assert Photo.objects.get(pk=photo.pk).sharpness is None

    start_task("generate_derivatives", project.tenant, project=project, payload={"force": True})
    drain()

    row = Photo.objects.get(pk=photo.pk)
    assert row.sharpness is not None
    assert row.highlights_clipped is not None


def test_a_preview_pass_keeps_the_hints_of_the_thumbnail_pass(project, engine):
    photo = make_photo(project, "TWO", write=False)
    write_file(project_dir(project) / "TWO.jpg", jpeg(scene(6, TEST_FRAME)))
    photo_derivatives_generate(photo=photo, only=imaging.THUMBNAIL)
    after_thumbnail = Photo.objects.get(pk=photo.pk).sharpness
    photo_derivatives_generate(photo=photo, only=imaging.PREVIEW)
    row = Photo.objects.get(pk=photo.pk)
    assert after_thumbnail is not None
    assert row.sharpness == after_thumbnail
    assert row.preview_status == DerivativeStatus.GENERATED
