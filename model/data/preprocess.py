"""Preprocessing shared by training, the golden model and the hardware tests.

Crop to the ink bounding box, pad to a square keeping the aspect ratio, resize to N x N and
invert so that ink is bright on a dark (0) background, as uint8. With `binarize`, the image is
first binarised at its own mean grey level (seed 000: pixels darker than the mean are ink, 0,
the others background, 255), so that only the resize makes grey edges.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

INK_THRESHOLD = 16  # grey levels below 255 - this count as ink when finding the bounding box


def binarize_mean(grey: np.ndarray) -> np.ndarray:
    """Seed 000's binarisation: 0 where a pixel is darker than the image's mean grey, else 255."""
    return np.where(grey < grey.mean(), 0, 255).astype(np.uint8)


def preprocess(grey: np.ndarray, size: int = 64, binarize: bool = False) -> np.ndarray:
    """Normalise one grey character image (uint8, 255 = background) to uint8 [size, size].

    Args:
        grey: [h, w] uint8 image as stored in a `.gnt` record.
        size: output side length.
        binarize: binarise at the mean grey level first (`binarize_mean`).

    Returns:
        [size, size] uint8, ink bright (up to 255) on 0, centred, aspect ratio kept.
    """
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 image, got {grey.dtype} {grey.shape}")
    ink = 255 - (binarize_mean(grey) if binarize else grey)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return np.zeros((size, size), np.uint8)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    side = max(h, w)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = ink
    resized = Image.fromarray(square).resize((size, size), Image.Resampling.BOX if side > size
                                             else Image.Resampling.BILINEAR)
    return np.asarray(resized, np.uint8)


def preprocess_batch(images: list[np.ndarray], size: int = 64, binarize: bool = False
                     ) -> np.ndarray:
    """Preprocess a list of grey images into a [N, size, size] uint8 array."""
    out = np.empty((len(images), size, size), np.uint8)
    for i, image in enumerate(images):
        out[i] = preprocess(image, size, binarize)
    return out
