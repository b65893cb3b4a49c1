"""global_avgpool.sv vs quant.golden, bit for bit, over shapes, dtypes and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op, check_takes_no_folding
from ir_factory import single_op

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype, other single_op parameters);
# the requantiser is drawn per case, corners included, which can saturate or zero a whole
# case: "mid" has none of them and a mid-range output zero point
CASES = {
    "4x4x3-int8": ((4, 4, 3), "int8", -5, "int8", {}),
    "3x5x1-uint8": ((3, 5, 1), "uint8", 131, "uint8", {}),
    "2x2x6-int32": ((2, 2, 6), "int8", 0, "int32", {}),
    "3x4x5-mid": ((3, 4, 5), "int8", 9, "int8", {"out_zero_point": -17, "corners": 0.0}),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_global_avgpool_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                                  build_root) -> None:
    shape, dtype, zp, out_dtype, params = CASES[case]
    model = single_op("global_avgpool", rng, shape=shape, in_dtype=dtype, in_zero_point=zp,
                      out_dtype=out_dtype, **params)
    check_op(model, 4, case, src, sink, rng, seed, tmp_path, build_root)


def test_global_avgpool_takes_no_folding(rng) -> None:
    check_takes_no_folding("global_avgpool", rng, pe=1, simd=2)
