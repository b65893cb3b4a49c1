"""reduce_channels.sv (mean and max over C) vs quant.golden, bit for bit, over shapes, dtypes
and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op
from ir_factory import single_op

from hw.gen.engines import Folding, FoldingError, engine_for

pytestmark = pytest.mark.rtl

# id: (mode, input HWC, input dtype, input zero point, output dtype and zero point (mean
# only)); requantisers without corner draws, so that no case is all saturated or zero
CASES = {
    "mean-4x4x3-int8": ("mean", (4, 4, 3), "int8", -7, ("int8", 5)),
    "mean-3x2x6-uint8-int32": ("mean", (3, 2, 6), "uint8", 200, ("int32", -77)),
    "max-4x3x5-int8": ("max", (4, 3, 5), "int8", 3, None),
    "max-2x2x1-uint8": ("max", (2, 2, 1), "uint8", 17, None),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_reduce_channels_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                                   build_root) -> None:
    mode, shape, dtype, zp, out_q = CASES[case]
    out = {"out_dtype": out_q[0], "out_zero_point": out_q[1], "corners": 0.0} if out_q else {}
    model = single_op("reduce_channels", rng, mode=mode, shape=shape, in_dtype=dtype,
                      in_zero_point=zp, **out)
    check_op(model, 4, case, src, sink, rng, seed, tmp_path, build_root)


def test_reduce_channels_takes_no_folding(rng) -> None:
    model = single_op("reduce_channels", rng, shape=(2, 2, 4))
    with pytest.raises(FoldingError, match="reduce_channels takes no folding"):
        engine_for(model.ops[0], model, Folding(1, 1, pack=True))
