"""mul → `HccrMul` (custom layer): `(x - zx)·(g - zg)` requantised and clipped in int64.

The gate `g` is `[1, 1, C]` (channel attention, read once before x) or `[H, W, 1]` (spatial
attention, one value per pixel). Under io_stream the gate is computed from x itself, so x's
stream into the mul must hold the whole tensor: its FIFO depth is set to H·W beats
(`stream_depths`).
"""

from __future__ import annotations

import math

from hw.hls.conv2d import clip_range
from hw.hls.graph import Graph, OpLowering, free_offsets
from quant import ir


def _lower(op: ir.Mul, g: Graph) -> None:
    x_name, gate_name = op.inputs
    (h, w, c), out = g.spec(x_name).shape, g.spec(op.output)
    fout = g.forms[op.output]
    lo, hi = clip_range(op, out)
    name = g.add(op.name, {
        "class_name": "HccrMul", "inputs": [g.names[x_name], g.names[gate_name]],
        "n_pixels": h * w, "n_chan": c, "per_channel": g.spec(gate_name).shape == (1, 1, c),
        "zx": g.spec(x_name).zero_point - g.forms[x_name].offset,
        "zg": g.spec(gate_name).zero_point - g.forms[gate_name].offset,
        "zo": out.zero_point - fout.offset, "multiplier": op.multiplier, "shift": op.shift,
        "lo": lo - fout.offset, "hi": hi - fout.offset,
    }, {"result": fout.type}, produces=op.output)
    g.depths[name] = math.prod((h, w))


LOWERING = OpLowering(lower=_lower, outputs=free_offsets)
