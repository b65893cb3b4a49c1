"""prelu.sv vs quant.golden, bit for bit, over shapes, dtypes and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import check_takes_no_folding, unfolded_bit_exact

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype, output zero point);
# requantisers without corner draws, so that no case is all saturated or shifted to zero
CASES = {
    "4x4x3-int8": ((4, 4, 3), "int8", -5, "int8", -20),
    "3x2x5-uint8": ((3, 2, 5), "uint8", 131, "uint8", 100),
    "2x2x4-int32": ((2, 2, 4), "int8", 30, "int32", 113),
}


test_prelu_bit_exact = unfolded_bit_exact("prelu", CASES, 4)


def test_prelu_takes_no_folding(rng) -> None:
    check_takes_no_folding("prelu", rng)
