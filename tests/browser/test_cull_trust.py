"""The workspace never acts on something other than what it shows (issue 20, item 14).

Real gestures in Chromium: fast key presses in the loupe while previews are held back (a slow
connection), a click then Ctrl+clicks, Revert with and without a selection, and Commit's list
of the files that go to the trash. Every assertion is on what the page shows, the requests it
sends and the rows the server keeps.
"""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from PIL import Image

from photos.models import Photo
from tests.browser import test_cull_workspace as workspace
from tests.browser.test_cull_workspace import (
    bulk_photos,
    index,
    open_workspace,
    order_in_grid,
    saved,
    shoot,
    tile,
)
from tests.factories import make_project

pytestmark = pytest.mark.browser

# The workspace tests' fixtures: a signed-in photographer's page at 1280 × 800.
photographer = workspace.photographer
page = workspace.page

# What the loupe shows: its title, and every image visible under it with the URL of the
# picture it paints (``currentSrc``: an <img> whose src changed keeps painting the old picture,
# and names it there, until the new one has arrived).
LOUPE_STATE = """() => ({
    name: document.querySelector('#cull-loupe-title').textContent,
    images: [...document.querySelectorAll('#cull-loupe .cull-loupe-image img')]
        .filter((img) => img.getClientRects().length)
        .map((img) => img.currentSrc),
})"""

# Checks the loupe at every animation frame, so a wrong picture shown between two of the
# test's own looks is caught too.
WATCH_LOUPE = """(ids) => {
    window.loupeViolations = [];
    const check = () => {
        const loupe = document.querySelector('#cull-loupe');
        if (!loupe.hidden) {
            const name = document.querySelector('#cull-loupe-title').textContent;
            for (const img of document.querySelectorAll('#cull-loupe .cull-loupe-image img')) {
                if (!img.getClientRects().length || !img.currentSrc) continue;
                if (!img.currentSrc.includes(`/api/photos/${ids[name]}/`)) {
                    window.loupeViolations.push(`${img.currentSrc} under ${name}`);
                }
            }
        }
        requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
}"""


def shot_colours(names: list[str]) -> dict[str, tuple[int, int, int]]:
    """The solid colour of each photo ``shoot`` wrote (its formula), by base name."""
    return {
        name: (40 + 50 * (n % 4), 90 + 30 * (n % 3), 200 - 40 * (n % 5))
        for n, name in enumerate(names)
    }


def near(a, b, tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def loupe_colour(page) -> tuple[int, int, int]:
    """The colour on screen at the centre of the loupe's picture: what the user sees."""
    # Measured in one call: the loupe may put another element in its place at any time.
    box = page.evaluate(
        """() => {
            const r = document.querySelector('#cull-loupe-img').getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        }"""
    )
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    png = page.screenshot(clip={"x": x - 2, "y": y - 2, "width": 4, "height": 4})
    return Image.open(BytesIO(png)).convert("RGB").getpixel((2, 2))


def photo_ids(project) -> dict[str, int]:
    return dict(Photo.objects.filter(project=project).values_list("basename", "pk"))


def assert_shows_its_own_picture(page, ids: dict[str, int]) -> str:
    state = page.evaluate(LOUPE_STATE)
    name = state["name"]
    for src in state["images"]:
        if not src:
            continue  # Nothing painted yet.
        assert f"/api/photos/{ids[name]}/" in src, f"{src} is shown under {name}"
    return name


def test_the_loupe_never_shows_another_photo_under_a_name_on_a_slow_connection(
    page, asgi_live_server, tenant
):
    project = make_project(tenant, "Slow day")
    colours = shot_colours(shoot(project, 8, raw=False))
    index(project)
    assert Photo.objects.filter(project=project, preview_status="generated").count() == 8
    ids = photo_ids(project)

    # A slow connection: every loupe image (the screen-sized preview) waits until let through.
    held: list = []
    page.route(lambda url: "/screen" in url, lambda route: held.append(route))

    def release(photo_id: int | None = None) -> list[str]:
        let_go = [
            r for r in held if photo_id is None or f"/api/photos/{photo_id}/" in r.request.url
        ]
        for route in let_go:
            held.remove(route)
            route.continue_()
        return [r.request.url for r in let_go]

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.cull-tile img')]
            .filter((i) => i.complete && i.naturalWidth > 0).length === 8"""
    )
    page.evaluate(WATCH_LOUPE, ids)
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-loupe:not([hidden])")
    assert assert_shows_its_own_picture(page, ids) == order[0]
    # The first photo's preview arrives and shows.
    release(ids[order[0]])
    preview_of = """(id) => {
        const img = document.querySelector('#cull-loupe-img');
        return img.currentSrc.includes(`/api/photos/${id}/screen`) && img.complete
            && img.naturalWidth > 0;
    }"""
    page.wait_for_function(preview_of, arg=ids[order[0]])

    assert near(loupe_colour(page), colours[order[0]])

    # → five times, fast: at every step the picture on screen is the named photo's (its
    # thumbnail until its preview arrives) or none, never another photo's.
    for expected in order[1:6]:
        page.keyboard.press("ArrowRight")
        assert assert_shows_its_own_picture(page, ids) == expected
        seen = loupe_colour(page)
        others = [n for n in order if n != expected and near(seen, colours[n])]
        assert not others, f"{expected} is shown with the picture of {others} ({seen})"
    current = order[5]

    # The current photo's preview arrives, then the earlier photos' late ones: the current
    # preview stays.
    release(ids[current])
    page.wait_for_function(preview_of, arg=ids[current])
    late = release()
    assert late, "the earlier photos' previews were asked for"
    page.wait_for_function(
        """(urls) => urls.every((url) => performance.getEntriesByName(url).length)""", arg=late
    )
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    assert page.evaluate(preview_of, ids[current])
    assert near(loupe_colour(page), colours[current])
    assert assert_shows_its_own_picture(page, ids) == current
    assert page.evaluate("window.loupeViolations") == []

    # A rating applies to the photo whose name and picture are shown.
    page.keyboard.press("3")
    saved(page)
    rated = Photo.objects.filter(project=project, rating=3).values_list("basename", flat=True)
    assert list(rated) == [current]
    assert page.errors == []


def test_quick_arrows_on_a_throttled_connection_show_only_the_named_photo(
    page, asgi_live_server, tenant
):
    """Issue 24 item 7: the loupe decodes neighbours ahead and swaps the thumbnail for the
    sharp image; ten fast → on a slow connection (Chromium's own throttling, through the
    DevTools protocol) never show one photo's picture under another's name."""
    project = make_project(tenant, "Throttled day")
    colours = shot_colours(shoot(project, 12, raw=False))
    index(project)
    assert Photo.objects.filter(project=project, preview_status="generated").count() == 12
    ids = photo_ids(project)
    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.cull-tile img')]
            .filter((i) => i.complete && i.naturalWidth > 0).length === 12"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    # A slow line: 800 ms a request, 40 KB/s down (a preview takes a second or more).
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 800,
            "downloadThroughput": 40 * 1024,
            "uploadThroughput": 20 * 1024,
        },
    )
    page.evaluate(WATCH_LOUPE, ids)
    page.keyboard.press("Enter")
    page.wait_for_selector("#cull-loupe:not([hidden])")
    assert assert_shows_its_own_picture(page, ids) == order[0]

    # Ten → as fast as a photographer glancing (the watcher checks every frame between): after
    # each, the name and every picture under it are the same photo's.
    kinds = []
    for expected in order[1:11]:
        page.keyboard.press("ArrowRight")
        assert assert_shows_its_own_picture(page, ids) == expected
        kinds.append(page.evaluate("() => document.querySelector('#cull-loupe-img').dataset.kind"))
        page.wait_for_timeout(40)
    assert "thumbnail" in kinds, f"the line was not slow enough to test the swap: {kinds}"
    # Then slower, with the colour on screen: never another photo's.
    for expected in reversed(order[5:10]):
        page.keyboard.press("ArrowLeft")
        assert assert_shows_its_own_picture(page, ids) == expected
        seen = loupe_colour(page)
        others = [n for n in order if n != expected and near(seen, colours[n])]
        assert not others, f"{expected} is shown with the picture of {others} ({seen})"
    for expected in order[6:11]:
        page.keyboard.press("ArrowRight")
        assert assert_shows_its_own_picture(page, ids) == expected
    current = order[10]

    # The photo stopped on gets its sharp picture (the decoded preview put in place), through
    # the same slow line; the previews of the photos passed may arrive late and change nothing.
    preview_of = """(id) => {
        const img = document.querySelector('#cull-loupe-img');
        return img.dataset.kind === 'preview' && img.dataset.photoId === String(id)
            && img.currentSrc.includes(`/api/photos/${id}/screen`) && img.complete
            && img.naturalWidth > 0;
    }"""
    page.wait_for_function(preview_of, arg=ids[current], timeout=30_000)
    # Its neighbours ahead (the next one, the one after and the previous one) are fetched.
    ahead = [ids[order[9]], ids[order[11]]]
    page.wait_for_function(
        """(ids) => ids.every((id) => performance.getEntriesByType('resource')
            .some((e) => e.name.includes(`/api/photos/${id}/screen`)))""",
        arg=ahead,
        timeout=30_000,
    )
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    assert near(loupe_colour(page), colours[current])
    assert assert_shows_its_own_picture(page, ids) == current
    # The next photo's preview, decoded ahead, shows at once; ← back shows the one before it
    # sharp at once too.
    page.wait_for_timeout(500)
    page.keyboard.press("ArrowRight")
    assert page.evaluate(preview_of, ids[order[11]])
    assert near(loupe_colour(page), colours[order[11]])
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(preview_of, ids[current])
    assert near(loupe_colour(page), colours[current])
    assert page.evaluate("window.loupeViolations") == []
    cdp.detach()
    assert page.errors == []


def posted(page, requests: list, path: str) -> list[dict]:
    """The JSON bodies of the POSTs to ``/api/photos/<path>`` seen so far."""
    return [
        json.loads(r.post_data)
        for r in requests
        if r.method == "POST" and r.url.split("?")[0].endswith(f"/api/photos/{path}")
    ]


def item_ids(body: dict) -> set[int]:
    return {item["photo_id"] for item in body["items"]}


def test_a_click_then_ctrl_clicks_select_every_photo_clicked(page, asgi_live_server, tenant):
    project = make_project(tenant, "Click day")
    dest = make_project(tenant, "Selects")
    shoot(project, 5)
    index(project)
    ids = photo_ids(project)
    requests: list = []
    page.on("request", lambda request: requests.append(request))

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    tile(page, order[1]).click()
    tile(page, order[3]).click(modifiers=["Control"])
    tile(page, order[4]).click(modifiers=["Control"])
    assert "3 selected" in page.inner_text("#cull-count")
    chosen = {ids[order[1]], ids[order[3]], ids[order[4]]}

    # Keep flags, labels, tags, re-processing and the move's dry run all cover the three.
    page.keyboard.press("x")
    page.keyboard.press("6")
    saved(page)
    page.keyboard.press("t")
    page.wait_for_selector("#cull-dialog-title:has-text('Add tags to 3 photos')")
    page.keyboard.type("picked")
    page.keyboard.press("Enter")
    tile(page, order[4]).locator(".cull-tags", has_text="picked").wait_for()
    saved(page)
    page.click("[data-action=process]")
    page.wait_for_selector("text=Re-processing 3 photo(s).")
    page.click("[data-action=move]")
    page.select_option("#cull-move-dest", str(dest.pk))
    page.click("#cull-dialog-ok")
    page.wait_for_selector("#cull-dialog-title:has-text('Confirm the move')")
    assert "3 photo(s) will move to Selects." in page.inner_text("#cull-dialog-body")
    page.click("#cull-dialog button[value=cancel]")

    assert [item_ids(b) for b in posted(page, requests, "keep")] == [chosen]
    assert [item_ids(b) for b in posted(page, requests, "rating")] == [chosen]
    assert [item_ids(b) for b in posted(page, requests, "tags/add")] == [chosen]
    assert [item_ids(b) for b in posted(page, requests, "process")] == [chosen]
    assert [item_ids(b) for b in posted(page, requests, "move")] == [chosen]
    rows = Photo.objects.filter(project=project)
    assert {p.pk for p in rows if not p.keep_jpg and not p.keep_raw} == chosen
    assert {p.pk for p in rows if p.label == "red"} == chosen
    assert {p.pk for p in rows.filter(tags__name="picked")} == chosen

    # From the keyboard too: the photo under the cursor joins a Ctrl+click.
    page.keyboard.press("Escape")
    page.keyboard.press("Home")
    tile(page, order[2]).click(modifiers=["Control"])
    assert "2 selected" in page.inner_text("#cull-count")
    page.keyboard.press("9")
    saved(page)
    blue = set(Photo.objects.filter(project=project, label="blue").values_list("pk", flat=True))
    assert blue == {ids[order[0]], ids[order[2]]}
    assert page.errors == []


def test_revert_acts_on_the_selection_says_how_many_and_is_undone(page, asgi_live_server, tenant):
    project = make_project(tenant, "Revert day")
    shoot(project, 5)
    index(project)
    # Every RAW discarded, as after a first pass.
    Photo.objects.filter(project=project).update(keep_raw=False)
    ids = photo_ids(project)
    requests: list = []
    page.on("request", lambda request: requests.append(request))

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    order = order_in_grid(page)
    # Two photos selected with Shift+→ (the selection by click has its own test).
    page.keyboard.press("Shift+ArrowRight")
    assert "2 selected" in page.inner_text("#cull-count")
    chosen = {ids[order[0]], ids[order[1]]}

    page.click("[data-action=revert]")
    page.wait_for_selector("#cull-dialog[open]")
    body = page.inner_text("#cull-dialog-body")
    assert "2 photos of the 2 selected photos change" in body
    assert order[0] in body
    assert order[1] in body
    assert order[2] not in body
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Reverted 2 photo(s).")
    saved(page)

    def kept_raw() -> set[int]:
        return set(
            Photo.objects.filter(project=project, keep_raw=True).values_list("pk", flat=True)
        )

    assert kept_raw() == chosen
    assert not any(r.url.endswith("/revert-changes") for r in requests)
    assert [b.get("dry_run", False) for b in posted(page, requests, "keep")] == [True, False]

    # Undo: the selection's flags come back.
    page.keyboard.press("Control+z")
    page.wait_for_selector("text=Undone.")
    saved(page)
    assert kept_raw() == set()

    # Without a selection: the project's revert, with its count, undone by Z too.
    page.keyboard.press("Escape")
    assert "selected" not in page.inner_text("#cull-count")
    page.click("[data-action=revert]")
    page.wait_for_selector("#cull-dialog[open]")
    assert "5 photos of Revert day change" in page.inner_text("#cull-dialog-body")
    page.click("#cull-dialog-ok")
    page.wait_for_selector("text=Reverted 5 photo(s).")
    assert kept_raw() == set(ids.values())
    page.wait_for_selector("#cull[data-ready=true] .cull-tile")
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cull-message')]"
        ".filter((m) => m.textContent === 'Undone.').length === 2"
    )
    assert kept_raw() == set()
    assert page.errors == []


def test_commit_confirmation_lists_the_files_that_go_to_the_trash(
    page, asgi_live_server, tenant, artifacts
):
    project = make_project(tenant, "Commit day")
    names = shoot(project, 4)
    index(project)
    Photo.objects.filter(project=project, basename=names[0]).update(keep_jpg=False, keep_raw=False)
    Photo.objects.filter(project=project, basename=names[1]).update(keep_raw=False)

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.click("[data-action=commit]")
    page.wait_for_selector("#cull-dialog[open]")
    files = page.locator("#cull-dialog-body .cull-files li")
    assert sorted(files.all_inner_texts()) == sorted(
        [f"{names[0]}.jpg, {names[0]} (RAW)", f"{names[1]} (RAW)"]
    )
    # Each with its photo's thumbnail.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#cull-dialog-body .cull-files img')]
            .filter((i) => i.complete && i.naturalWidth > 0).length === 2"""
    )
    assert page.locator("#cull-dialog-body .cull-files-more").count() == 0
    page.screenshot(path=str(artifacts / "commit-files.png"))
    page.click("#cull-dialog button[value=cancel]")


def test_commit_confirmation_caps_its_file_list(page, asgi_live_server, tenant, artifacts):
    project = make_project(tenant, "Big day")
    bulk_photos(project, 55, "ROW_")
    Photo.objects.filter(project=project).update(keep_jpg=False)

    open_workspace(page, asgi_live_server, f"?project={project.pk}")
    page.click("[data-action=commit]")
    page.wait_for_selector("#cull-dialog[open]")
    files = page.locator("#cull-dialog-body .cull-files li")
    assert files.count() == 50
    assert files.first.inner_text() == "ROW_00000.jpg"
    assert page.inner_text("#cull-dialog-body .cull-files-more") == "and 5 more files"
    page.screenshot(path=str(artifacts / "commit-files-capped.png"))
    page.click("#cull-dialog button[value=cancel]")
