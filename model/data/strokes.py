"""Stroke medians of the 3755 classes, from the shipped `assets/hanzi_medians.npz`.

Coordinates are in a 256 x 256 box, x to the right and y down; strokes are in writing order
and each runs from where the pen lands to where it lifts. See `assets/README.md`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from model.data.classes import NUM_CLASSES

ASSET = Path(__file__).parent / "assets" / "hanzi_medians.npz"


@cache
def _asset() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(ASSET) as npz:
        points = npz["points"].astype(np.float32)
        points.flags.writeable = False
        stroke_start, class_start = npz["stroke_start"], npz["class_start"]
    if len(class_start) != NUM_CLASSES + 1:
        raise ValueError(f"{ASSET}: {len(class_start) - 1} classes, expected {NUM_CLASSES}")
    return points, stroke_start, class_start


@cache
def class_strokes(index: int) -> tuple[np.ndarray, ...]:
    """The strokes of class `index`: float32 [n, 2] (x, y) polylines in a 256 box, y down.

    The arrays are cached and read-only.
    """
    if not 0 <= index < NUM_CLASSES:
        raise IndexError(f"class index {index} outside 0..{NUM_CLASSES - 1}")
    points, stroke_start, class_start = _asset()
    bounds = stroke_start[class_start[index] : class_start[index + 1] + 1]
    return tuple(points[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def stroke_counts() -> np.ndarray:
    """Number of strokes of every class, int [3755]."""
    _, _, class_start = _asset()
    return np.diff(class_start)
