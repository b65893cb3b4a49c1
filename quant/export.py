"""`hccr export`: a fine-tuned QAT network → integer IR v1 (`model.json` + `weights.npz`).

Integer parameters follow seed 000 Eq. 9-11: `q_out = z_out + (s_in·s_w / s_out)·acc`, with
`acc = bias_q + Σ (x − z_x)·w_q`, `bias_q = round(b / (s_in·s_w))`, and the real multiplier
`s_in·s_w / s_out` written as `M · 2^-s` with a 15-bit `M` (or `M = 1` under `pot`).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from flow.console import HccrError
from model.data.classes import LEVEL1
from quant import ir
from quant.qat import QatNet, QuantLayer, weight_qparams

M_BITS = 15


def quantize_multiplier(real: float, pot: bool, where: str) -> tuple[int, int]:
    """Write a positive real multiplier as `M · 2^-s`, M ∈ [1, 2^15], s ∈ [0, 46].

    Under `pot` the multiplier must be an exact power of two ≤ 1 and M = 1. Otherwise s is the
    largest shift that keeps `M = round(real · 2^s)` ≤ 2^15 (15 bits of precision).

    Raises:
        HccrError: naming `where` when the multiplier cannot be represented.
    """
    if not real > 0 or not math.isfinite(real):
        raise HccrError(f"{where}: requantisation multiplier {real} is not a positive number")
    if pot:
        shift = -math.log2(real)
        if shift != round(shift) or not 0 <= shift <= ir.S_MAX:
            raise HccrError(f"{where}: multiplier {real} is not 2^-s with 0 ≤ s ≤ {ir.S_MAX} "
                            "(pot scheme)")
        return 1, int(shift)
    shift = min(ir.S_MAX, M_BITS - math.ceil(math.log2(real)))
    while shift > 0 and round(real * 2**shift) > ir.M_MAX:
        shift -= 1
    multiplier = round(real * 2**shift)
    if shift < 0 or not 1 <= multiplier <= ir.M_MAX:
        raise HccrError(f"{where}: multiplier {real} out of the representable range "
                        f"[2^-{ir.S_MAX}, 2^{M_BITS}]")
    return multiplier, shift


def _integer_layer(name: str, layer: QuantLayer, x: ir.TensorSpec
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, ir.TensorSpec]:
    """Integer weight, bias, multiplier, shift and output spec of one conv/dense layer."""
    w_scale = weight_qparams(layer.weight, layer.weight_bits, layer.pot).double()
    qmax = 2 ** (layer.weight_bits - 1) - 1
    weight = layer.weight.detach().double()
    w_q = torch.clamp(torch.round(weight / w_scale.reshape(-1, *[1] * (weight.dim() - 1))),
                      -qmax, qmax).to(torch.int8).numpy()
    acc_scale = x.scale * w_scale.numpy()
    bias = np.round(layer.bias.detach().double().numpy() / acc_scale)
    if np.abs(bias).max(initial=0) >= 2**31:
        raise HccrError(f"{name}: quantized bias exceeds int32")
    out_scale, out_zp = layer.out_quant.qparams()
    pairs = [quantize_multiplier(float(a / out_scale), layer.pot, f"{name}[{c}]")
             for c, a in enumerate(acc_scale)]
    multiplier = np.array([m for m, _ in pairs], np.int32)
    shift = np.array([s for _, s in pairs], np.int32)
    out = ir.TensorSpec(name, (1, 1, 1), layer.out_quant.dtype, out_scale, out_zp)
    return w_q, bias.astype(np.int32), multiplier, shift, out


def export(qnet: QatNet, name: str) -> ir.Model:
    """Lower a QAT network (eval mode, observers frozen) to a checked IR model.

    Layer and tensor names are the PyTorch module names; the input tensor is `input`.

    Raises:
        HccrError: a layer that has no IR equivalent, naming it.
        ir.IRError: the result breaks the IR contract (e.g. an accumulator bound).
    """
    size = qnet.input_size
    x = ir.TensorSpec("input", (size, size, 1), "uint8", qnet.input_scale, 0)
    tensors = {"input": x}
    ops: list[ir.Op] = []
    flattened = False
    for layer_name, layer in qnet.layers.named_children():
        if isinstance(layer, nn.Flatten):
            flattened = True
            continue
        if isinstance(layer, QuantLayer):
            w_q, bias, multiplier, shift, out = _integer_layer(layer_name, layer, x)
            common = {"name": layer_name, "inputs": (x.name,), "output": layer_name,
                      "bias": bias, "multiplier": multiplier, "shift": shift,
                      "relu": layer.relu, "weight_bits": layer.weight_bits}
            if layer.conv is not None:
                if flattened:
                    raise HccrError(f"{layer_name}: convolution after flatten is not supported")
                kh, kw = w_q.shape[2:]
                (sh, sw), (ph, pw) = layer.conv["stride"], layer.conv["padding"]
                op: ir.Op = ir.Conv2d(kernel=(kh, kw), stride=(sh, sw), padding=(ph, ph, pw, pw),
                                      weight=np.ascontiguousarray(w_q.transpose(2, 3, 1, 0)),
                                      **common)
            else:
                if not flattened and x.shape[:2] != (1, 1):
                    raise HccrError(f"{layer_name}: dense layer needs a flatten before it")
                h, w, c = x.shape
                # torch flattens C, H, W; the IR flattens H, W, C.
                weight = w_q.reshape(-1, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)
                op = ir.Dense(weight=np.ascontiguousarray(weight), **common)
                flattened = False
            x = ir.TensorSpec(layer_name, op.output_shape([x]), out.dtype, out.scale,
                              out.zero_point)
        elif isinstance(layer, nn.MaxPool2d):
            k, s, p = (_pair(layer.kernel_size), _pair(layer.stride), _pair(layer.padding))
            if layer.ceil_mode or _pair(layer.dilation) != (1, 1):
                raise HccrError(f"{layer_name}: ceil_mode/dilation pooling unsupported")
            op = ir.MaxPool(name=layer_name, inputs=(x.name,), output=layer_name, kernel=k,
                            stride=s, padding=(p[0], p[0], p[1], p[1]))
            x = ir.TensorSpec(layer_name, op.output_shape([x]), x.dtype, x.scale, x.zero_point)
        else:
            raise HccrError(f"{layer_name}: {type(layer).__name__} has no IR op")
        ops.append(op)
        tensors[x.name] = x
    model = ir.Model(name, tensors, tuple(ops), ("input",), (x.name,))
    ir.check(model, name)
    return model


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


LABELS = "labels.json"


def write_ir(model: ir.Model, classes: np.ndarray, out_dir: Path) -> Path:
    """Save the IR plus `labels.json` (the GB2312 class of each output) into `out_dir`.

    Everything is written to a sibling temporary folder first and renamed at the end, so an
    interrupted export never leaves a complete-looking IR behind.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    ir.save(model, tmp)
    (tmp / LABELS).write_text(json.dumps(
        {"classes": [int(c) for c in classes], "chars": "".join(LEVEL1[c] for c in classes)},
        ensure_ascii=False))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def read_labels(ir_dir: Path) -> np.ndarray | None:
    """The class of each output written by `write_ir`, or None when absent."""
    path = Path(ir_dir) / LABELS
    return np.array(json.loads(path.read_text())["classes"]) if path.exists() else None
