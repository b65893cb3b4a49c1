import numpy as np
import pytest

from model.data.preprocess import preprocess


def _ink_box(out: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((out > 127).any(axis=1))
    cols = np.flatnonzero((out > 127).any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


@pytest.mark.parametrize(("h", "w"), [(20, 60), (90, 30), (10, 10)])
def test_keeps_aspect_ratio_centres_and_inverts(h, w):
    grey = np.full((150, 170), 255, np.uint8)
    grey[33 : 33 + h, 17 : 17 + w] = 0  # black ink rectangle, off centre
    out = preprocess(grey, 64)
    assert out.shape == (64, 64) and out.dtype == np.uint8
    top, bottom, left, right = _ink_box(out)
    long_side = max(h, w)
    # The long side fills the square; the short one is scaled by the same factor.
    assert (bottom - top, right - left) == pytest.approx((64 * h / long_side, 64 * w / long_side),
                                                         abs=1.0)
    assert abs((top + bottom) / 2 - 32) <= 1 and abs((left + right) / 2 - 32) <= 1
    assert out[top + (bottom - top) // 2, left + (right - left) // 2] == 255  # ink is bright
    assert out.sum() == out[top:bottom, left:right].sum()  # background is dark (0)


def test_blank_image_and_bad_input():
    assert not preprocess(np.full((5, 7), 255, np.uint8), 32).any()
    with pytest.raises(ValueError, match="2-D uint8"):
        preprocess(np.zeros((3, 3, 3), np.uint8))
