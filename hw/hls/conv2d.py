"""conv2d → one hls4ml `Conv2D` whose fixed-point arithmetic is golden's requantisation.

With the input stored as `v = q_x - o_x` and `d = zx - o_x`, golden's accumulator is
`acc = Σ v·w + (bias - d·Σw)`; hls4ml pads with 0, so a padded conv reads its input centred
(`d = 0`), re-centred by an extra 1×1 layer if its producer stores it otherwise. Channel `c`
gets real weights `w·M_c·2^-s_c` and bias `((bias - d·Σw)·M_c + (z_out - o_out)·2^s_c)·2^-s_c`:
the accumulator then holds `(acc·M + (z_out - o_out)·2^s)·2^-s` exactly (its type keeps every
fractional bit), and the cast to `ap_(u)fixed<n, n, RND, SAT>` rounds half up and clips to
the output's (relu-raised) range: `clip(z_out + rq(acc, M, s), lo, hi) - o_out`.

A channel whose `|acc·M|` stays below `2^(s-1)` (from the IR's accumulator bound) always
rounds to 0; its shift is lowered to the smallest one that still does, so that such channels
don't widen every weight. Multipliers other than 1 (the general scheme) are folded into the
weights the same way, widening them by up to 15 bits. `channels` is shared with the other
ops that requantise a weighted sum (`dense`, `pools`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hw.hls.fixed import Fixed, dyadic, saturating, with_integer_bit
from hw.hls.graph import Form, Graph, OpLowering, Unsupported
from hw.hls.scale import Channels, recentre
from quant import ir


def _ceil_units(n: int, s: int, frac: int) -> int:
    """`ceil(n · 2^(frac - s))` for n >= 0."""
    return n << (frac - s) if frac >= s else -((-n) >> (s - frac))


def clip_range(op: ir.Op, out: ir.TensorSpec) -> tuple[int, int]:
    """Golden's clip range of an op's output: the dtype's, raised to the zero point by relu."""
    return (out.zero_point if getattr(op, "relu", False) else out.lo), out.hi


def output_offsets(op: ir.Op, out: ir.TensorSpec) -> list[int]:
    """Offsets whose shifted clip range is exactly a saturating type's range."""
    lo, hi = clip_range(op, out)
    size = hi - lo + 1
    if size == 1:
        raise Unsupported(f"{op.name}: relu with output zero point {out.zero_point} at the top "
                          f"of {out.dtype} clips every value to {hi}, and no ap_fixed type "
                          "saturates to one value")
    if size & (size - 1):
        raise Unsupported(f"{op.name}: relu with output zero point {out.zero_point} clips to "
                          f"[{lo}, {hi}], {size} values, which no ap_fixed type saturates to "
                          "(needs a power of two)")
    return [lo, lo + size // 2]


def channels(op: ir.Op, g: Graph, w: np.ndarray, bias: Sequence[int],
             multiplier: Sequence[int], shift: Sequence[int], fin: Form | None = None
             ) -> Channels:
    """The arithmetic of output channel `c = Σ_taps v·w[:, c]` requantised into `op.output`.

    Args:
        op: the IR op (its first input is the one summed; names errors).
        g: the graph (forms of the input and output).
        w: integer weights `[taps, channels]`.
        bias, multiplier, shift: per channel.
        fin: the form the input is read in (default: its own).
    """
    x, out = g.spec(op.inputs[0]), g.spec(op.output)
    fin, fout = fin or g.forms[op.inputs[0]], g.forms[op.output]
    w = w.astype(np.int64)
    d = x.zero_point - fin.offset
    v_max = max(-fin.type.lo, fin.type.hi)
    shifts, biases, weight_values, sums = [], [], [], []
    for c in range(w.shape[1]):
        m, s, b = int(multiplier[c]), int(shift[c]), int(bias[c])
        abs_sum = int(np.abs(w[:, c]).sum())
        s = min(s, ((abs(b) + abs_sum * x.max_offset) * m).bit_length() + 1)
        shifts.append(s)
        biases.append((b - d * int(w[:, c].sum())) * m + ((out.zero_point - fout.offset) << s))
        weight_values += [(int(v) * m, s) for v in np.unique(w[:, c])]
        sums.append(abs_sum * m * v_max)
    try:
        w_type = dyadic(weight_values)
        b_type = dyadic(zip(biases, shifts, strict=True))
    except ValueError as exc:
        raise Unsupported(f"{op.name}: {exc}") from None
    frac = max(w_type.frac, b_type.frac)
    units = max(_ceil_units(abs(b) + t, s, frac) for b, t, s in zip(biases, sums, shifts,
                                                                      strict=True))
    width = units.bit_length() + 1
    result = saturating(*(v - fout.offset for v in clip_range(op, out)))
    assert result is not None, "choose_forms picks offsets from output_offsets"
    scale = np.array([float(m) * 2.0 ** -s for m, s in zip(multiplier, shifts, strict=True)])
    return Channels(
        weight=w.astype(np.float64) * scale,
        bias=np.array([float(b) * 2.0 ** -s for b, s in zip(biases, shifts, strict=True)]),
        types={"weight": w_type, "bias": b_type,
               "accum": with_integer_bit(Fixed(width, width - frac)),
               "result": result})


def check_rows(op: ir.Op, kernel: Sequence[int], stride: Sequence[int], layer: str) -> None:
    """Refuse a window shorter than its vertical stride (a `Conv2D` 1×1 excepted): hls4ml's
    streaming `Conv2D` / `DepthwiseConv2D` mis-read the rows no window covers (found by the
    fuzzer; a 1×1 `Conv2D` takes hls4ml's pointwise path, which is exact)."""
    if kernel[0] < stride[0] and not (layer == "Conv2D" and tuple(kernel) == (1, 1)):
        raise Unsupported(f"{op.name}: kernel height {kernel[0]} below stride {stride[0]}: "
                          f"hls4ml's streaming {layer} mis-reads the rows no window covers")


def lower_mac(op: ir.Op, g: Graph, weight: np.ndarray, bias: Sequence[int],
              multiplier: Sequence[int], shift: Sequence[int], stride: Sequence[int],
              padding: Sequence[int]) -> None:
    """Append the `Conv2D` computing `op` with integer weights `[kh, kw, cin, cout]`."""
    x = g.spec(op.inputs[0])
    source, fin = g.names[op.inputs[0]], g.forms[op.inputs[0]]
    if any(padding):
        source, fin = recentre(op.name, g, op.inputs[0], x.zero_point)
    kh, kw, cin, cout = weight.shape
    check_rows(op, (kh, kw), stride, "Conv2D")
    ch = channels(op, g, weight.reshape(-1, cout), bias, multiplier, shift, fin)
    ho, wo, _ = g.spec(op.output).shape
    g.add(op.name, {
        "class_name": "Conv2D", "inputs": [source], "data_format": "channels_last",
        "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": cin,
        "out_height": ho, "out_width": wo, "n_filt": cout,
        "filt_height": kh, "filt_width": kw, "stride_height": stride[0],
        "stride_width": stride[1], "dilation": 1, "pad_top": padding[0],
        "pad_bottom": padding[1], "pad_left": padding[2], "pad_right": padding[3],
        "weight_data": ch.weight.reshape(weight.shape), "bias_data": ch.bias,
    }, ch.types, produces=op.output, mac=(kh * kw * cin, cout))


def _lower(op: ir.Conv2d, g: Graph) -> None:
    lower_mac(op, g, op.weight, op.bias, op.multiplier.tolist(), op.shift.tolist(), op.stride,
              op.padding)


def _prefers(op: ir.Conv2d, ins: Sequence[ir.TensorSpec]) -> list[int | None]:
    return [ins[0].zero_point if any(op.padding) else None]


LOWERING = OpLowering(lower=_lower, outputs=output_offsets, prefers=_prefers)
