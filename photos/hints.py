"""Culling hints of one photo (SPEC §3, §17): sharpness and clipped highlights and shadows.

Pure functions over an image already in memory: no file is read, no database, no settings.
``photos.imaging`` calls ``image_hints`` on the thumbnail it has just made (before encoding
it), so the hints cost no decode of the original.

``sharpness`` is the centre-weighted variance of the Laplacian of the luma of a rendition
``HINT_SIZE`` pixels on its long side. The fixed size makes the figure comparable across the
photos of a project whatever the originals' resolution (a 45-MP and a 12-MP frame of the same
scene score alike), and it damps sensor noise: each rendition pixel averages many original
pixels, so grain that would inflate a full-size Laplacian weighs little against edges. The
weight is a Gaussian centred on the frame (``CENTRE_SIGMA`` of each side) over a floor of
``CENTRE_FLOOR``: the subject is usually near the centre, and a sharp background behind a soft
subject should not win. Higher is sharper; the unit is luma levels squared.

``highlights_clipped`` / ``shadows_clipped`` are the fractions of pixels whose luma is at least
``HIGHLIGHT_LEVEL`` / at most ``SHADOW_LEVEL`` (of 0-255), on the same rendition.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Long side of the rendition the hints are computed on: below the default thumbnail (800),
# so it is always a reduction of the thumbnail for photos of usual sizes.
HINT_SIZE = 512
HIGHLIGHT_LEVEL = 250
SHADOW_LEVEL = 5
CENTRE_SIGMA = 0.2
CENTRE_FLOOR = 0.05
# A photo whose highlights or shadows clip on more than this fraction of pixels is "clipped"
# (the API's ``?clipped=true``).
CLIPPED_FRACTION = 0.02


@dataclass(frozen=True)
class Hints:
    sharpness: float
    highlights_clipped: float
    shadows_clipped: float

    def fields(self) -> dict[str, float]:
        """The photo row's fields."""
        return {
            "sharpness": self.sharpness,
            "highlights_clipped": self.highlights_clipped,
            "shadows_clipped": self.shadows_clipped,
        }


def _rendition_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = HINT_SIZE / max(width, height)
    return max(3, round(width * scale)), max(3, round(height * scale))


@functools.lru_cache(maxsize=16)
def _centre_weights(width: int, height: int) -> np.ndarray:
    """The weight of each pixel of a ``width``×``height`` rendition (sums to 1)."""
    xs = (np.arange(width) + 0.5) / width - 0.5
    ys = (np.arange(height) + 0.5) / height - 0.5
    gx = np.exp(-(xs**2) / (2 * CENTRE_SIGMA**2))
    gy = np.exp(-(ys**2) / (2 * CENTRE_SIGMA**2))
    weights = CENTRE_FLOOR + (1 - CENTRE_FLOOR) * np.outer(gy, gx)
    weights /= weights.sum()
    weights.setflags(write=False)
    return weights


def luma_rendition(image: Image.Image) -> np.ndarray:
    """The luma (ITU-R 601, 0-255) of ``image`` resized to ``HINT_SIZE`` on its long side."""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    grey = image.convert("L")
    size = _rendition_size(grey.size)
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.float32)


def luma_hints(luma: np.ndarray) -> Hints:
    """The hints of a luma rendition (a 2-D array of 0-255 values, at least 3×3)."""
    # The 4-neighbour Laplacian on the interior (no padding: a border would add false edges).
    centre = luma[1:-1, 1:-1]
    laplacian = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4.0 * centre
    weights = _centre_weights(laplacian.shape[1], laplacian.shape[0])
    mean = float((weights * laplacian).sum())
    variance = float((weights * (laplacian - mean) ** 2).sum())
    count = luma.size
    return Hints(
        sharpness=round(variance, 3),
        highlights_clipped=round(float(np.count_nonzero(luma >= HIGHLIGHT_LEVEL)) / count, 5),
        shadows_clipped=round(float(np.count_nonzero(luma <= SHADOW_LEVEL)) / count, 5),
    )


def image_hints(image: Image.Image) -> Hints:
    """The hints of an image in memory (the thumbnail, upright, before it is encoded)."""
    return luma_hints(luma_rendition(image))
