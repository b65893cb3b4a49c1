"""prelu → exact 1×1 scaler, hls4ml `PReLU`, and a 1×1 layer that rounds and clips.

Golden: `acc = (x - zx)·(M_pos if x >= zx else M_neg[c])`, `y = clip(z_out + ((acc + r) >> s))`.
The scaler computes `u = (x - zx)·M_pos·2^-s` exactly (its sign is that of `x - zx`), `PReLU`
keeps `u > 0` and multiplies the rest by `alpha_c = M_neg[c] / M_pos`, exactly when `M_pos` is
a power of two (always in the power-of-two scheme; otherwise refused), and the last layer adds
`z_out - o_out` and casts to `ap_(u)fixed<n, n, RND, SAT>`: golden's round-half-up and clip.
"""

from __future__ import annotations

import numpy as np

from hw.hls.conv2d import clip_range, output_offsets
from hw.hls.fixed import dyadic, saturating, with_integer_bit
from hw.hls.graph import Graph, OpLowering, Unsupported
from hw.hls.scale import scaler
from quant import ir


def _lower(op: ir.Prelu, g: Graph) -> None:
    x_name, out = op.inputs[0], g.spec(op.output)
    m_pos = op.multiplier_pos
    if m_pos & (m_pos - 1):
        raise Unsupported(f"{op.name}: multiplier_pos {m_pos} is not a power of two, so "
                          "M_neg / M_pos has no exact fixed-point value")
    k = m_pos.bit_length() - 1
    fin, fout = g.forms[x_name], g.forms[op.output]
    d = g.spec(x_name).zero_point - fin.offset
    pre, u = scaler(op.name, g, g.names[x_name], x_name, fin.type, m_pos, op.shift, -d * m_pos,
                    f"{op.name}_scale")
    negs = [int(a) for a in op.multiplier_neg]
    a_type = dyadic([(a, k) for a in negs])
    # u·alpha = n·a·2^-(f + k) for n in [u.lo, u.hi]: the ends bound it, the units set the LSB.
    act = with_integer_bit(dyadic([(1, u.frac), (u.lo, u.frac), (u.hi, u.frac)]
                                  + [(a * n, u.frac + k) for a in negs for n in (1, u.lo, u.hi)]))
    h, w, c = out.shape
    prelu = g.add(op.name, {
        "class_name": "PReLU", "activation": "prelu", "inputs": [pre], "n_in": h * w * c,
        "name": g.layer_name(f"{op.name}_act"),
        "param_data": np.tile(op.multiplier_neg * 2.0**-k, h * w),
    }, {"param": a_type, "result": act})
    result = saturating(*(v - fout.offset for v in clip_range(op, out)))
    name, _ = scaler(op.name, g, prelu, op.output, act, 1, 0, out.zero_point - fout.offset,
                     op.name, result=result)
    g.names[op.output] = name


LOWERING = OpLowering(lower=_lower, outputs=output_offsets)
