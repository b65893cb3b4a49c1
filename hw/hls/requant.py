"""requant → a 1×1 `DepthwiseConv2D` of unit weights: `clip(z_out + rq(x - zx)) `."""

from __future__ import annotations

from hw.hls.depthwise import window_sum

LOWERING = window_sum(lambda op, x: (1, 1), lambda op, x: (1, 1))
