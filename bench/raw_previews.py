"""RAW derivatives benchmark: ms per 24-megapixel RAW for thumbnail + preview (SPEC §4).

What ``photos.imaging.make_derivatives`` costs on a RAW-only photo, by the path
``photos.rawfiles`` takes:

* ``full-size preview``   — a DNG with a 6000×4000 embedded JPEG (as Canon, Nikon and most
  converters write): LibRaw hands out the JPEG, Pillow decodes it with DCT scaling;
* ``1616×1080 preview``   — a DNG with a small embedded JPEG (as Sony writes): the preview is
  that size (never enlarged);
* ``half-size demosaic``  — a DNG with no usable preview: LibRaw demosaics at half size
  (3000×2000) and the preview is that size.

Sources: 6000×4000 16-bit RGGB DNGs (12-bit values with noise) written by
``tests.raw_fixtures.dng_bytes`` with camera-like JPEG previews (q92), kept in
``var/bench/raw/``. Each with the pyvips engine (an embedded JPEG through libvips
shrink-on-load) and the Pillow engine, interleaved. The figure is CPU time per photo of this
process (one core by default), median over the rounds.

    .venv/bin/python bench/raw_previews.py [--rounds 5] [--core 0]
"""

from __future__ import annotations

import argparse
import functools
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import VAR, machine, median, pin_to_core, table

if TYPE_CHECKING:
    from photos.imaging import DerivativesResult

WIDTH, HEIGHT = 6000, 4000
ENGINES = ("pyvips", "pillow")
THUMB = (800, 50)
PREVIEW = (5000, 60)


@functools.cache
def _jpeg(size: tuple[int, int], seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1)
    rgb += rng.normal(0, 12, rgb.shape).astype(np.float32)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@functools.cache
def _bayer(seed: int) -> bytes:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.linspace(200, 3200, WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(300, 2400, HEIGHT, dtype=np.float32)[:, None]
    data = x + y / 2 + rng.normal(0, 40, (HEIGHT, WIDTH)).astype(np.float32)
    return np.clip(data, 0, 4095).astype("<u2").tobytes()


def dng_write(path: Path, preview: tuple[int, int] | None, *, orientation: int = 1) -> None:
    """Unless ``path`` exists: a 6000×4000 DNG, its embedded JPEG (q92) ``preview`` pixels
    large (``None``: no usable preview), with this EXIF orientation."""
    from tests.raw_fixtures import dng_bytes

    if path.exists():
        return
    path.write_bytes(
        dng_bytes(
            raw_size=(WIDTH, HEIGHT),
            preview_size=preview,
            preview_jpeg=_jpeg(preview, 2) if preview else None,
            bayer=_bayer(1),
            orientation=orientation,
        )
    )


def derive(
    path: Path,
    out: Path,
    *,
    engine: str,
    only: str | None = None,
    preview_jpeg_path: Path | None = None,
) -> DerivativesResult:
    """``make_derivatives`` of ``path`` into ``out`` at the pipeline's sizes and qualities."""
    from photos import imaging

    return imaging.make_derivatives(
        path,
        thumb_path=out / "t.webp",
        thumb_size=THUMB[0],
        thumb_quality=THUMB[1],
        preview_path=out / "p.webp",
        preview_size=PREVIEW[0],
        preview_quality=PREVIEW[1],
        engine=engine,
        only=only,
        preview_jpeg_path=preview_jpeg_path,
    )


def rounds_parser(description: str) -> argparse.ArgumentParser:
    """The options of both RAW benchmarks: ``--rounds`` and ``--core``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--core", type=int, default=0, help="-1: all cores")
    return parser


def pinned_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The parsed options, this process pinned to ``--core`` (unless it is -1)."""
    args = parser.parse_args()
    if args.core >= 0:
        pin_to_core(args.core)
    return args


def sources(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, preview in (
        ("full-size preview", (WIDTH, HEIGHT)),
        ("1616×1080 preview", (1616, 1080)),
        ("half-size demosaic", None),
    ):
        path = folder / f"{name.split()[0].replace('×', 'x')}.dng"
        dng_write(path, preview)
        out[name] = path
    return out


def main() -> None:
    args = pinned_args(rounds_parser(__doc__.split("\n")[0]))
    # Loaded before the first timed call, so the import is not in its time.
    from photos import imaging  # noqa: F401

    files = sources(VAR / "raw")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        times: dict[tuple[str, str], list[float]] = {
            (name, engine): [] for name in files for engine in ENGINES
        }
        results = {}
        for _ in range(args.rounds):
            for (name, engine), runs in times.items():
                path = files[name]
                start = time.process_time()
                results[name, engine] = derive(path, out, engine=engine)
                runs.append((time.process_time() - start) * 1000)
        for (name, engine), runs in times.items():
            result = results[name, engine]
            rows.append(
                (
                    name,
                    f"{files[name].stat().st_size / 2**20:.1f} MiB",
                    engine,
                    result.engine,
                    round(median(runs)),
                    round(min(runs)),
                    "×".join(map(str, result.preview_size)),
                    result.exif.metadata.get("derivative_source"),
                )
            )
        passes = _two_passes(files, out=out, rounds=args.rounds)
    print(machine())
    print(
        table(
            [
                "RAW",
                "file",
                "engine setting",
                "made by",
                "CPU ms / photo (median)",
                "best",
                "preview",
                "pixels from",
            ],
            rows,
        )
    )
    print("\nThumbnails first (an upload's two passes, pyvips engine), CPU ms / photo (median):\n")
    print(
        table(
            [
                "RAW",
                "LibRaw open + embedded preview",
                "thumbnail pass",
                "preview pass",
                "both passes",
                "one call (both)",
            ],
            passes,
        )
    )


def _two_passes(files: dict[str, Path], *, out: Path, rounds: int) -> list[tuple]:
    """``make_derivatives(only=THUMBNAIL)`` then ``only=PREVIEW`` (what an upload does), the
    LibRaw part alone, and the single call, per RAW."""
    from photos import imaging, rawfiles

    def call(path: Path, only: str | None) -> None:
        derive(path, out, engine="pyvips", only=only)

    def timed(fn, *fn_args) -> float:  # type: ignore[no-untyped-def]
        start = time.process_time()
        fn(*fn_args)
        return (time.process_time() - start) * 1000

    def libraw(path: Path) -> None:
        rawfiles.raw_pixels(path, min_side=THUMB[0]).image.close()

    rows = []
    for name, path in files.items():
        runs: dict[str, list[float]] = {"libraw": [], "thumb": [], "preview": [], "both": []}
        for _ in range(rounds):
            runs["libraw"].append(timed(libraw, path))
            runs["thumb"].append(timed(call, path, imaging.THUMBNAIL))
            runs["preview"].append(timed(call, path, imaging.PREVIEW))
            runs["both"].append(timed(call, path, None))
        t, p = median(runs["thumb"]), median(runs["preview"])
        rows.append(
            (
                name,
                round(median(runs["libraw"])),
                round(t),
                round(p),
                round(t + p),
                round(median(runs["both"])),
            )
        )
    return rows


if __name__ == "__main__":
    main()
