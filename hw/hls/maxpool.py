"""maxpool → hls4ml `MaxPooling2D`, after a `ZeroPadding2D` when the IR pads.

hls4ml's streaming pool takes no padding and pads with 0; golden's pads never win. A 0 pad
never wins when the input is stored unsigned (`q - lo >= 0`), so padded pools require that
form. Max commutes with the offset, so the output keeps the input's form. hls4ml's streaming
pools only tile (stride = kernel; its C++ asserts it, aborting the whole process), so overlapping
or gapped windows are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from hw.hls.lower import Graph, OpLowering, Unsupported
from quant import ir


def _lower(op: ir.MaxPool, g: Graph) -> None:
    if tuple(op.stride) != tuple(op.kernel):
        raise Unsupported(f"{op.name}: hls4ml's streaming max pool needs stride = kernel, got "
                          f"kernel {list(op.kernel)} stride {list(op.stride)}")
    x_name = op.inputs[0]
    h, w, c = g.spec(x_name).shape
    top, bottom, left, right = op.padding
    source = g.names[x_name]
    storage = {"result": g.forms[x_name].type}
    if any(op.padding):
        h, w = h + top + bottom, w + left + right
        source = g.add(op.name, {
            "class_name": "ZeroPadding2D", "inputs": [source], "data_format": "channels_last",
            "name": g.layer_name(f"{op.name}_pad"), "in_height": h - top - bottom,
            "in_width": w - left - right, "n_chan": c, "out_height": h, "out_width": w,
            "pad_top": top, "pad_bottom": bottom, "pad_left": left, "pad_right": right,
        }, storage)
    ho, wo, _ = g.spec(op.output).shape
    g.add(op.name, {
        "class_name": "MaxPooling2D", "inputs": [source], "data_format": "channels_last",
        "in_height": h, "in_width": w, "n_filt": c, "out_height": ho, "out_width": wo,
        "pool_height": op.kernel[0], "pool_width": op.kernel[1],
        "stride_height": op.stride[0], "stride_width": op.stride[1],
        "pad_top": 0, "pad_bottom": 0, "pad_left": 0, "pad_right": 0,
    }, {**storage, "accum": g.forms[x_name].type}, produces=op.output)


def _requires(op: ir.MaxPool, ins: Sequence[ir.TensorSpec]) -> list[tuple[int, str] | None]:
    return [(ins[0].lo, "padding (pads hold 0, which must never win)") if any(op.padding)
            else None]


LOWERING = OpLowering(lower=_lower, requires=_requires)
