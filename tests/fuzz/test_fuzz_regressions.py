"""Failures the fuzzer (`bench/bench_fuzz.py`, `tests/fuzz/graphs.py`) found, shrunk, kept."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import single_op

from hw.hls.graph import Unsupported
from hw.hls.lower import lower


@pytest.mark.parametrize(("dtype", "zero_point"), [("uint8", 255), ("int8", 127)])
@pytest.mark.parametrize("kind", ["conv2d", "dense"])
def test_hls_relu_clipping_to_one_value_is_refused(kind: str, dtype: str, zero_point: int
                                                    ) -> None:
    """A relu whose output zero point is the dtype's top clips every value to it: lowering
    asserted deep inside `channels`; it is refused, naming the op."""
    model = single_op(kind, np.random.default_rng(3), relu=True, out_dtype=dtype,
                      out_zero_point=zero_point)
    with pytest.raises(Unsupported, match=f"^y: relu with output zero point {zero_point} at the "
                                          f"top of {dtype} clips every value to {zero_point}"):
        lower(model)
