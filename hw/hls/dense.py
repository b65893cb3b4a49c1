"""dense → an hls4ml `Conv2D` whose kernel covers the whole `[H, W, C]` input.

The IR flattens the input in H, W, C order, which is exactly a valid convolution with an
`H × W` kernel: no flatten, so no transpose in the stream, and the arithmetic is conv2d's.
"""

from __future__ import annotations

from hw.hls.conv2d import lower_mac, output_offsets
from hw.hls.graph import Graph, OpLowering
from quant import ir


def _lower(op: ir.Dense, g: Graph) -> None:
    h, w, c = g.spec(op.inputs[0]).shape
    lower_mac(op, g, op.weight.reshape(h, w, c, -1), op.bias, op.multiplier.tolist(),
              op.shift.tolist(), (1, 1), (0, 0, 0, 0))


LOWERING = OpLowering(lower=_lower, outputs=output_offsets)
