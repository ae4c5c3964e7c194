"""Checking focus and comparing frames in the workspace (SPEC §17, issue 24 items 1-4, 10), in
Chromium: 100 % zoom with the point under the pointer kept, drag to pan, compare and survey
with the keys acting on the photo under focus, bursts as stacks with their hints and "keep the
sharpest", sort and the filters of the photo list."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from photos.models import Photo
from photos.storage import project_dir
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import (
    index,
    open_workspace,
    order_in_grid,
    saved,
    shoot,
    tile,
)
from tests.factories import make_project, write_file
from tests.hint_frames import burst

pytestmark = pytest.mark.browser

# The workspace tests' fixtures: a signed-in photographer's page at 1280 × 800.
photographer = workspace.photographer
page = workspace.page

SHOT = datetime(2025, 7, 14, 9, 0, 0, tzinfo=UTC)

# The image pixel under a client point of a loupe pane, read from where the image is on
# screen (its bounding box) and the photo's full size.
IMAGE_POINT = """([selector, x, y, width]) => {
    const img = document.querySelector(selector);
    const box = img.getBoundingClientRect();
    const scale = box.width / width;
    return { x: (x - box.left) / scale, y: (y - box.top) / scale, scale };
}"""


def jpeg_of(image: Image.Image, *, taken: datetime, model: str = "Z8") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Nikon"
    exif[0x0110] = model
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def shoot_detailed(project, names: list[str], *, size=(2400, 1600), seconds: float = 60) -> None:
    """Detailed scenes (``hint_frames``) as JPEGs, ``seconds`` apart (0: one burst)."""
    for n, name in enumerate(names):
        frame = burst(n + 1, size)[0].image
        taken = SHOT + timedelta(seconds=seconds * n)
        write_file(project_dir(project) / f"{name}.jpg", jpeg_of(frame, taken=taken))


def test_zoom_to_100_percent_keeps_the_point_under_the_pointer_and_drag_pans(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Zoom")
    shoot_detailed(project, ["DSC_0001", "DSC_0002"])
    index(project)
    photo = Photo.objects.get(project=project, basename="DSC_0001")
    assert (photo.width, photo.height) == (2400, 1600)
    fulls: list[str] = []
    page.on("request", lambda r: "/full" in r.url and fulls.append(r.url))
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-loupe[open]")
    assert page.evaluate("document.querySelector('#cull-loupe') instanceof HTMLDialogElement")
    page.wait_for_function("() => document.querySelector('#cull-loupe-img').naturalWidth > 0")
    box = page.locator("#cull-loupe-view").bounding_box()
    # A point off-centre, inside the fitted picture.
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4
    before = page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])
    assert before["scale"] < 0.5  # Fitted: a 2400-pixel photo in a ~1000-pixel view.

    page.mouse.click(x, y)
    page.wait_for_selector("#cull-loupe[data-zoom='100']")
    after = page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])
    assert after["scale"] == pytest.approx(1, abs=0.001)
    assert after["x"] == pytest.approx(before["x"], abs=1.5)
    assert after["y"] == pytest.approx(before["y"], abs=1.5)
    # The full-size original replaces the preview, at the same place.
    page.wait_for_selector("#cull-loupe-img[data-kind=full]")
    assert page.evaluate("document.querySelector('#cull-loupe-img').naturalWidth") == 2400
    assert f"/api/photos/{photo.pk}/full" in fulls[0]
    assert page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])["x"] == pytest.approx(
        before["x"], abs=1.5
    )
    page.screenshot(path=str(artifacts / "zoom-100.png"))

    # A drag pans: the image follows the pointer, pixel for pixel at 100 %.
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y - 60, steps=6)
    page.mouse.up()
    assert page.get_attribute("#cull-loupe", "data-zoom") == "100"  # A drag is no click.
    panned = page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])
    assert panned["x"] == pytest.approx(before["x"] + 120, abs=1.5)
    assert panned["y"] == pytest.approx(before["y"] + 60, abs=1.5)

    # Z goes back to fitted, and again zooms at the pointer.
    page.keyboard.press("z")
    page.wait_for_selector("#cull-loupe[data-zoom='fit']")
    page.mouse.move(x, y)
    fitted = page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])
    page.keyboard.press("z")
    page.wait_for_selector("#cull-loupe[data-zoom='100']")
    again = page.evaluate(IMAGE_POINT, ["#cull-loupe-img", x, y, 2400])
    assert again["x"] == pytest.approx(fitted["x"], abs=1.5)
    assert again["y"] == pytest.approx(fitted["y"], abs=1.5)
    # Esc closes the dialog, the focus back on the grid.
    page.keyboard.press("Escape")
    page.wait_for_selector("#cull-loupe", state="hidden")
    assert page.evaluate("document.activeElement.id") == "cull-grid"


def test_compare_keeps_zoom_in_step_and_keys_act_on_the_photo_under_focus(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Compare")
    names = ["DSC_0001", "DSC_0002", "DSC_0003"]
    shoot_detailed(project, names, size=(1800, 1200))
    index(project)
    ids = dict(Photo.objects.filter(project=project).values_list("basename", "pk"))
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    assert order_in_grid(page) == names

    page.keyboard.press("c")
    page.wait_for_selector("#cull-loupe[data-mode=compare]")
    pane_ids = "() => [...document.querySelectorAll('.cull-loupe-image img')].map(i => Number(i.dataset.photoId))"
    assert page.evaluate(pane_ids) == [ids["DSC_0001"], ids["DSC_0002"]]
    assert page.is_visible("#cull-loupe-view-right")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cull-loupe-image img')].every(i => i.naturalWidth > 0)"
    )

    # A click on the left zooms both to 100 % at the same point of each photo.
    left = page.locator("#cull-loupe-view").bounding_box()
    right = page.locator("#cull-loupe-view-right").bounding_box()
    page.mouse.click(left["x"] + left["width"] * 0.25, left["y"] + left["height"] * 0.5)
    page.wait_for_selector("#cull-loupe[data-zoom='100']")
    a = page.evaluate(
        IMAGE_POINT,
        ["#cull-loupe-img", left["x"] + left["width"] / 2, left["y"] + left["height"] / 2, 1800],
    )
    b = page.evaluate(
        IMAGE_POINT,
        [
            "#cull-loupe-img-right",
            right["x"] + right["width"] / 2,
            right["y"] + right["height"] / 2,
            1800,
        ],
    )
    assert a["scale"] == pytest.approx(1, abs=0.001)
    assert b["scale"] == pytest.approx(1, abs=0.001)
    assert (a["x"], a["y"]) == (pytest.approx(b["x"], abs=1.5), pytest.approx(b["y"], abs=1.5))
    page.screenshot(path=str(artifacts / "compare.png"))

    # → changes the right photo (and puts the focus on it); a rating goes to it alone.
    page.keyboard.press("ArrowRight")
    assert page.evaluate(pane_ids) == [ids["DSC_0001"], ids["DSC_0003"]]
    assert page.inner_text("#cull-loupe-title") == "DSC_0003"
    page.keyboard.press("4")
    saved(page)
    ratings = dict(Photo.objects.filter(project=project).values_list("basename", "rating"))
    assert ratings == {"DSC_0001": 0, "DSC_0002": 0, "DSC_0003": 4}

    # S swaps the two; a click on a pane puts the focus there; X discards that one only.
    page.keyboard.press("s")
    assert page.evaluate(pane_ids) == [ids["DSC_0003"], ids["DSC_0001"]]
    page.keyboard.press("z")  # Back to fitted, so the next click only picks the pane.
    page.wait_for_selector("#cull-loupe[data-zoom='fit']")
    page.keyboard.press("x")
    saved(page)
    assert not Photo.objects.get(pk=ids["DSC_0003"]).keep_jpg
    assert Photo.objects.get(pk=ids["DSC_0001"]).keep_jpg
    # C again: one photo, the one under focus; Esc: the grid's cursor on it.
    page.keyboard.press("c")
    page.wait_for_selector("#cull-loupe[data-mode=single]")
    assert page.inner_text("#cull-loupe-title") == "DSC_0003"
    page.keyboard.press("Escape")
    page.wait_for_selector("#cull-loupe", state="hidden")
    assert page.locator("#cull-current .cull-name").inner_text() == "DSC_0003"


def test_survey_fits_the_selection_and_keys_act_on_the_photo_under_focus(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Survey")
    names = shoot(project, 5, raw=False)
    index(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    page.keyboard.press("n")  # Nothing selected: a message, no survey.
    page.wait_for_selector("text=Select two photos or more")
    assert not page.is_visible("#cull-loupe")
    tile(page, order[0]).click()
    tile(page, order[3]).click(modifiers=["Shift"])
    page.keyboard.press("n")
    page.wait_for_selector("#cull-loupe[data-mode=survey]")
    cells = page.locator(".cull-survey-cell")
    assert cells.count() == 4
    stage = page.locator(".cull-loupe-stage").bounding_box()
    for i in range(4):
        cell = cells.nth(i).bounding_box()
        assert cell["x"] >= stage["x"] - 1
        assert cell["y"] >= stage["y"] - 1
        assert cell["x"] + cell["width"] <= stage["x"] + stage["width"] + 1
        assert cell["y"] + cell["height"] <= stage["y"] + stage["height"] + 1
    page.screenshot(path=str(artifacts / "survey.png"))
    # The focus starts on the photo under the cursor (the last clicked); ← moves it; X
    # discards that photo only.
    assert page.inner_text(".cull-survey-focus figcaption").startswith(order[3])
    page.keyboard.press("ArrowLeft")
    assert page.inner_text(".cull-survey-focus figcaption").startswith(order[2])
    page.keyboard.press("x")
    saved(page)
    kept = dict(Photo.objects.filter(project=project).values_list("basename", "keep_jpg"))
    assert kept == {name: name != order[2] for name in names}
    # U (Lightroom's unflag): its keep flags back to the files on disk.
    page.keyboard.press("u")
    saved(page)
    assert Photo.objects.filter(project=project, keep_jpg=False).count() == 0
    # A click moves the focus; 5 rates that one.
    cells.nth(1).click()
    assert page.inner_text(".cull-survey-focus figcaption").startswith(order[1])
    page.keyboard.press("5")
    saved(page)
    assert Photo.objects.get(project=project, basename=order[1]).rating == 5
    assert Photo.objects.get(project=project, basename=order[2]).rating == 0


def test_a_burst_shows_as_a_stack_with_hints_and_keep_the_sharpest_discards_the_rest(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Bursts")
    frames = burst(7, (960, 640))
    kinds = {"DSC_0101": "blur-4.0", "DSC_0102": "sharp", "DSC_0103": "motion"}
    chosen = {
        "DSC_0101": next(f for f in frames if f.kind == "blur-4.0"),
        "DSC_0102": frames[0],
        "DSC_0103": next(f for f in frames if f.kind.startswith("motion")),
    }
    for name, frame in chosen.items():
        # The same second in the files' whole seconds: 0 s apart, one burst.
        write_file(project_dir(project) / f"{name}.jpg", jpeg_of(frame.image, taken=SHOT))
        assert kinds[name] in frame.kind
    write_file(
        project_dir(project) / "DSC_0200.jpg",
        jpeg_of(frames[0].image, taken=SHOT + timedelta(minutes=5)),
    )
    index(project)
    rows = {p.basename: p for p in Photo.objects.filter(project=project)}
    assert rows["DSC_0101"].burst is not None
    assert rows["DSC_0101"].burst == rows["DSC_0102"].burst == rows["DSC_0103"].burst
    assert rows["DSC_0200"].burst is None
    open_workspace(page, asgi_live_server, f"?project={project.pk}")

    # One stack (its first frame, the size on it), and the photo alone.
    assert order_in_grid(page) == ["DSC_0101", "DSC_0200"]
    assert tile(page, "DSC_0101").locator(".cull-stack").inner_text() == "▣ 3"
    page.screenshot(path=str(artifacts / "stack.png"))
    tile(page, "DSC_0101").locator(".cull-stack").click()
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 4")
    assert order_in_grid(page) == ["DSC_0101", "DSC_0102", "DSC_0103", "DSC_0200"]
    # The sharpest frame marked, the soft ones flagged.
    assert tile(page, "DSC_0102").locator(".cull-hint-sharpest").count() == 1
    assert tile(page, "DSC_0101").locator(".cull-hint-soft").count() == 1
    assert tile(page, "DSC_0102").locator(".cull-hint-soft").count() == 0
    page.screenshot(path=str(artifacts / "stack-open.png"))
    # S closes the stack under the cursor again.
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")
    assert order_in_grid(page) == ["DSC_0101", "DSC_0200"]

    # Sort by sharpness: no stacks, the sharpest first.
    page.select_option("select[name=sort]", "sharpness")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 4")
    assert order_in_grid(page)[0] in ("DSC_0102", "DSC_0200")
    assert "sort=sharpness" in page.url
    page.select_option("select[name=sort]", "")
    page.wait_for_function("() => document.querySelectorAll('.cull-tile').length === 2")

    # Keep the sharpest: the dry run's count first, then the flags.
    page.click("[data-action=keep-sharpest]")
    page.wait_for_selector("#cull-dialog[open] .cull-sharpest-count")
    text = page.inner_text("#cull-dialog .cull-sharpest-count")
    assert "1 burst" in text, text
    assert "2 photos change" in text, text
    assert Photo.objects.filter(project=project, keep_jpg=False).count() == 0  # A dry run.
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Kept the sharpest frame of 1 burst(s)")
    kept = dict(Photo.objects.filter(project=project).values_list("basename", "keep_jpg"))
    assert kept == {"DSC_0101": False, "DSC_0102": True, "DSC_0103": False, "DSC_0200": True}


def test_sort_and_every_filter_of_the_photo_list_from_the_page(page, asgi_live_server, tenant):
    project = make_project(tenant, "Filters")
    names = shoot(project, 4, raw=False)  # Capture order is the reverse of name order.
    index(project)
    Photo.objects.filter(project=project, basename=names[0]).update(
        rating=3, lens="XF 56mm", iso=3200
    )
    Photo.objects.filter(project=project, basename=names[1]).update(lens="XF 23mm", iso=200)
    lists: list[str] = []
    page.on(
        "request",
        lambda r: r.url.split("?")[0].rstrip("/").endswith("/api/photos") and lists.append(r.url),
    )
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    assert order_in_grid(page) == list(reversed(names))

    page.select_option("select[name=sort]", "name")
    page.wait_for_function(
        f"() => window.cull.store.complete && window.cull.store.photos[0].basename === '{names[0]}'"
    )
    assert order_in_grid(page) == names
    assert "ordering=basename" in lists[-1]
    page.select_option("select[name=sort]", "rating")
    page.wait_for_function("() => window.cull.store.query.ordering === '-rating,taken_at,basename'")
    page.wait_for_function(
        f"() => window.cull.store.complete && window.cull.store.photos[0].basename === '{names[0]}'"
    )

    # The less common filters sit under "More filters".
    page.click("#cull-f-more summary")
    page.fill("input[name=lens]", "56mm")
    page.keyboard.press("Enter")
    page.locator("input[name=lens]").dispatch_event("change")
    page.wait_for_function("() => window.cull.store.complete && window.cull.store.all.length === 1")
    assert "lens=56mm" in lists[-1]
    assert order_in_grid(page) == [names[0]]
    page.fill("input[name=lens]", "")
    page.fill("input[name=iso_min]", "1000")
    page.locator("input[name=iso_min]").dispatch_event("change")
    page.wait_for_function("() => window.cull.store.complete && window.cull.store.all.length === 1")
    assert "iso_min=1000" in lists[-1]
    page.fill("input[name=iso_min]", "")
    page.locator("input[name=iso_min]").dispatch_event("change")
    # Unrated: every photo but the rated one.
    page.select_option("select[name=rating]", "0")
    page.wait_for_function("() => window.cull.store.complete && window.cull.store.all.length === 3")
    assert "rating=0" in lists[-1]
    assert "rating=0" in page.url
    for name in ("sharpness_min", "clipped", "in_burst", "keep_jpg", "keep_raw", "basename"):
        assert page.locator(f"[name={name}]").count() == 1
