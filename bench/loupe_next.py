"""The next photo in the loupe: milliseconds from the key to the sharp image on screen.

Issue 24 item 7 (goal: p95 ≤ 100 ms at 1440×900 on this machine, under the product as
``bin/run`` serves it). Measures only; the loupe is ``photos/static/photos/cull/loupe.js``.

**The product**: ``migrate`` then ``manage.py serve`` on SQLite with the ORM broker (the
embedded default, as in ``bench/time_to_cull.py``), a staff tenant user made with
``manage.py tenant_user --staff --password``, a project made through the API and ``--photos``
24-megapixel JPEGs (the three of ``bench/derivatives.py`` under distinct names) uploaded
through ``POST /api/projects/{id}/upload``; the script waits until every preview exists.

**The browser**: Debian's Chromium, headless (software rendering, as the browser tests), a
1440×900 viewport, signed in through the admin login, on ``/admin/cull/?project=<id>``. The
loupe is opened on the first photo (Home, Enter) and its preview waited for; then ``--steps``
times ArrowRight, each step timed in the page from the keydown event (a capture listener's
``performance.now()``) until:

* **shown**: the loupe's title names the next photo and its image (thumbnail or preview) has
  loaded;
* **sharp**: the image is that photo's preview (``data-kind="preview"``), loaded, ``decode()``
  resolved, and two animation frames have passed (the frame with it has been painted).

After each step the script waits ``--dwell`` ms (a photographer looks at the photo), during
which the loupe may fetch the neighbours ahead.

    .venv/bin/python bench/loupe_next.py [--photos 51] [--steps 50] [--dwell 300] [--batch 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    api_session,
    http_wait,
    machine,
    manage,
    median,
    percentile,
    product_serve,
    table,
    upload_photos,
)
from bench.derivatives import sources
from bench.time_to_cull import _wait_for_derivatives, upload_env

# The browser tests' Chromium and flags (tests/browser/conftest.py, which needs Django's settings).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "bench-loupe-password-1"  # a throwaway user of a throwaway database

# Runs in the page: time one ArrowRight until the next photo is shown and sharp.
STEP = """
async (previous) => {
  const title = document.querySelector('#cull-loupe-title');
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  let shown = null;
  let img = null;
  for (;;) {
    // Looked up at every frame: the loupe may put another element in its place.
    img = document.querySelector('#cull-loupe-img');
    const moved = title.textContent !== previous;
    const loaded = img.complete && img.naturalWidth > 0;
    if (moved && loaded && shown === null) shown = performance.now() - window.__keyAt;
    if (moved && loaded && img.dataset.kind === 'preview') break;
    if (performance.now() - window.__keyAt > 20000) return {timeout: true, title: title.textContent};
    await frame();
  }
  try { await img.decode(); } catch (e) {}
  await frame();
  await frame();
  return {shown, sharp: performance.now() - window.__keyAt, title: title.textContent,
          size: [img.naturalWidth, img.naturalHeight]};
}
"""


def browse(base: str, project_id: int, *, steps: int, dwell_ms: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/admin/login/")
            page.fill("#id_username", "ana")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#user-tools")
            page.goto(f"{base}/admin/cull/?project={project_id}")
            page.wait_for_selector(".cull-tile")
            page.evaluate(
                "() => window.addEventListener('keydown', () => "
                "{ window.__keyAt = performance.now(); }, true)"
            )
            page.focus("#cull-grid")
            page.keyboard.press("Home")
            # The uploads share a capture time: one burst, one stack in the grid. S expands it
            # (the loupe steps through what the grid shows).
            page.keyboard.press("s")
            page.wait_for_function(
                f"() => document.querySelectorAll('.cull-tile').length >= {min(steps + 1, 20)}"
            )
            page.keyboard.press("Home")
            page.keyboard.press("Enter")
            page.wait_for_selector("#cull-loupe:not([hidden])")
            page.wait_for_function(
                "() => document.querySelector('#cull-loupe-img').dataset.kind === 'preview'"
                " && document.querySelector('#cull-loupe-img').complete",
                timeout=60_000,
            )
            results = []
            for _ in range(steps):
                previous = page.inner_text("#cull-loupe-title")
                page.keyboard.press("ArrowRight")
                results.append(page.evaluate(STEP, previous))
                page.wait_for_timeout(dwell_ms)
            return results
        finally:
            chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=51)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--dwell", type=int, default=300, help="ms on each photo")
    parser.add_argument("--port", type=int, default=8240)
    parser.add_argument("--batch", type=int, default=3, help="files per upload request")
    args = parser.parse_args()
    files = sources(3)
    tmp = Path(tempfile.mkdtemp(prefix="photolib-loupe-"))
    env = upload_env(tmp)
    server = None
    try:
        manage(env, "migrate", "--noinput")
        http = api_session(env, "bench", "ana", "--staff", "--password", PASSWORD)
        server = product_serve(env, port=args.port, log_path=tmp / "serve.log")
        base = f"http://127.0.0.1:{args.port}"
        http_wait(f"{base}/api/projects/", http=http)
        project = http.post(f"{base}/api/projects/", json={"name": "Loupe"}, timeout=30).json()
        upload_photos(http, f"{base}/api", project["id"], files, args.photos, batch=args.batch)
        _wait_for_derivatives(tmp, args.photos)
        results = browse(base, int(project["id"]), steps=args.steps, dwell_ms=args.dwell)
    except Exception:
        log = tmp / "serve.log"
        if log.exists():
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    timeouts = [r for r in results if r.get("timeout")]
    done = [r for r in results if not r.get("timeout")]
    rows = []
    for what in ("shown", "sharp"):
        values = [float(r[what]) for r in done if r.get(what) is not None]
        rows.append(
            (
                what,
                len(values),
                f"{median(values):.0f}",
                f"{percentile(values, 95):.0f}",
                f"{max(values):.0f}",
            )
        )
    print(
        f"\n{machine()}; {args.photos} photos, {args.steps} steps, 1440×900, dwell {args.dwell} ms"
    )
    sizes = {tuple(r["size"]) for r in done}
    print(f"preview sizes decoded: {sorted(sizes)}; steps timed out (20 s): {len(timeouts)}\n")
    print(table(["ms from the key", "steps", "p50", "p95", "max"], rows))


if __name__ == "__main__":
    main()
