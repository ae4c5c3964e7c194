"""Gallery first paint on a slow phone connection: a share link of 300 photos.

The product as ``bin/run`` starts it (``migrate``, then ``manage.py serve`` on SQLite; static
files collected under hashed names), a share link of 300 public photos, each with a real
800-pixel WebP thumbnail (noise and gradients, about the size of a real photo's thumbnail at
the pipeline's quality 50) and a JPEG original on disk. Debian's Chromium opens ``/s/<token>/`` through a connection
throttled with CDP ``Network.emulateNetworkConditions`` like Chrome's "Fast 3G" preset:
150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, browser cache off.

Measured per run: first contentful paint (the page's title and message), and the time until
every thumbnail inside the viewport has loaded (``performance.now()`` from navigation); with
the bytes and thumbnail requests fetched by then (lazy loading keeps the rest for later).
A phone (390×844, 3× pixels, touch) and a desktop (1280×800) screen, ``--runs`` each.

    .venv/bin/python bench/gallery_paint.py [--photos 300] [--runs 3] [--port 8210]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import http_wait, machine, manage, product_env, product_serve, table

FAST_3G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,
    "uploadThroughput": 750 * 1024 / 8,
}
SCREENS = {
    "phone 390×844 @3x": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop 1280×800": {"viewport": {"width": 1280, "height": 800}},
}
# Every tile inside the viewport has its thumbnail loaded: the time, else null.
VISIBLE_LOADED = """() => {
  const tiles = [...document.querySelectorAll('#gallery-grid .gallery-tile')];
  if (!tiles.length) return null;
  const visible = tiles.filter((t) => { const r = t.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; });
  if (!visible.length || !visible.every((t) => t.classList.contains('is-loaded'))) return null;
  return { at: performance.now(), visible: visible.length };
}"""
FCP = """() => { const e = performance.getEntriesByName('first-contentful-paint')[0];
  return e ? e.startTime : null; }"""

SETUP = r"""
import random
from PIL import Image, ImageFilter
from django.conf import settings
from photos.models import Photo
from photos.storage import file_path, preview_path, thumbnail_path
from projects.models import Project, Tenant
from sharing.models import ShareLink

n = int(__N__)
tenant = Tenant.objects.create(slug="bench", name="Bench Studio")
project = Project.objects.create(tenant=tenant, name="Wedding", folder="Wedding")
random.seed(7)
photos = []
for i in range(n):
    photo = Photo.objects.create(project=project, basename=f"IMG_{i:04d}", ext="jpg",
        jpg_available=True, width=6000, height=4000, visibility="public",
        thumbnail_status="generated", preview_status="generated")
    path = thumbnail_path(project, photo.basename)
    path.parent.mkdir(parents=True, exist_ok=True)
    original = file_path(project, photo.basename + ".jpg")
    base = Image.linear_gradient("L").resize((800, 533)).convert("RGB")
    noise = Image.effect_noise((800, 533), 40 + i % 30).convert("RGB")
    tint = Image.new("RGB", (800, 533), (random.randrange(256), random.randrange(256), random.randrange(256)))
    image = Image.blend(Image.blend(base, tint, 0.5), noise, 0.35).filter(ImageFilter.GaussianBlur(0.6))
    # The original first (maintenance deletes rows and derivatives without one), then the
    # thumbnail, newer than it.
    image.save(original, "JPEG", quality=85)
    image.save(path, "WEBP", quality=50)
    preview = preview_path(project, photo.basename)
    preview.parent.mkdir(parents=True, exist_ok=True)
    image.save(preview, "WEBP", quality=60)
    photos.append(photo)
link = ShareLink(tenant=tenant, title="Anna & Ben, 12 July", message="Heart your favourites.")
token = link.token_set()
link.save()
link.photos.set(photos)
print("TOKEN", token)
"""


def gallery_env(tmp: Path) -> dict[str, str]:
    return product_env(
        tmp,
        secret_key="bench-gallery-paint-secret-key-not-for-production",
        PHOTOLIB_VAR_DIR=str(tmp / "var"),
        THROTTLE_GALLERY="100000/min",
    )


def measure(browser, url: str, screen: dict) -> dict:  # type: ignore[no-untyped-def]
    context = browser.new_context(**screen)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    received = {"bytes": 0, "thumbs": 0}

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if "/i/" in response.url:
            received["thumbs"] += 1

    cdp.on(
        "Network.loadingFinished",
        lambda e: received.__setitem__("bytes", received["bytes"] + e.get("encodedDataLength", 0)),
    )
    page.on("response", on_response)
    page.goto(url, wait_until="commit")
    done = page.wait_for_function(VISIBLE_LOADED, polling="raf", timeout=180_000).json_value()
    fcp = page.wait_for_function(FCP, timeout=60_000).json_value()
    result = {
        "fcp": fcp / 1000,
        "visible": done["at"] / 1000,
        "tiles": done["visible"],
        "thumbs": received["thumbs"],
        "kib": received["bytes"] / 1024,
    }
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8210)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as name:
        tmp = Path(name)
        env = gallery_env(tmp)
        manage(env, "migrate", "--noinput")
        out = manage(env, "shell", "-c", SETUP.replace("__N__", str(args.photos)))
        token = next(line.split()[1] for line in out.splitlines() if line.startswith("TOKEN"))
        serve = product_serve(env, port=args.port, log_path=tmp / "serve.log")
        url = f"http://127.0.0.1:{args.port}/s/{token}/"
        rows = []
        try:
            http_wait(url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                )
                try:
                    for label, screen in SCREENS.items():
                        runs = [measure(browser, url, screen) for _ in range(args.runs)]
                        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                        rows.append(
                            [
                                label,
                                f"{med['fcp']:.2f} s",
                                f"{med['visible']:.2f} s",
                                f"{med['tiles']:.0f}",
                                f"{med['thumbs']:.0f} / {args.photos}",
                                f"{med['kib']:.0f} KiB",
                            ]
                        )
                finally:
                    browser.close()
        finally:
            serve.stop(timeout=30)
    print(
        f"Gallery of {args.photos} photos, Fast-3G-like (150 ms RTT, 1.6 Mbit/s down), "
        f"median of {args.runs} runs; {machine()}"
    )
    print(
        table(
            [
                "screen",
                "first paint",
                "visible thumbnails loaded",
                "tiles in view",
                "thumbnails fetched by then",
                "bytes by then",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
