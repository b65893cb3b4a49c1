"""reshape → `HccrRepack` (custom layer): the same row-major elements, packed per new pixel.

Under io_stream one beat holds one pixel's channels, so `[1, 1, C] → [1, C, 1]` turns one beat
of C values into C beats of one. The output keeps the input's form.
"""

from __future__ import annotations

import math

from hw.hls.graph import Graph, OpLowering
from quant import ir


def _lower(op: ir.Reshape, g: Graph) -> None:
    g.add(op.name, {"class_name": "HccrRepack", "inputs": [g.names[op.inputs[0]]],
                    "target_shape": list(op.shape), "n_elem": math.prod(op.shape)},
          {"result": g.forms[op.output].type}, produces=op.output)


LOWERING = OpLowering(lower=_lower)
