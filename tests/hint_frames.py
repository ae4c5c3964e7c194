"""Generated bursts of frames for the sharpness measurement (tests and ``bench/hints.py``).

A burst is one detailed scene (Pillow-drawn shapes and text over a noise texture, from a seed)
shot several times: once sharp, and as the frames a culler discards: Gaussian-blurred at
several radii (missed focus), motion-blurred (camera shake, horizontal or vertical), and
blurred with heavier noise. Every frame of a burst carries sensor noise of the burst's level
(a burst shares its ISO), each frame its own grain, as a camera's would. Deterministic: the
same seed makes the same frames.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Frame size: a reduced original (the thumbnail is made from it the way the pipeline makes
# one: the hints never see this size).
FRAME_SIZE = (1800, 1200)
BLUR_RADII = (1.5, 2.5, 4.0)
MOTION_LENGTHS = (7, 13)
NOISE_LEVELS = (0.0, 3.0, 6.0, 9.0)


@dataclass(frozen=True)
class Frame:
    kind: str  # "sharp", "blur-2.5", "motion-h-7", "noisy-blur", ...
    image: Image.Image


def scene(seed: int, size: tuple[int, int] = FRAME_SIZE) -> Image.Image:
    """A detailed scene: a noise texture under random shapes, lines and text."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    width, height = size
    # A low-contrast texture (paper, foliage) at a few scales.
    texture = nrng.normal(128, 18, (height // 4, width // 4)).clip(0, 255).astype(np.uint8)
    base = Image.fromarray(texture, "L").resize(size, Image.Resampling.BICUBIC).convert("RGB")
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(40, 70)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(20, 300), y0 + rng.randint(20, 300)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("rect", "ellipse", "line"))
        if shape == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0))
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randint(1, 6))
    for _ in range(rng.randint(8, 16)):
        x, y = rng.randrange(width - 200), rng.randrange(height - 40)
        text = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ") for _ in range(14))
        draw.text((x, y), text, fill=tuple(rng.randrange(256) for _ in range(3)), font_size=28)
    return base


def motion_blur(image: Image.Image, length: int, *, vertical: bool = False) -> Image.Image:
    """A straight motion blur of ``length`` pixels (a box along one axis)."""
    pixels = np.asarray(image, dtype=np.float32)
    axis = 0 if vertical else 1
    out = np.zeros_like(pixels)
    for shift in range(length):
        out += np.roll(pixels, shift - length // 2, axis=axis)
    return Image.fromarray((out / length).clip(0, 255).astype(np.uint8), image.mode)


def add_noise(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    if sigma <= 0:
        return image
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0, sigma, pixels.shape[:2])[..., None]
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), image.mode)


def burst(seed: int, size: tuple[int, int] = FRAME_SIZE) -> list[Frame]:
    """The frames of one burst, the sharp one first (shuffle before ranking)."""
    rng = random.Random(seed * 7919 + 1)
    sharp = scene(seed, size)
    noise = NOISE_LEVELS[seed % len(NOISE_LEVELS)]
    frames = [("sharp", sharp)]
    for radius in BLUR_RADII:
        frames.append((f"blur-{radius}", sharp.filter(ImageFilter.GaussianBlur(radius))))
    for length in MOTION_LENGTHS:
        vertical = rng.random() < 0.5
        kind = f"motion-{'v' if vertical else 'h'}-{length}"
        frames.append((kind, motion_blur(sharp, length, vertical=vertical)))
    # A soft frame with twice the burst's grain (or some grain in a clean burst).
    frames.append(("noisy-blur", sharp.filter(ImageFilter.GaussianBlur(BLUR_RADII[1]))))
    out = []
    for index, (kind, image) in enumerate(frames):
        sigma = noise if kind != "noisy-blur" else max(2 * noise, 6.0)
        out.append(Frame(kind=kind, image=add_noise(image, sigma, seed * 100 + index)))
    return out
