"""gwap → a `DepthwiseConv2D` whose `H × W` kernel holds the IR's per-channel weights."""

from __future__ import annotations

from hw.hls.conv2d import output_offsets
from hw.hls.depthwise import lower_depthwise
from hw.hls.graph import Graph, OpLowering
from quant import ir


def _lower(op: ir.Gwap, g: Graph) -> None:
    lower_depthwise(op, g, op.weight, op.multiplier.tolist(), op.shift.tolist(), (1, 1))


LOWERING = OpLowering(lower=_lower, outputs=output_offsets)
