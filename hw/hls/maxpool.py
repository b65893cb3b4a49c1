"""maxpool → hls4ml `MaxPooling2D`, after a `ZeroPadding2D` when the IR pads.

hls4ml's streaming pool takes no padding and pads with 0; golden's pads never win. A 0 pad
never wins when the input is stored unsigned (`q - lo >= 0`), so padded pools want that form;
if the producer stores it otherwise, the pool reads a re-centred copy and its output is
re-centred back. Max commutes with the offset, so the output keeps the input's form.
hls4ml's streaming pools only tile (stride = kernel; its C++ asserts it, aborting the whole
process), so overlapping or gapped windows (CNN9's 3×3 stride 2) use the custom layer
`HccrMaxPool` (`extension.py`), which skips pads and reads the input in its own form.
"""

from __future__ import annotations

from collections.abc import Sequence

from hw.hls.graph import Graph, OpLowering
from hw.hls.scale import recentre, scaler
from quant import ir


def _lower_custom(op: ir.MaxPool, g: Graph) -> None:
    (h, w, c), (ho, wo, _) = g.spec(op.inputs[0]).shape, g.spec(op.output).shape
    g.add(op.name, {
        "class_name": "HccrMaxPool", "inputs": [g.names[op.inputs[0]]], "in_height": h,
        "in_width": w, "n_chan": c, "out_height": ho, "out_width": wo,
        "pool_height": op.kernel[0], "pool_width": op.kernel[1],
        "stride_height": op.stride[0], "stride_width": op.stride[1],
        "pad_top": op.padding[0], "pad_left": op.padding[2],
    }, {"result": g.forms[op.output].type}, produces=op.output)


def _lower(op: ir.MaxPool, g: Graph) -> None:
    if tuple(op.stride) != tuple(op.kernel):
        _lower_custom(op, g)
        return
    x_name = op.inputs[0]
    h, w, c = g.spec(x_name).shape
    top, bottom, left, right = op.padding
    source, form = g.names[x_name], g.forms[x_name]
    if any(op.padding):
        source, form = recentre(op.name, g, x_name, g.spec(x_name).lo)
        h, w = h + top + bottom, w + left + right
        source = g.add(op.name, {
            "class_name": "ZeroPadding2D", "inputs": [source], "data_format": "channels_last",
            "name": g.layer_name(f"{op.name}_pad"), "in_height": h - top - bottom,
            "in_width": w - left - right, "n_chan": c, "out_height": h, "out_width": w,
            "pad_top": top, "pad_bottom": bottom, "pad_left": left, "pad_right": right,
        }, {"result": form.type})
    ho, wo, _ = g.spec(op.output).shape
    fout = g.forms[op.output]
    same = form == fout
    pool = g.add(op.name, {
        "class_name": "MaxPooling2D", "inputs": [source], "data_format": "channels_last",
        "in_height": h, "in_width": w, "n_filt": c, "out_height": ho, "out_width": wo,
        "pool_height": op.kernel[0], "pool_width": op.kernel[1],
        "stride_height": op.stride[0], "stride_width": op.stride[1],
        "pad_top": 0, "pad_bottom": 0, "pad_left": 0, "pad_right": 0,
        **({} if same else {"name": g.layer_name(f"{op.name}_max")}),
    }, {"result": form.type, "accum": form.type}, produces=op.output if same else None)
    if not same:
        g.names[op.output], _ = scaler(op.name, g, pool, op.output, form.type, 1, 0,
                                       form.offset - fout.offset, op.name, result=fout.type)


def _prefers(op: ir.MaxPool, ins: Sequence[ir.TensorSpec]) -> list[int | None]:
    tiled = tuple(op.stride) == tuple(op.kernel)
    return [ins[0].lo if tiled and any(op.padding) else None]


LOWERING = OpLowering(lower=_lower, prefers=_prefers)
