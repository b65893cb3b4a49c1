"""reduce_channels → mean: a 1×1 `Conv2D` of unit weights into one channel, requantised;
max: the custom layer `HccrChannelMax` (max commutes with the offset: the input's form)."""

from __future__ import annotations

import math

import numpy as np

from hw.hls.conv2d import lower_mac, output_offsets
from hw.hls.graph import Graph, OpLowering
from quant import ir


def _outputs(op: ir.ReduceChannels, out: ir.TensorSpec) -> list[int] | None:
    return None if op.mode == "max" else output_offsets(op, out)


def _lower(op: ir.ReduceChannels, g: Graph) -> None:
    h, w, c = g.spec(op.inputs[0]).shape
    if op.mode == "max":
        g.add(op.name, {"class_name": "HccrChannelMax", "inputs": [g.names[op.inputs[0]]],
                        "n_pixels": math.prod((h, w))},
              {"result": g.forms[op.inputs[0]].type}, produces=op.output)
        return
    lower_mac(op, g, np.ones((1, 1, c, 1), np.int64), [0], [op.multiplier], [op.shift], (1, 1),
              (0, 0, 0, 0))


LOWERING = OpLowering(lower=_lower, outputs=_outputs)
