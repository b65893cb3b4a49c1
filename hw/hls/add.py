"""add → two exact 1×1 `DepthwiseConv2D` scalers and an hls4ml `Add` that rounds and clips.

Golden: `acc = (x1 - z1)·M1 + (x2 - z2)·M2`, `y = clip(z_out + ((acc + r) >> s))`. Scaler 1
computes `u1 = (v1·M1 - d1·M1 - d2·M2 + (z_out - o_out)·2^s)·2^-s`, scaler 2 `u2 = v2·M2·2^-s`
(`v = q - offset`, `d = z - offset`), both in types that keep every bit; then `u1 + u2 =
(acc + (z_out - o_out)·2^s)·2^-s` and `Add`'s `ap_(u)fixed<n, n, RND, SAT>` result rounds half
up and clips exactly as golden. The shift cannot be shortened per scaler: the rounding sees
the sum.
"""

from __future__ import annotations

from hw.hls.conv2d import clip_range, output_offsets
from hw.hls.fixed import saturating
from hw.hls.graph import Graph, OpLowering
from hw.hls.scale import scaler
from quant import ir


def _scaler(op: ir.Add, g: Graph, i: int, bias: int) -> str:
    """Depthwise 1×1 computing `(v_i·M_i + bias)·2^-s` exactly; returns the layer name."""
    x_name = op.inputs[i]
    name, _ = scaler(op.name, g, g.names[x_name], x_name, g.forms[x_name].type,
                     op.multipliers[i], op.shift, bias, f"{op.name}_in{i + 1}")
    return name


def _lower(op: ir.Add, g: Graph) -> None:
    out, fout = g.spec(op.output), g.forms[op.output]
    d = [g.spec(t).zero_point - g.forms[t].offset for t in op.inputs]
    m1, m2 = op.multipliers
    first = _scaler(op, g, 0, -d[0] * m1 - d[1] * m2 + ((out.zero_point - fout.offset)
                                                          << op.shift))
    second = _scaler(op, g, 1, 0)
    result = saturating(*(v - fout.offset for v in clip_range(op, out)))
    g.add(op.name, {"class_name": "Merge", "op": "add", "inputs": [first, second]},
          {"result": result}, produces=op.output)


LOWERING = OpLowering(lower=_lower, outputs=output_offsets)
