"""sigmoid.sv (the LUT) vs quant.golden, bit for bit: every one of the 256 input values of both
input dtypes, and small images under backpressure."""

from __future__ import annotations

import numpy as np
import pytest
from hw_helpers import PAUSE_PAIRS, check_engine_run
from ir_factory import random_batch, single_op

from hw.gen.engines import Folding, FoldingError, engine_for
from quant import golden
from quant.compare import first_mismatch
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype)
CASES = {
    "4x4x3-int8-uint8": ((4, 4, 3), "int8", -3, "uint8"),
    "2x3x2-uint8-int8": ((2, 3, 2), "uint8", 140, "int8"),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_sigmoid_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                           build_root) -> None:
    shape, dtype, zp, out_dtype = CASES[case]
    model = single_op("sigmoid", rng, shape=shape, in_dtype=dtype, in_zero_point=zp,
                      out_dtype=out_dtype)
    x = random_batch(model, rng, 4)["x"]
    want = golden.run(model, x)["y"]
    res = simulate_op(model, x, tmp_path, src_pause=src, sink_pause=sink, seed=seed,
                      root=build_root)
    check_engine_run(res, want, f"sigmoid {case}", case, timed=src == sink == "none")


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_sigmoid_every_input_value(dtype: str, rng, tmp_path, build_root) -> None:
    """Each of the 256 LUT entries is read once per image (two images, different orders)."""
    model = single_op("sigmoid", rng, shape=(4, 8, 8), in_dtype=dtype)
    lo = -128 if dtype == "int8" else 0
    x = np.stack([rng.permutation(256) + lo for _ in range(2)]).reshape(2, 4, 8, 8)
    x = x.astype(dtype)
    want = golden.run(model, x)["y"]
    out = simulate_op(model, x, tmp_path, root=build_root).run
    assert out.sim.passed, out.sim.message or out.error
    problem = first_mismatch(want, out.frames, name=f"sigmoid all values {dtype}")
    assert problem is None, problem


def test_sigmoid_takes_no_folding(rng) -> None:
    model = single_op("sigmoid", rng, shape=(2, 2, 4))
    with pytest.raises(FoldingError, match="sigmoid takes no folding"):
        engine_for(model.ops[0], model, Folding(1, 2))
