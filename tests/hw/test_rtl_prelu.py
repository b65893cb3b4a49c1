"""prelu.sv vs quant.golden, bit for bit, over shapes, dtypes and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op, check_takes_no_folding
from ir_factory import single_op

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype, output zero point);
# requantisers without corner draws, so that no case is all saturated or shifted to zero
CASES = {
    "4x4x3-int8": ((4, 4, 3), "int8", -5, "int8", -20),
    "3x2x5-uint8": ((3, 2, 5), "uint8", 131, "uint8", 100),
    "2x2x4-int32": ((2, 2, 4), "int8", 30, "int32", 113),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_prelu_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                         build_root) -> None:
    shape, dtype, zp, out_dtype, out_zp = CASES[case]
    model = single_op("prelu", rng, shape=shape, in_dtype=dtype, in_zero_point=zp,
                      out_dtype=out_dtype, out_zero_point=out_zp, corners=0.0)
    check_op(model, 4, case, src, sink, rng, seed, tmp_path, build_root)


def test_prelu_takes_no_folding(rng) -> None:
    check_takes_no_folding("prelu", rng)
