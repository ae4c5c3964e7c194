"""RAW previews as they are: thumbnail + preview of a 24-megapixel RAW, before and after.

Issue 24 item 5, SPEC §4: a RAW whose embedded JPEG is full size keeps that JPEG as its
preview (``.preview/<base>.jpg``, its EXIF orientation set, not decoded, not re-encoded), and
its thumbnail is decoded from that JPEG at the smallest scale (libvips shrink-on-load; Pillow
``draft`` in the Pillow engine). Goal: thumbnail + preview ≤ 150 ms per RAW-only photo on one
core (818 ms before, BENCHMARKS §6).

Both sides run in this one process, interleaved round by round, on the same file:

* ``before``: ``make_derivatives`` without ``preview_jpeg_path`` — the embedded JPEG decoded,
  resized to 5000 px and encoded as a WebP (the code before this change);
* ``after``: ``make_derivatives`` with ``preview_jpeg_path`` — what the pipeline does now.

Each as an upload runs it (a thumbnail pass, then a preview pass: thumbnails first, SPEC §6)
and as one call. Sources: 6000×4000 DNGs of ``bench/raw_previews.py`` (16-bit RGGB, a q92
full-size JPEG preview), one of them with orientation 6, kept in ``var/bench/raw/``. CPU time
of this process (pinned to one core) and wall time, median over the rounds.

    .venv/bin/python bench/raw_preview.py [--rounds 5] [--core 0] [--engine pyvips]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import VAR, machine, median, table
from bench.raw_previews import HEIGHT, WIDTH, derive, dng_write, pinned_args, rounds_parser


def sources(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, orientation in (("landscape", 1), ("portrait (orientation 6)", 6)):
        path = folder / f"as-is-{orientation}.dng"
        dng_write(path, (WIDTH, HEIGHT), orientation=orientation)
        out[name] = path
    return out


def main() -> None:
    parser = rounds_parser(__doc__.split("\n")[0])
    parser.add_argument("--engine", default="pyvips", choices=("pyvips", "pillow"))
    args = pinned_args(parser)
    from photos import imaging

    files = sources(VAR / "raw")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def call(path: Path, *, as_is: bool, only: str | None) -> imaging.DerivativesResult:
            return derive(
                path,
                out,
                engine=args.engine,
                only=only,
                preview_jpeg_path=out / "p.jpg" if as_is else None,
            )

        sides = ("before", "after")
        kinds = ("thumbnail pass", "preview pass", "one call")
        only = {"thumbnail pass": imaging.THUMBNAIL, "preview pass": imaging.PREVIEW}
        cpu: dict[tuple[str, str, str], list[float]] = {}
        wall: dict[tuple[str, str, str], list[float]] = {}
        made: dict[tuple[str, str], imaging.DerivativesResult] = {}
        for _ in range(args.rounds):
            for name, path in files.items():
                for side in sides:
                    for kind in kinds:
                        c0, w0 = time.process_time(), time.perf_counter()
                        result = call(path, as_is=side == "after", only=only.get(kind))
                        cpu.setdefault((name, side, kind), []).append(
                            (time.process_time() - c0) * 1000
                        )
                        wall.setdefault((name, side, kind), []).append(
                            (time.perf_counter() - w0) * 1000
                        )
                        if kind == "one call":
                            made[name, side] = result
                            preview = result.preview_file
                            size = preview.stat().st_size if preview else 0
                            made[name, side + "_bytes"] = size  # type: ignore[assignment]
        rows = []
        for name in files:
            per_side = {}
            for side in sides:
                t = median(cpu[name, side, "thumbnail pass"])
                p = median(cpu[name, side, "preview pass"])
                both = median(cpu[name, side, "one call"])
                w = median(wall[name, side, "thumbnail pass"]) + median(
                    wall[name, side, "preview pass"]
                )
                per_side[side] = t + p
                result = made[name, side]
                rows.append(
                    (
                        name,
                        side,
                        round(t),
                        round(p),
                        f"**{round(t + p)}**",
                        round(w),
                        round(both),
                        "×".join(map(str, result.preview_size or ())),
                        (result.preview_file.suffix if result.preview_file else "")
                        + f" {made[name, side + '_bytes'] / 2**20:.1f} MiB",  # type: ignore[operator]
                    )
                )
            rows.append(
                (name, "after / before", "", "", f"{per_side['after'] / per_side['before']:.3f}×")
                + ("",) * 4
            )
    print(machine())
    print(f"\nengine {args.engine}, {args.rounds} rounds, CPU ms per photo (median)\n")
    print(
        table(
            [
                "RAW (6000×4000, full-size JPEG)",
                "code",
                "thumbnail pass",
                "preview pass",
                "both passes",
                "both passes, wall ms",
                "one call",
                "preview",
                "preview file",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
