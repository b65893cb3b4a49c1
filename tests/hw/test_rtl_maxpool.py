"""maxpool.sv vs quant.golden, bit for bit, over windows, padding, SIMD and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op
from ir_factory import single_op

from hw.gen.engines import Folding

pytestmark = pytest.mark.rtl

# id: (input HWC, kernel, stride, padding, SIMD, dtype, zero point, inputs' upper bound).
# Padded taps must read the dtype's minimum: with every input below zero ("neg", int8) or
# below 128 ("low", uint8), a pad read as 0 (or as int8's minimum in uint8) wins some window.
CASES = {
    "2x2-s2": ((8, 8, 4), (2, 2), (2, 2), (0, 0, 0, 0), 2, "int8", -7, None),
    "3x3-s2-pad": ((7, 9, 3), (3, 3), (2, 2), (1, 1, 1, 0), 1, "uint8", 200, None),
    "3x1-s1": ((6, 5, 4), (3, 1), (1, 1), (2, 0, 0, 0), 4, "int8", 0, None),
    "1x3-asym": ((5, 6, 2), (1, 3), (1, 2), (0, 0, 2, 1), 2, "uint8", 0, None),
    "3x3-s1-pad-neg": ((5, 6, 3), (3, 3), (1, 1), (1, 1, 1, 1), 1, "int8", -128, -1),
    "2x2-s2-pad-br-neg": ((5, 5, 2), (2, 2), (2, 2), (0, 1, 0, 1), 2, "int8", 5, -1),
    "1x3-s1-pad-low": ((3, 4, 2), (1, 3), (1, 1), (0, 0, 1, 1), 2, "uint8", 0, 127),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_maxpool_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                           build_root) -> None:
    shape, k, s, pad, simd, dtype, zp, high = CASES[case]
    model = single_op("maxpool", rng, shape=shape, kernel=k, stride=s, padding=pad,
                      in_dtype=dtype, in_zero_point=zp)
    feeds = None if high is None else {"x": rng.integers(
        model.tensors["x"].lo, high, (3, *shape), endpoint=True).astype(dtype)}
    check_op(model, 3, case, src, sink, rng, seed, tmp_path, build_root, Folding(1, simd), feeds)
