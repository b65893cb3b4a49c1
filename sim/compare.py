"""Bit-exact comparison of RTL outputs with the golden model, naming the first mismatch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def first_mismatch(expected: np.ndarray, got: Sequence[np.ndarray] | np.ndarray,
                   shape: Sequence[int] | None = None, name: str = "output") -> str | None:
    """Describe the first difference between `expected [N, ...]` and the received frames.

    Args:
        expected: golden values, one image per row (any trailing shape).
        got: received frames (flat or shaped), one per image.
        shape: per-image shape used to name the element (default: `expected`'s).
        name: tensor or layer name for the message.

    Returns:
        None when every image matches exactly, else one line naming the image, the element
        (as an HWC index and its flat position) and both values, or the count problem.
    """
    expected = np.asarray(expected)
    shape = tuple(shape or expected.shape[1:])
    if len(got) != len(expected):
        return f"{name}: expected {len(expected)} images, got {len(got)}"
    for n, (want, have) in enumerate(zip(expected, got, strict=True)):
        want = np.asarray(want).reshape(-1).astype(np.int64)
        have = np.asarray(have).reshape(-1).astype(np.int64)
        if have.size != want.size:
            return f"{name}: image {n} has {have.size} elements, expected {want.size}"
        bad = np.flatnonzero(want != have)
        if bad.size:
            i = int(bad[0])
            index = np.unravel_index(i, shape)
            return (f"{name}: image {n} element {list(map(int, index))} (flat {i}): expected "
                    f"{want[i]}, got {have[i]} ({bad.size} of {want.size} differ)")
    return None
