"""global_avgpool → a `DepthwiseConv2D` of unit weights covering the whole input, requantised.

Any `H × W` is exact: the divisor lives in golden's multiplier and shift, not in hls4ml's own
average pooling (which would multiply by a rounded `1 / (H·W)`).
"""

from __future__ import annotations

from hw.hls.depthwise import window_sum

LOWERING = window_sum(lambda op, x: x.shape[:2], lambda op, x: (1, 1))
