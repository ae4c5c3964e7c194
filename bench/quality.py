"""Quality at equal cost: SSIM of thumbnails and previews against a Lanczos reference, and bytes.

For each source (the three 6000×4000 JPEGs of ``bench/derivatives.py``) the reference is a
full decode resized with Pillow's Lanczos to the derivative's size and turned upright. Each
candidate's WebP is decoded and compared with it: SSIM on luma (BT.601), 7×7 uniform window,
sample covariance, K1 = 0.01, K2 = 0.03 (scikit-image's defaults, computed here with numpy so
the benchmark needs nothing outside requirements.txt). Candidates:

* ``ours``: ``photos.imaging.make_derivatives`` as the handler calls it (pyvips engine);
* ``sharp``: ``bench/sharp_thumbs.mjs`` at WebP effort 4 (sharp's default, the original
  system) and at effort 0;
* encoder settings for ours: our own resized pixels (libvips ``thumbnail_source``, as the
  engine makes them) encoded at other WebP qualities and efforts, with the encode's CPU time
  (median of ``--repeat``, one thread), to choose the cheapest setting that matches sharp.

    .venv/bin/python bench/quality.py [--images 3] [--repeat 3]

Needs ``npm install --no-audit --no-fund`` in ``bench/`` for the sharp rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, machine, median, table
from bench.derivatives import BENCH_DIR, PREVIEW, THUMB, sources

# (quality, effort) pairs tried for each derivative, besides the configured one.
CANDIDATES = {
    "thumb": [(50, 0), (50, 2), (50, 4), (54, 0)],
    "preview": [(60, 0), (60, 1), (60, 2), (60, 4), (64, 0), (66, 0)],
}


def ssim(a, b) -> float:  # type: ignore[no-untyped-def]
    """Mean SSIM of two equally sized RGB arrays, on luma, 7×7 uniform window."""
    import numpy as np

    def luma(x):  # type: ignore[no-untyped-def]
        x = x.astype(np.float64)
        return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]

    def box(x, w: int = 7):  # type: ignore[no-untyped-def]
        c = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return (c[w:, w:] - c[:-w, w:] - c[w:, :-w] + c[:-w, :-w]) / (w * w)

    x, y = luma(a), luma(b)
    n = 49
    cov = n / (n - 1)
    ux, uy = box(x), box(y)
    vx = cov * (box(x * x) - ux * ux)
    vy = cov * (box(y * y) - uy * uy)
    vxy = cov * (box(x * y) - ux * uy)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return float(s.mean())


def pixels(data_or_path):  # type: ignore[no-untyped-def]
    import io

    import numpy as np
    from PIL import Image

    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with Image.open(source) as image:
        return np.asarray(image.convert("RGB"))


def references(path: Path) -> dict[str, object]:
    """Lanczos references from a full decode, upright, at each derivative's size."""
    import numpy as np
    from PIL import Image, ImageOps

    from photos.imaging import fit_within

    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image.convert("RGB"))
    out = {}
    for kind, (box, _) in (("thumb", THUMB), ("preview", PREVIEW)):
        size = fit_within(upright.size, box)
        out[kind] = np.asarray(upright.resize(size, Image.Resampling.LANCZOS))
    return out


def run_sharp(files: list[Path], *, effort: int, out: Path) -> dict[str, dict[str, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    spec = {"files": [str(f) for f in files], "out": str(out), "repeat": 1, "effort": effort}
    subprocess.run(
        ["node", str(BENCH_DIR / "sharp_thumbs.mjs"), json.dumps(spec)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        str(f): {
            "thumb": out / f"{f.stem}.thumb.webp",
            "preview": out / f"{f.stem}.preview.webp",
        }
        for f in files
    }


def run_ours(files: list[Path], *, out: Path) -> dict[str, dict[str, Path]]:
    from photos.imaging import make_derivatives

    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for f in files:
        paths = {"thumb": out / f"{f.stem}.thumb.webp", "preview": out / f"{f.stem}.preview.webp"}
        make_derivatives(
            f,
            thumb_path=paths["thumb"],
            thumb_size=THUMB[0],
            thumb_quality=THUMB[1],
            preview_path=paths["preview"],
            preview_size=PREVIEW[0],
            preview_quality=PREVIEW[1],
        )
        made[str(f)] = paths
    return made


def our_pixels(path: Path, box: int):  # type: ignore[no-untyped-def]
    """Our engine's resized, upright, 8-bit pixels (what it hands the WebP encoder)."""
    import pyvips
    from PIL import Image

    from photos import imaging

    with Image.open(path) as image:
        info = imaging.exif_info(image)
        size = image.size
    target = imaging.fit_within(size, box)
    thumb = pyvips.Image.thumbnail_source(
        pyvips.Source.new_from_file(str(path)),
        target[0],
        height=target[1],
        size="force",
        no_rotate=True,
    )
    # Into memory first, as the engine does: turning a sequential load needs random access.
    return imaging._vips_upright(imaging._vips_webp_ready(thumb).copy_memory(), info.orientation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="timed encodes per setting")
    parser.add_argument(
        "--preview-settings",
        default="",
        help="preview WebP settings to try instead of the default list, as quality:effort "
        "pairs (e.g. 56:0,58:0,58:1)",
    )
    parser.add_argument("--thumb-settings", default="", help="the same for the thumbnail")
    args = parser.parse_args()
    for kind, text in (("preview", args.preview_settings), ("thumb", args.thumb_settings)):
        if text:
            CANDIDATES[kind] = [
                (int(q), int(e)) for q, e in (pair.split(":") for pair in text.split(","))
            ]
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    import pyvips

    files = sources(args.images)
    tmp = Path(tempfile.mkdtemp(prefix="photolib-quality-"))
    scores: dict[str, dict[str, list[tuple[float, int]]]] = {}
    settings: dict[tuple[str, int, int], list[tuple[float, int, float]]] = {}
    try:
        from photos.imaging import PREVIEW_WEBP_METHOD, WEBP_METHOD

        ours = f"ours (effort {WEBP_METHOD} / {PREVIEW_WEBP_METHOD})"
        outputs = {ours: run_ours(files, out=tmp / "ours")}
        if (BENCH_DIR / "node_modules" / "sharp").is_dir():
            outputs["sharp, effort 4"] = run_sharp(files, effort=4, out=tmp / "sharp4")
            outputs["sharp, effort 0"] = run_sharp(files, effort=0, out=tmp / "sharp0")
        for f in files:
            ref = references(f)
            for name, made in outputs.items():
                for kind in ("thumb", "preview"):
                    path = made[str(f)][kind]
                    scores.setdefault(name, {}).setdefault(kind, []).append(
                        (ssim(pixels(path), ref[kind]), path.stat().st_size)
                    )
            for kind, (box, _) in (("thumb", THUMB), ("preview", PREVIEW)):
                image = our_pixels(f, box)
                for quality, effort in CANDIDATES[kind]:
                    times = []
                    for _ in range(args.repeat):
                        start = time.process_time()
                        data = image.webpsave_buffer(
                            Q=quality, effort=effort, keep=pyvips.ForeignKeep.NONE
                        )
                        times.append((time.process_time() - start) * 1000)
                    settings.setdefault((kind, quality, effort), []).append(
                        (ssim(pixels(data), ref[kind]), len(data), median(times))
                    )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    print(f"\n{machine()}; {len(files)} images; SSIM vs Lanczos from a full decode\n")
    base = scores.get("sharp, effort 4")
    rows = []
    for name, kinds in scores.items():
        row: list[object] = [name]
        for kind in ("thumb", "preview"):
            s = mean([v[0] for v in kinds[kind]])
            b = mean([v[1] for v in kinds[kind]])
            row += [f"{s:.4f}", f"{b / 1024:.0f}"]
            if base:
                bs = mean([v[0] for v in base[kind]])
                bb = mean([v[1] for v in base[kind]])
                row += [f"{s - bs:+.4f}", f"{b / bb:.2f}×"]
        rows.append(row)
    headers = ["derivatives", "thumb SSIM", "thumb KiB"]
    if base:
        headers += ["Δ SSIM vs sharp e4", "bytes vs sharp e4"]
    headers += ["preview SSIM", "preview KiB"]
    if base:
        headers += ["Δ SSIM vs sharp e4", "bytes vs sharp e4"]
    print(table(headers, rows))

    print("\nOur pixels, other WebP settings (encode CPU ms: one thread, median)\n")
    rows = []
    for (kind, quality, effort), values in settings.items():
        s = mean([v[0] for v in values])
        b = mean([v[1] for v in values])
        ms = mean([v[2] for v in values])
        row = [kind, quality, effort, f"{s:.4f}", f"{b / 1024:.0f}", f"{ms:.0f}"]
        if base:
            bs = mean([v[0] for v in base[kind]])
            bb = mean([v[1] for v in base[kind]])
            row += [f"{s - bs:+.4f}", f"{b / bb:.2f}×"]
        rows.append(row)
    headers = ["derivative", "quality", "effort", "SSIM", "KiB", "encode ms"]
    if base:
        headers += ["Δ SSIM vs sharp e4", "bytes vs sharp e4"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
