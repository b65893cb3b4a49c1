"""maxpool.sv vs quant.golden, bit for bit, over windows, padding, SIMD and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_engine_run
from ir_factory import random_batch, single_op

from hw.gen.engines import Folding
from quant import golden
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (input HWC, kernel, stride, padding, SIMD, dtype, zero point)
CASES = {
    "2x2-s2": ((8, 8, 4), (2, 2), (2, 2), (0, 0, 0, 0), 2, "int8", -7),
    "3x3-s2-pad": ((7, 9, 3), (3, 3), (2, 2), (1, 1, 1, 0), 1, "uint8", 200),
    "3x1-s1": ((6, 5, 4), (3, 1), (1, 1), (2, 0, 0, 0), 4, "int8", 0),
    "1x3-asym": ((5, 6, 2), (1, 3), (1, 2), (0, 0, 2, 1), 2, "uint8", 0),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_maxpool_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                           build_root) -> None:
    shape, k, s, pad, simd, dtype, zp = CASES[case]
    model = single_op("maxpool", rng, shape=shape, kernel=k, stride=s, padding=pad,
                      in_dtype=dtype, in_zero_point=zp)
    x = random_batch(model, rng, 3)["x"]
    want = golden.run(model, x)["y"]
    res = simulate_op(model, x, tmp_path, Folding(1, simd), src_pause=src, sink_pause=sink,
                      seed=seed, root=build_root)
    check_engine_run(res, want, f"maxpool {case}", case, timed=src == sink == "none")
