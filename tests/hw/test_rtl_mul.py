"""mul.sv vs quant.golden, bit for bit: x2 broadcast from [1, 1, C] (the channel gate, read
before each image) or [H, W, 1] (per pixel, in lockstep), each input with its own idle
pattern and sink backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op, check_takes_no_folding
from ir_factory import random_batch, single_op

from quant import golden
from quant.compare import first_mismatch
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (x HWC, x2 shape, output dtype, output zero point); input dtypes and zero points drawn
# per case, the requantiser without corner draws (no case all saturated or zero)
CASES = {
    "gate-4x4x3": ((4, 4, 3), (1, 1, 3), "int8", -3),
    "gate-3x2x1": ((3, 2, 1), (1, 1, 1), "uint8", 120),
    "pixel-3x4x4": ((3, 4, 4), (3, 4, 1), "int8", 10),
    "pixel-2x3x1-int32": ((2, 3, 1), (2, 3, 1), "int32", 0),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_mul_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path, build_root) -> None:
    shape, shape2, out_dtype, out_zp = CASES[case]
    model = single_op("mul", rng, shape=shape, shape2=shape2, out_dtype=out_dtype,
                      out_zero_point=out_zp, corners=0.0)
    res = check_op(model, 4, case, src, sink, rng, seed, tmp_path, build_root)
    assert res.engine.params["GATE"] == case.startswith("gate")


def test_mul_takes_no_folding(rng) -> None:
    check_takes_no_folding("mul", rng)


def test_mul_two_entry_fifo(rng, seed, tmp_path, build_root) -> None:
    """With a 2-entry result FIFO the credits still keep every result (random stalls)."""
    model = single_op("mul", rng, shape=(2, 3, 3), shape2=(2, 3, 1), out_dtype="int8",
                      out_zero_point=0, corners=0.0)
    feeds = random_batch(model, rng, 4)
    res = simulate_op(model, feeds["x"], tmp_path, src_pause="random", sink_pause="random",
                      seed=seed, root=build_root, fifo_depth=2, x2=feeds["x2"])
    assert res.run.sim.passed, res.run.sim.message or res.run.error
    problem = first_mismatch(golden.run(model, feeds)["y"], res.run.frames, name="mul depth 2")
    assert problem is None, problem
