"""Per-channel weighted sums (pools, gwap, requant) → an hls4ml `DepthwiseConv2D`.

Each output channel sums its own input channel's window, `Σ v·w[:, c]`, with conv2d's exact
requantisation (`conv2d.channels`). The weights are the IR's (gwap) or all ones (average
pools, requant), so hls4ml's Latency strategy (RF 1) turns them into shifts and adders, not
multipliers; these layers take no Strategy or ReuseFactor settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hw.hls.conv2d import channels, check_rows, output_offsets
from hw.hls.graph import Graph, OpLowering
from hw.hls.scale import depthwise_layer
from quant import ir


def lower_depthwise(op: ir.Op, g: Graph, weight: np.ndarray, multiplier: Sequence[int],
                    shift: Sequence[int], stride: Sequence[int]) -> None:
    """Append the `DepthwiseConv2D` for integer weights `[kh, kw, C]` (no padding, no bias)."""
    kh, kw, c = weight.shape
    check_rows(op, (kh, kw), stride, "DepthwiseConv2D")
    ch = channels(op, g, weight.reshape(-1, c), [0] * c, multiplier, shift)
    depthwise_layer(op.name, g, op.inputs[0], ch, (kh, kw), stride, produces=op.output)


Window = Callable[[ir.Op, ir.TensorSpec], Sequence[int]]


def window_sum(kernel: Window, stride: Window) -> OpLowering:
    """The lowering of an op that sums `x - zx` over windows and requantises by scalars.

    Args:
        kernel: the window of an op, given its input spec.
        stride: its stride.
    """

    def lower(op: ir.Op, g: Graph) -> None:
        x = g.spec(op.inputs[0])
        c = x.shape[2]
        lower_depthwise(op, g, np.ones((*kernel(op, x), c), np.int64), [op.multiplier] * c,
                        [op.shift] * c, stride(op, x))

    return OpLowering(lower=lower, outputs=output_offsets)
