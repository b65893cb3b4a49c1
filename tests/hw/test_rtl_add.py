"""add.sv vs quant.golden, bit for bit: two joined input streams, each with its own idle
pattern, and sink backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_engine_run
from ir_factory import random_batch, single_op

from hw.gen.engines import Folding, FoldingError, engine_for
from quant import golden
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (input HWC of both inputs, fixed single_op parameters); the rest is drawn per case, the
# requantiser corners included, which can saturate or zero a whole case: "mid" has none of
# them and a mid-range output zero point
CASES = {
    "4x4x3": ((4, 4, 3), {}),
    "2x3x5": ((2, 3, 5), {}),
    "1x1x7": ((1, 1, 7), {}),
    "3x4x2-mid": ((3, 4, 2), {"out_dtype": "uint8", "out_zero_point": 121, "corners": 0.0}),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_add_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path, build_root) -> None:
    shape, params = CASES[case]
    model = single_op("add", rng, shape=shape, **params)
    feeds = random_batch(model, rng, 4)
    want = golden.run(model, feeds)["y"]
    res = simulate_op(model, feeds["x"], tmp_path, src_pause=src, sink_pause=sink, seed=seed,
                      root=build_root, x2=feeds["x2"])
    check_engine_run(res, want, f"add {case}", case, timed=src == sink == "none")


def test_add_takes_no_folding(rng) -> None:
    model = single_op("add", rng, shape=(2, 2, 4))
    with pytest.raises(FoldingError, match="add takes no folding"):
        engine_for(model.ops[0], model, Folding(2, 1))
