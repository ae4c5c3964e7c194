"""Derivatives benchmark: ms per 24-megapixel JPEG for thumbnail + preview (SPEC §4).

Engines, on the same files, each in its own process pinned to one core (``--core``):

* ``ours``   — ``photos.imaging.make_derivatives``, what the handler calls, with its default
  engine (libvips through pyvips, WebP effort ``WEBP_METHOD``, 2); ``ours:pillow`` the same with the Pillow
  engine (the fallback when pyvips is missing or declines a file);
* ``sharp``  — sharp (libvips) through node, ``sharp.concurrency(1)``: two pipelines from the
  file, as the original Node.js system made them; at sharp's default WebP effort (4) and at
  effort 0, which ours used before docs/BENCHMARKS.md §8;
* ``pyvips`` — ``pyvips.Image.thumbnail`` (shrink-on-load), ``VIPS_CONCURRENCY=1``, effort 0.

Thumbnail: fit 800×800, WebP q50; preview: fit 5000×5000, WebP q60; auto-oriented, never
enlarged. Sources: ``--images`` 6000×4000 JPEGs (q92, 4:2:0, camera EXIF, one portrait with
Orientation 6) made with Pillow with gradients, shapes, fine texture and sensor-like noise, so
they compress like camera files (~10 MB). Rounds interleave the engines so a noisy neighbour
hurts all of them alike. The headline figure is CPU time per image (all threads of the
engine's process; on one core that is the wall time a quiet machine would show), the median
over the runs of each image, averaged over the images; best and median wall time are printed
beside it.

    .venv/bin/python bench/derivatives.py [--images 3] [--rounds 4] [--breakdown] [--core -1]

Needs ``npm install --no-audit --no-fund`` in ``bench/`` for sharp (pyvips and pyvips-binary are
in requirements.txt); an engine that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, VAR, machine, median, pin_to_core, table

WIDTH, HEIGHT = 6000, 4000
THUMB = (800, 50)
PREVIEW = (5000, 60)
BENCH_DIR = ROOT / "bench"


# --- sources ----------------------------------------------------------------------------------


def make_source(path: Path, *, seed: int, orientation: int = 1) -> None:
    """A 6000×4000 camera-like JPEG: smooth light, objects with edges, texture and noise."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    size = (WIDTH, HEIGHT)
    # Smooth colour light: three rotated gradients as the channels.
    channels = [
        Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize(size, Image.BILINEAR)
        for _ in range(3)
    ]
    img = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(img)
    # Objects: many shapes of every size give edges at every scale.
    for _ in range(2500):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        r = int(rng.paretovariate(1.2) * 8)
        colour = tuple(rng.randrange(256) for _ in range(3))
        kind = rng.random()
        if kind < 0.4:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif kind < 0.7:
            draw.rectangle((x, y, x + r * 2, y + r), fill=colour)
        else:
            draw.line(
                (x, y, x + rng.randint(-400, 400), y + rng.randint(-400, 400)),
                fill=colour,
                width=rng.randint(1, 6),
            )
    img = img.filter(ImageFilter.GaussianBlur(1.2))  # lens softness
    # Fine texture (foliage, fabric): a fractal, and per-channel sensor noise.
    texture = Image.effect_mandelbrot(size, (-0.75, 0.1, -0.74, 0.107), 60).convert("RGB")
    img = Image.blend(img, texture, 0.15)
    noise = Image.merge("RGB", [Image.effect_noise(size, 10) for _ in range(3)])
    img = ImageChops.add(img, noise, scale=1.0, offset=-128)
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "BC-24"  # Model
    exif[0x0112] = orientation
    exif[0x0132] = "2025:07:14 12:00:00"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    img.save(tmp, "JPEG", quality=92, subsampling="4:2:0", exif=exif.tobytes())
    tmp.replace(path)


def sources(count: int) -> list[Path]:
    """The benchmark's JPEGs, made once and kept in ``var/bench/derivatives``."""
    paths = []
    for i in range(count):
        orientation = 6 if i == 2 else 1
        path = VAR / "derivatives" / f"src_{i}_o{orientation}.jpg"
        if not path.exists():
            print(f"making {path.name} ...", file=sys.stderr, flush=True)
            make_source(path, seed=1000 + i, orientation=orientation)
        paths.append(path)
    return paths


# --- engines (children) -----------------------------------------------------------------------


def child_ours(spec: dict) -> dict:
    from bench._common import setup_django

    setup_django()
    from photos.imaging import make_derivatives

    out = Path(spec["out"])
    engine = spec.get("engine", "auto")

    def one(src: str, stem: str) -> dict:
        thumb, preview = out / f"{stem}.thumb.webp", out / f"{stem}.preview.webp"
        result = make_derivatives(
            src,
            thumb_path=thumb,
            thumb_size=THUMB[0],
            thumb_quality=THUMB[1],
            preview_path=preview,
            preview_size=PREVIEW[0],
            preview_quality=PREVIEW[1],
            engine=engine,
        )
        if engine != "auto" and result.engine != engine:
            raise RuntimeError(f"{src}: made by {result.engine}, not {engine}")
        return {
            "thumb": [*result.thumbnail_size, thumb.stat().st_size],
            "preview": [*result.preview_size, preview.stat().st_size],
        }

    return _timed(spec, one)


def child_pyvips(spec: dict) -> dict:
    import pyvips

    pyvips.cache_set_max(0)
    out = Path(spec["out"])
    effort = spec.get("effort", 0)

    def one(src: str, stem: str) -> dict:
        thumb, preview = out / f"{stem}.thumb.webp", out / f"{stem}.preview.webp"
        sizes = {}
        for name, path, (box, quality) in (("preview", preview, PREVIEW), ("thumb", thumb, THUMB)):
            image = pyvips.Image.thumbnail(src, box, height=box, size="down")
            image.webpsave(str(path), Q=quality, effort=effort)
            sizes[name] = [image.width, image.height, path.stat().st_size]
        return sizes

    result = _timed(spec, one)
    result["versions"] = {
        "pyvips": pyvips.__version__,
        "vips": ".".join(str(pyvips.version(i)) for i in range(3)),
    }
    return result


def _timed(spec: dict, one) -> dict:  # type: ignore[no-untyped-def]
    files = spec["files"]
    one(files[0], "warmup")  # load libraries, fill the page cache
    ms: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    outputs = {}
    for _ in range(spec["repeat"]):
        for src in files:
            stem = Path(src).stem
            start, start_cpu = time.perf_counter(), time.process_time()
            outputs[src] = one(src, stem)
            ms.setdefault(src, []).append((time.perf_counter() - start) * 1000)
            cpu.setdefault(src, []).append((time.process_time() - start_cpu) * 1000)
    return {"ms": ms, "cpu": cpu, "outputs": outputs}


# --- driver -----------------------------------------------------------------------------------


def engine_command(engine: str, spec: dict) -> list[str]:
    if engine.startswith("sharp"):
        return ["node", str(BENCH_DIR / "sharp_thumbs.mjs"), json.dumps(spec)]
    return [sys.executable, __file__, "--child", engine.split(":")[0], json.dumps(spec)]


def engine_available(engine: str) -> str | None:
    """``None`` when the engine can run, else why not."""
    if engine.startswith("sharp"):
        if shutil.which("node") is None:
            return "node is not installed"
        if not (BENCH_DIR / "node_modules" / "sharp").is_dir():
            return "sharp is not installed (cd bench && npm install --no-audit --no-fund)"
    if engine.startswith("pyvips"):
        probe = subprocess.run(
            [sys.executable, "-c", "import pyvips; pyvips.version(0)"], capture_output=True
        )
        if probe.returncode:
            return "pyvips/libvips is not installed (pip install -r requirements.txt)"
    return None


def run_engine(engine: str, spec: dict, *, core: int | None) -> dict:
    env = dict(os.environ)
    if core is not None:
        # One libvips thread and one libuv thread; the core pin does the rest (Pillow's
        # threads in ours share that core too).
        env.update(VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1")
    preexec = (lambda: pin_to_core(core)) if core is not None else None
    proc = subprocess.run(
        engine_command(engine, spec),
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        cwd=ROOT,
    )
    if proc.returncode:
        raise RuntimeError(f"{engine} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


ENGINES = {
    # name: (label, extra spec)
    "ours": ("ours: photos.imaging.make_derivatives (pyvips engine, WebP effort 2)", {}),
    "ours:pillow": ("ours, Pillow engine (fallback), WebP method 2", {"engine": "pillow"}),
    "sharp": ("sharp 2 pipelines, WebP effort 4 (sharp default)", {"effort": 4}),
    "sharp:e0": ("sharp 2 pipelines, WebP effort 0", {"effort": 0}),
    "pyvips": ("pyvips thumbnail, WebP effort 0", {"effort": 0}),
}


def breakdown_vips(files: list[Path], *, core: int | None) -> list[tuple[str, float]]:
    """Where ours' time goes: the steps of the pyvips engine (``photos.imaging``), one by one."""
    if core is not None:
        pin_to_core(core)
        os.environ["VIPS_CONCURRENCY"] = "1"  # read when libvips starts, as in the children
    from bench._common import setup_django

    setup_django()
    import pyvips

    from photos import imaging

    assert imaging.vips_available()
    steps: dict[str, list[float]] = {}

    def tick(name: str, start: float) -> float:
        now = time.process_time()
        steps.setdefault(name, []).append((now - start) * 1000)
        return now

    def opened() -> pyvips.Source:
        return pyvips.Source.new_from_file(str(src))

    def shrunk(target: tuple[int, int]) -> pyvips.Image:
        """The file decoded and resized to ``target`` (shrink-on-load), into memory."""
        return pyvips.Image.thumbnail_source(
            opened(),
            target[0],
            height=target[1],
            size="force",
            no_rotate=True,
            option_string="fail_on=error",
        ).copy_memory()

    for src in files * 2:
        t = time.process_time()
        with imaging._open(src) as image:
            info = imaging.exif_info(image)
            size = image.size
        t = tick("Pillow: open, format guard, EXIF (headers only)", t)
        header = pyvips.Image.new_from_source(opened(), "", access="sequential")
        assert (header.width, header.height) == size
        t = tick("libvips: header, loader check", t)
        preview_target = imaging.fit_within(size, PREVIEW[0])
        preview = shrunk(preview_target)
        t = tick("decode + resize 6000×4000 → 5000×3333 into memory (thumbnail_source)", t)
        thumb_target = imaging.fit_within(size, THUMB[0])
        thumb = preview.thumbnail_image(
            thumb_target[0], height=thumb_target[1], size="force", no_rotate=True
        ).copy_memory()
        t = tick("thumbnail 5000 → 800 from the preview in memory (thumbnail_image)", t)
        imaging._vips_encode(imaging._vips_upright(preview, info.orientation), quality=PREVIEW[1])
        t = tick("turn upright (the portrait) + encode preview WebP q60 effort 0", t)
        imaging._vips_encode(imaging._vips_upright(thumb, info.orientation), quality=THUMB[1])
        t = tick("turn upright + encode thumbnail WebP q50 effort 0", t)
        shrunk(thumb_target)
        t = tick("not used — thumbnail from the file instead (shrink-on-load 1/4)", t)
        pyvips.Image.new_from_source(opened(), "", access="sequential").copy_memory()
        tick("for reference: decode alone at full size", t)
    return [(name, median(values)) for name, values in steps.items()]


def breakdown_pillow(files: list[Path], *, core: int | None) -> list[tuple[str, float]]:
    """The Pillow engine's steps (the fallback), one by one on one thread."""
    from PIL import Image

    from photos.imaging import REDUCING_GAP, RESAMPLE

    if core is not None:
        pin_to_core(core)
    steps: dict[str, list[float]] = {}

    def tick(name: str, start: float) -> float:
        now = time.process_time()
        steps.setdefault(name, []).append((now - start) * 1000)
        return now

    tmp = Path(tempfile.mkdtemp(prefix="bench-breakdown-"))
    try:
        for src in files * 2:
            t = time.process_time()
            with Image.open(src) as image:
                image.draft("RGB", (5000, 3333))
                image.load()
                t = tick("decode JPEG at full size (draft cannot help: 6000→5000)", t)
                preview = image.resize((5000, 3333), RESAMPLE, reducing_gap=REDUCING_GAP)
                t = tick(f"resize 6000×4000 → 5000×3333 {RESAMPLE.name.title()}", t)
                preview.save(tmp / "p.webp", "WEBP", quality=60, method=0)
                t = tick("encode preview WebP q60 method 0 (16.7 MP)", t)
                thumb = preview.resize((800, 533), RESAMPLE, reducing_gap=REDUCING_GAP)
                t = tick(f"resize 5000 → 800 {RESAMPLE.name.title()} (reducing_gap 3)", t)
                thumb.save(tmp / "t.webp", "WEBP", quality=50, method=0)
                tick("encode thumbnail WebP q50 method 0", t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [(name, median(values)) for name, values in steps.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="runs per image per round")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds of all engines")
    parser.add_argument("--core", type=int, default=0, help="core to pin to; -1: no pinning")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--breakdown", action="store_true", help="also time ours step by step")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        spec = json.loads(args.spec)
        result = child_ours(spec) if args.child == "ours" else child_pyvips(spec)
        print(json.dumps(result))
        return

    core = None if args.core < 0 else args.core
    files = sources(args.images)
    engines = [e for e in args.engines.split(",") if e]
    missing = {e: why for e in engines if (why := engine_available(e))}
    for engine, why in missing.items():
        print(f"!! {engine}: {why}", file=sys.stderr)
    runnable = [e for e in engines if e not in missing]

    wall: dict[str, dict[str, list[float]]] = {e: {} for e in runnable}
    cpu: dict[str, dict[str, list[float]]] = {e: {} for e in runnable}
    outputs: dict[str, dict] = {}
    versions: dict[str, dict] = {}
    out = Path(tempfile.mkdtemp(prefix="bench-derivatives-"))
    try:
        for round_no in range(args.rounds):
            order = runnable if round_no % 2 == 0 else list(reversed(runnable))
            for engine in order:
                spec = {
                    "files": [str(f) for f in files],
                    "out": str(out / engine.replace(":", "_")),
                    "repeat": args.repeat,
                    # sharp: one libvips thread on one core, its default (0: all) otherwise.
                    "threads": 1 if core is not None else 0,
                    **ENGINES[engine][1],
                }
                Path(spec["out"]).mkdir(exist_ok=True)
                result = run_engine(engine, spec, core=core)
                for src in result["ms"]:
                    wall[engine].setdefault(src, []).extend(result["ms"][src])
                    cpu[engine].setdefault(src, []).extend(result["cpu"][src])
                outputs[engine] = result["outputs"]
                versions[engine] = result.get("versions", {})
                print(f"round {round_no + 1}: {engine} done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)

    dims = {
        e: sorted(
            (src, tuple(o["thumb"][:2]), tuple(o["preview"][:2])) for src, o in outputs[e].items()
        )
        for e in runnable
    }
    for engine in runnable:
        if dims[engine] != dims[runnable[0]]:
            print(
                f"!! {engine} made other sizes than {runnable[0]}: {dims[engine]}", file=sys.stderr
            )

    def per_image(data: dict[str, list[float]], stat) -> float:  # type: ignore[no-untyped-def]
        return sum(stat(v) for v in data.values()) / len(data)

    cpu_ms = {e: per_image(cpu[e], median) for e in runnable}
    best_ms = {e: per_image(wall[e], min) for e in runnable}
    wall_ms = {e: per_image(wall[e], median) for e in runnable}
    sizes = {e: _mean_sizes(outputs[e]) for e in runnable}
    print(f"\nMachine: {machine()}")
    print(
        f"Sources: {len(files)} × {WIDTH}×{HEIGHT} JPEG "
        f"(mean {sum(f.stat().st_size for f in files) / len(files) / 1e6:.1f} MB), "
        f"{'one core (core ' + str(core) + ')' if core is not None else 'all cores'}, "
        f"{args.repeat * args.rounds} runs per image per engine"
    )
    if runnable:
        print(
            "Output sizes (w×h): "
            + "; ".join(
                f"{Path(src).name}: thumb {t[0]}×{t[1]}, preview {p[0]}×{p[1]}"
                for src, t, p in dims[runnable[0]]
            )
        )
    for engine, v in versions.items():
        if v:
            print(f"{engine}: " + ", ".join(f"{k} {val}" for k, val in v.items()))

    def ratio(values: dict[str, float], engine: str) -> str:
        return f"{values['ours'] / values[engine]:.2f}×" if "ours" in values else "n/a"

    rows = [
        [
            ENGINES[e][0],
            cpu_ms[e],
            ratio(cpu_ms, e),
            best_ms[e],
            wall_ms[e],
            ratio(best_ms, e),
            f"{sizes[e]['thumb'] / 1024:.0f} KiB",
            f"{sizes[e]['preview'] / 1024:.0f} KiB",
        ]
        for e in runnable
    ]
    print()
    print(
        table(
            [
                "engine",
                "CPU ms / image (median)",
                "ours / engine (CPU)",
                "wall ms best",
                "wall ms median",
                "ours / engine (best wall)",
                "thumb size",
                "preview size",
            ],
            rows,
        )
    )
    for engine, why in missing.items():
        print(f"| {ENGINES[engine][0]} | not run: {why} | | | | | | |")
    print(
        "\nCPU ms counts every thread of the engine's process; on one core it is the wall time "
        "without the noisy neighbours (best wall shows the same)."
    )
    # One core: CPU time is the figure; all cores: wall time (threads overlap).
    basis, values = ("CPU", cpu_ms) if core is not None else ("median wall", wall_ms)
    for peer, how in (("sharp:e0", "the same WebP effort, 0"), ("sharp", "sharp's default, 4")):
        if "ours" in values and peer in values:
            r = values["ours"] / values[peer]
            print(
                f"Goal ours ≤ 1.1 × {peer} ({how}), {basis}: {r:.2f}× — "
                f"{'met' if r <= 1.1 else 'NOT met'}"
            )

    if args.breakdown:
        print("\nWhere ours' time goes (pyvips engine, one thread, median CPU ms):\n")
        print(table(["step", "ms"], breakdown_vips(files, core=core)))
        print("\nThe Pillow engine (fallback), same steps on one thread, median CPU ms:\n")
        print(table(["step", "ms"], breakdown_pillow(files, core=core)))


def _mean_sizes(outputs: dict) -> dict[str, float]:
    return {
        kind: sum(o[kind][2] for o in outputs.values()) / len(outputs)
        for kind in ("thumb", "preview")
    }


if __name__ == "__main__":
    main()
