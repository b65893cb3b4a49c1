"""dense.sv vs quant.golden, bit for bit, over sizes, folding, dtypes and backpressure."""

from __future__ import annotations

import pytest
from hw_helpers import PAUSE_PAIRS, check_op
from ir_factory import single_op

from hw.gen.engines import Folding

pytestmark = pytest.mark.rtl

# id: (input HWC, outputs, PE, SIMD, in dtype, in zp, out dtype, relu)
CASES = {
    "48x8-p2s4": ((4, 4, 3), 8, 2, 4, "uint8", 3, "int8", True),
    "20x5-p1s1": ((1, 1, 20), 5, 1, 1, "int8", -20, "int32", False),
    "36x6-p6s2": ((3, 2, 6), 6, 6, 2, "int8", 0, "uint8", False),
}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_dense_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                         build_root) -> None:
    shape, cout, pe, simd, idt, izp, odt, relu = CASES[case]
    model = single_op("dense", rng, shape=shape, cout=cout, in_dtype=idt, in_zero_point=izp,
                      out_dtype=odt, relu=relu)
    check_op(model, 4, case, src, sink, rng, seed, tmp_path, build_root, Folding(pe, simd))
