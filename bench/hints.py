"""Culling hints: how often the sharp frame of a burst ranks first, and their cost per photo.

    .venv/bin/python bench/hints.py                  # 200 bursts of 1800×1200 frames
    .venv/bin/python bench/hints.py --bursts 60 --size 2400x1600

Bursts are made by ``tests/hint_frames.py`` (a detailed scene from a seed: sharp; Gaussian
blur at three radii; two motion blurs; a soft frame with more grain; every frame with its
burst's sensor noise). Each frame becomes an 800-px thumbnail the way the Pillow engine makes
one, and ``photos.hints.image_hints`` scores it: the figure the pipeline adds to each
thumbnail. Prints the rate at which the sharp frame scores highest (goal ≥ 95 %), the misses
by the kind that won, and the cost of the hints in milliseconds per photo on one core (p50,
p95), beside the thumbnail's own resize for scale. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import percentile, pin_to_core  # noqa: E402
from photos import hints, imaging  # noqa: E402
from tests.hint_frames import burst  # noqa: E402

THUMB_BOX = 800


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=200)
    parser.add_argument("--size", default="1800x1200", help="frame size, WIDTHxHEIGHT")
    parser.add_argument("--first-seed", type=int, default=1000, help="unlike the unit test's")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    pin_to_core(0)

    wins = 0
    winners: Counter[str] = Counter()
    hint_ms: list[float] = []
    resize_ms: list[float] = []
    for seed in range(args.first_seed, args.first_seed + args.bursts):
        frames = burst(seed, (width, height))
        random.Random(seed).shuffle(frames)
        scored = []
        for frame in frames:
            started = time.perf_counter()
            thumb = imaging._resize(frame.image, imaging.fit_within(frame.image.size, THUMB_BOX))
            resized = time.perf_counter()
            found = hints.image_hints(thumb)
            done = time.perf_counter()
            resize_ms.append((resized - started) * 1000)
            hint_ms.append((done - resized) * 1000)
            scored.append((found.sharpness, frame.kind))
        best = max(scored)[1]
        wins += best == "sharp"
        if best != "sharp":
            winners[best] += 1

    print(
        f"bursts: {args.bursts} of {len(frames)} frames, {width}×{height}, seeds from {args.first_seed}"
    )
    print(
        f"sharp frame ranked first: {wins}/{args.bursts} = {wins / args.bursts:.1%} (goal ≥ 95 %)"
    )
    if winners:
        print("misses, by the frame that won:", dict(winners))
    print(
        f"hints per photo (ms, one core): p50 {percentile(hint_ms, 50):.1f}, "
        f"p95 {percentile(hint_ms, 95):.1f}; "
        f"the thumbnail's resize for scale: p50 {percentile(resize_ms, 50):.1f}"
    )


if __name__ == "__main__":
    main()
