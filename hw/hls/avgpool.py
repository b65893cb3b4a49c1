"""avgpool → a `DepthwiseConv2D` of unit weights: the window sum of `x - zx`, requantised."""

from __future__ import annotations

from hw.hls.depthwise import window_sum

LOWERING = window_sum(lambda op, x: op.kernel, lambda op, x: op.stride)
