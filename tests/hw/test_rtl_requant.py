"""requant.sv (the IR op requant) vs quant.golden, bit for bit, over dtypes and
backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import check_takes_no_folding, unfolded_bit_exact

pytestmark = pytest.mark.rtl

# id: (input HWC, input dtype, input zero point, output dtype, output zero point); the
# requantiser without corner draws, so that no case is all saturated or shifted to zero
CASES = {
    "4x4x3-int8-uint8": ((4, 4, 3), "int8", -9, "uint8", 30),
    "3x2x5-uint8-int32": ((3, 2, 5), "uint8", 140, "int32", -7),
}


test_requant_bit_exact = unfolded_bit_exact("requant", CASES, 4)


def test_requant_takes_no_folding(rng) -> None:
    check_takes_no_folding("requant", rng)
