"""reduce_channels → mean: a 1×1 `Conv2D` of unit weights into one channel, requantised.

The max over channels has no hls4ml layer and is refused.
"""

from __future__ import annotations

import numpy as np

from hw.hls.conv2d import lower_mac, output_offsets
from hw.hls.lower import Graph, OpLowering, Unsupported
from quant import ir


def _outputs(op: ir.ReduceChannels, out: ir.TensorSpec) -> list[int]:
    if op.mode != "mean":
        raise Unsupported(f"{op.name}: reduce_channels mode '{op.mode}' has no hls4ml layer "
                          "(only mean is lowered)")
    return output_offsets(op, out)


def _lower(op: ir.ReduceChannels, g: Graph) -> None:
    c = g.spec(op.inputs[0]).shape[2]
    lower_mac(op, g, np.ones((1, 1, c, 1), np.int64), [0], [op.multiplier], [op.shift], (1, 1),
              (0, 0, 0, 0))


LOWERING = OpLowering(lower=_lower, outputs=_outputs)
