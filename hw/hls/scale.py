"""Data-moving and exact scaling layers shared by several lowerings.

`depthwise_layer` appends an hls4ml `DepthwiseConv2D`; `scaler` a 1×1 one computing
`(u·m + bias)·2^-s` in a type that keeps every bit (or rounds into a given type); `recentre`
re-stores a tensor as `q - offset` for another offset, so that a padding consumer (hls4ml pads
with 0) sees the value it needs in the pads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hw.hls.fixed import Fixed, dyadic, integer_range, with_integer_bit
from hw.hls.graph import Form, Graph, Unsupported


@dataclass(frozen=True)
class Channels:
    """Real weights, biases and exact types of a per-channel requantised weighted sum."""

    weight: np.ndarray
    bias: np.ndarray
    types: dict[str, Fixed]


def depthwise_layer(op: str, g: Graph, x_name: str, ch: Channels, kernel: Sequence[int],
                    stride: Sequence[int], name: str | None = None,
                    produces: str | None = None, source: str | None = None) -> str:
    """Append a `DepthwiseConv2D` (no padding) over tensor `x_name`; returns its name.

    `source` is the layer it reads when that is not the one producing `x_name`.
    """
    h, w, c = g.spec(x_name).shape
    kh, kw = kernel
    layer = {
        "class_name": "DepthwiseConv2D", "inputs": [source or g.names[x_name]],
        "data_format": "channels_last", "in_height": h, "in_width": w, "n_chan": c,
        "n_filt": c, "depth_multiplier": 1, "out_height": (h - kh) // stride[0] + 1,
        "out_width": (w - kw) // stride[1] + 1, "filt_height": kh, "filt_width": kw,
        "stride_height": stride[0], "stride_width": stride[1], "dilation": 1, "pad_top": 0,
        "pad_bottom": 0, "pad_left": 0, "pad_right": 0,
        "depthwise_data": ch.weight.reshape(kh, kw, c, 1), "bias_data": ch.bias,
        **({} if name is None else {"name": name})}
    return g.add(op, layer, ch.types, produces=produces, fixed=True)


def scaler(op: str, g: Graph, source: str, x_name: str, in_type: Fixed, m: int, s: int,
           bias: int, name: str, result: Fixed | None = None) -> tuple[str, Fixed]:
    """Append a 1×1 `DepthwiseConv2D` computing `(u·m + bias)·2^-s` of the layer `source`.

    Args:
        op: the IR op it belongs to (named in errors).
        g: the graph.
        source: the hls4ml layer it reads.
        x_name: the IR tensor whose shape `source` outputs.
        in_type: `source`'s output type.
        m, s, bias: integer scale, shift and bias.
        name: the layer's name.
        result: its output type; default: one that holds every value exactly.

    Returns:
        The layer's name and output type.
    """
    c = g.spec(x_name).shape[2]
    f = in_type.frac
    big = bias << f
    try:
        exact = with_integer_bit(dyadic([(m, s + f), (big, s + f), (in_type.lo * m + big, s + f),
                                         (in_type.hi * m + big, s + f)]))
        types = {"weight": dyadic([(m, s)]), "bias": dyadic([(bias, s)]), "accum": exact,
                 "result": result or exact}
    except ValueError as exc:
        raise Unsupported(f"{op}: {exc}") from None
    ch = Channels(weight=np.full((1, c), m * 2.0**-s), bias=np.full(c, bias * 2.0**-s),
                  types=types)
    layer = depthwise_layer(op, g, x_name, ch, (1, 1), (1, 1), name=g.layer_name(name),
                            source=source)
    return layer, types["result"]


def recentre(op: str, g: Graph, x_name: str, offset: int) -> tuple[str, Form]:
    """The layer holding tensor `x_name` as `q - offset`, appended (once per tensor and offset)
    after the one holding it in its own form, unless that form already has this offset."""
    form = g.forms[x_name]
    if form.offset == offset:
        return g.names[x_name], form
    spec = g.spec(x_name)
    target = Form(offset, integer_range(spec.lo - offset, spec.hi - offset))
    key = (x_name, offset)
    if key not in g.recentred:
        g.recentred[key], _ = scaler(op, g, g.names[x_name], x_name, form.type, 1, 0,
                                     form.offset - offset, f"{x_name}_recentred",
                                     result=target.type)
    return g.recentred[key], target
