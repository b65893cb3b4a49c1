"""avgpool.sv vs quant.golden, bit for bit, over windows, strides, SIMD, zero points at the
ends of their ranges and backpressure; cycles per image (C/SIMD)*KH*KW*HO*WO plus at most
the line buffer's refill."""

from __future__ import annotations

import numpy as np
import pytest
from hw_helpers import PAUSE_PAIRS, check_op
from ir_factory import single_op

from hw.gen.engines import Folding, FoldingError, engine_for

pytestmark = pytest.mark.rtl

# id: (input HWC, kernel, stride, SIMD, in dtype, in zero point, out dtype, out zero point);
# None draws the shape (and the window) from the test's seeded generator. The requantiser
# has no corner draws, and a zero point at one end of the input range (sums of one sign) goes
# with the output's at the same end, so that no case is all saturated or shifted to zero.
CASES = {
    "2x2-s2-int8-lo": ((8, 8, 4), (2, 2), (2, 2), 2, "int8", -128, "int8", -128),
    "3x3-s1-uint8-hi": ((7, 6, 3), (3, 3), (1, 1), 1, "uint8", 255, "uint8", 255),
    "3x2-s2x1-int32": ((6, 7, 4), (3, 2), (2, 1), 4, "int8", 127, "int32", -9),
    "1x3-s1x2-uint8-lo": ((5, 9, 2), (1, 3), (1, 2), 2, "uint8", 0, "int8", -128),
    "random": (None, None, None, 1, "int8", 5, "uint8", 128),
}


def _model(case: str, rng: np.random.Generator):
    shape, kernel, stride, _, dtype, zp, out_dtype, out_zp = CASES[case]
    window = {} if kernel is None else {"kernel": kernel, "stride": stride}
    if shape is None:
        shape = (int(rng.integers(3, 9)), int(rng.integers(3, 9)), int(rng.integers(1, 4)))
    return single_op("avgpool", rng, shape=shape, in_dtype=dtype, in_zero_point=zp,
                     out_dtype=out_dtype, out_zero_point=out_zp, corners=0.0, **window)


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_avgpool_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                           build_root) -> None:
    model = _model(case, rng)
    simd = CASES[case][3]
    res = check_op(model, 3, case, src, sink, rng, seed, tmp_path, build_root, Folding(1, simd))
    assert len(np.unique(res.run.frames)) > 1, "a constant output would not test the datapath"
    op, eng = model.ops[0], res.engine
    (kh, kw), (_, _, c) = op.kernel, model.tensors[op.inputs[0]].shape
    ho, wo, _ = model.tensors[op.output].shape
    assert eng.cycles == c // simd * kh * kw * ho * wo  # measured: check_op's refill bound


def test_avgpool_takes_simd_only(rng) -> None:
    model = single_op("avgpool", rng, shape=(4, 4, 4), kernel=(2, 2), stride=(2, 2))
    with pytest.raises(FoldingError, match="avgpool takes SIMD only"):
        engine_for(model.ops[0], model, Folding(2, 1))
    with pytest.raises(FoldingError, match="SIMD=3 does not divide C=4"):
        engine_for(model.ops[0], model, Folding(1, 3))
