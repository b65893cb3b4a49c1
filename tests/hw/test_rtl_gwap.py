"""gwap.sv (global weighted average pooling) vs quant.golden, bit for bit, over shapes, dtypes
and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import check_takes_no_folding, unfolded_bit_exact
from ir_factory import random_batch, single_op

from quant import golden
from quant.compare import first_mismatch
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype, output zero point);
# requantisers without corner draws, so that no case is all saturated or shifted to zero
CASES = {
    "4x4x8-int8": ((4, 4, 8), "int8", -5, "int8", 9),
    "3x5x1-uint8": ((3, 5, 1), "uint8", 100, "uint8", 128),
    "2x3x6-int32": ((2, 3, 6), "int8", -128, "int32", -1000),
}


test_gwap_bit_exact = unfolded_bit_exact("gwap", CASES, 8)


def test_gwap_takes_no_folding(rng) -> None:
    check_takes_no_folding("gwap", rng)


def test_gwap_two_entry_fifo(rng, seed, tmp_path, build_root) -> None:
    """With a 2-entry result FIFO the credits still keep every result (sink stalls)."""
    model = single_op("gwap", rng, shape=(2, 2, 8), in_dtype="int8", out_dtype="int8",
                      out_zero_point=0, corners=0.0)
    x = random_batch(model, rng, 4)["x"]
    res = simulate_op(model, x, tmp_path, src_pause="random", sink_pause="1110", seed=seed,
                      root=build_root, fifo_depth=2)
    assert res.run.sim.passed, res.run.sim.message or res.run.error
    problem = first_mismatch(golden.run(model, x)["y"], res.run.frames, name="gwap depth 2")
    assert problem is None, problem
