"""`hccr export`: a fine-tuned QAT network → integer IR (`model.json` + `weights.npz`): v1, or
v2 with an exit table for an early-exit cascade (`exit_table`, docs/early_exit.md).

Integer parameters follow seed 000 Eq. 9-11: `q_out = z_out + (s_in·s_w / s_out)·acc`, with
`acc = bias_q + Σ (x − z_x)·w_q`, `bias_q = round(b / (s_in·s_w))`, and the real multiplier
`s_in·s_w / s_out` written as `M · 2^-s` with a 15-bit `M` (or `M = 1` under `pot`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from base.errors import HccrError
from model.data.classes import LEVEL1
from model.fx import node_kind, tensor_inputs
from model.nets.fire import THRESHOLD
from quant import ir
from quant.qat import QatNet, QuantGwap, QuantLayer, weight_qparams

M_BITS = 15
ACC_FLOOR_BITS = 22  # an accumulator step is ≥ 2^-22 output steps (see _weight_scale_floor)
EXIT_FRAC_BITS = 24  # most fraction bits F of an exit LUT (LUT[0] = 2^F stands for exp(0) = 1)


def quantize_multiplier(real: float, pot: bool, where: str) -> tuple[int, int]:
    """Write a positive real multiplier as `M · 2^-s`, M ∈ [1, 2^15], s ∈ [0, 46].

    Under `pot` the multiplier must be an exact power of two: M = 1 with s ≥ 0 for reals ≤ 1
    (conv/dense always), M = 2^k with s = 0 for the rare upscaling requant. Otherwise s is
    the largest shift that keeps `M = round(real · 2^s)` ≤ 2^15 (15 bits of precision).

    Raises:
        HccrError: naming `where` when the multiplier cannot be represented.
    """
    if not real > 0 or not math.isfinite(real):
        raise HccrError(f"{where}: requantisation multiplier {real} is not a positive number")
    if pot:
        shift = -math.log2(real)
        if shift != round(shift) or not -M_BITS <= shift <= ir.S_MAX:
            raise HccrError(f"{where}: multiplier {real} is not 2^-s with -{M_BITS} ≤ s ≤ "
                            f"{ir.S_MAX} (pot scheme)")
        return (1, int(shift)) if shift >= 0 else (2 ** int(-shift), 0)
    shift = min(ir.S_MAX, M_BITS - math.ceil(math.log2(real)))
    while shift > 0 and round(real * 2**shift) > ir.M_MAX:
        shift -= 1
    multiplier = round(real * 2**shift)
    if shift < 0 or not 1 <= multiplier <= ir.M_MAX:
        raise HccrError(f"{where}: multiplier {real} out of the representable range "
                        f"[2^-{ir.S_MAX}, 2^{M_BITS}]")
    return multiplier, shift


def quantize_multipliers(reals: Sequence[float], pot: bool, where: str
                         ) -> tuple[list[int], int]:
    """Several positive reals as `M_i · 2^-s` with one shared shift (add, prelu).

    The shift is the largest that keeps every M_i ≤ 2^15, then common factors of two are
    divided out. Under `pot` each real must be a power of two, so every M_i is one too.
    """
    pairs = [quantize_multiplier(r, pot, where) for r in reals]  # checks each alone
    shift = min(quantize_multiplier(r, False, where)[1] for r in reals)
    if pot:
        shift = max(s for _, s in pairs)
    multipliers = [round(r * 2**shift) for r in reals]
    while shift > 0 and all(m % 2 == 0 for m in multipliers):
        multipliers, shift = [m // 2 for m in multipliers], shift - 1
    if min(multipliers) < 1 or max(multipliers) > ir.M_MAX:
        raise HccrError(f"{where}: multipliers {list(reals)} are too far apart for one shift")
    return multipliers, shift


def _hwc(node: fx.Node) -> tuple[int, int, int]:
    """IR (H, W, C) shape of a traced node's [N, C, H, W] or [N, C] output."""
    shape = tuple(node.meta["tensor_meta"].shape)[1:]
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else (1, 1, int(np.prod(shape)))


def _same_order(node: fx.Node) -> bool:
    """Whether NCHW and HWC row-major orders of the node's value coincide (C=1 or H=W=1)."""
    shape = tuple(node.meta["tensor_meta"].shape)[1:]
    return len(shape) != 3 or shape[0] == 1 or shape[1] * shape[2] == 1


class _Lowering:
    """Walks the QAT graph once and collects the IR tensors and ops."""

    def __init__(self, qnet: QatNet):
        self.gm, self.pot = qnet.gm, qnet.pot
        sample = qnet.quantize_input(torch.zeros(1, 1, qnet.input_size, qnet.input_size))
        ShapeProp(self.gm).propagate(sample)
        self.tensors: dict[str, ir.TensorSpec] = {}
        self.ops: list[ir.Op] = []
        self.value: dict[str, str] = {}  # fx node → IR tensor holding its (quantized) value
        self.flat: set[str] = set()  # fx nodes that are a torch flatten of an IR tensor
        self.raw: dict[str, tuple[fx.Node, bool]] = {}  # value op (+ReLU) awaiting its quantiser
        self.outputs: tuple[str, ...] = ()
        self.input_scale = qnet.input_scale

    def spec(self, node: fx.Node) -> ir.TensorSpec:
        if node.name not in self.value:
            raise HccrError(f"{node.name}: value is not quantized where it is used")
        return self.tensors[self.value[node.name]]

    def emit(self, op: ir.Op | None, spec: ir.TensorSpec, node: fx.Node) -> None:
        if op is not None:
            self.ops.append(op)
        self.tensors[spec.name] = spec
        self.value[node.name] = spec.name

    def run(self, name: str) -> ir.Model:
        for node in self.gm.graph.nodes:
            kind = node_kind(self.gm, node)
            ins = tensor_inputs(self.gm, node) if node.op != "output" else []
            if any(i.name in self.flat for i in ins) and kind != "quantized":
                raise HccrError(f"{node.name}: a flatten must feed a linear layer directly")
            getattr(self, f"_{kind}")(node, ins)
        model = ir.Model(name, self.tensors, tuple(self.ops), ("input",), self.outputs)
        ir.check(model, name)
        return model

    # one method per node kind -------------------------------------------------------------
    def _input(self, node: fx.Node, ins: list[fx.Node]) -> None:
        self.emit(None, ir.TensorSpec("input", _hwc(node), "uint8", self.input_scale, 0), node)

    def _output(self, node: fx.Node, ins: list[fx.Node]) -> None:
        args = node.args[0] if isinstance(node.args[0], tuple | list) else (node.args[0],)
        self.outputs = tuple(self.spec(a).name for a in args)

    def _shape(self, node: fx.Node, ins: list[fx.Node]) -> None:
        """x.size() and indexing into it: no tensor."""

    def _quantized(self, node: fx.Node, ins: list[fx.Node]) -> None:
        layer: QuantLayer | QuantGwap = self.gm.get_submodule(node.target)
        x = self.spec(ins[0])
        out_scale, out_zp = layer.out_quant.qparams()
        bias = layer.bias.detach().double() if isinstance(layer, QuantLayer) else None
        w_scale = torch.maximum(weight_qparams(layer.weight, layer.weight_bits,
                                               layer.pot).double(),
                                _weight_scale_floor(out_scale, x.scale, bias, layer.pot))
        qmax = 2 ** (layer.weight_bits - 1) - 1
        weight = layer.weight.detach().double()
        w_q = torch.clamp(torch.round(weight / w_scale.reshape(-1, *[1] * (weight.dim() - 1))),
                          -qmax, qmax).to(torch.int8).numpy()
        # A filter whose weights quantize to zeros (pruned, or slimmed to ~1e-8) outputs its
        # bias alone: any weight scale serves, and the one that makes its multiplier 1 keeps
        # its bias exact in output steps.
        acc_scale = x.scale * w_scale.numpy()
        acc_scale[(w_q.reshape(len(w_q), -1) == 0).all(1)] = out_scale
        pairs = [quantize_multiplier(float(a / out_scale), layer.pot, f"{node.name}[{c}]")
                 for c, a in enumerate(acc_scale)]
        common = {"name": node.name, "inputs": (x.name,), "output": node.name,
                  "multiplier": np.array([m for m, _ in pairs], np.int32),
                  "shift": np.array([s for _, s in pairs], np.int32)}
        if isinstance(layer, QuantGwap):
            op: ir.Op = ir.Gwap(weight=np.ascontiguousarray(w_q.transpose(1, 2, 0)), **common)
        else:
            bias = np.round(bias.numpy() / acc_scale)
            if np.abs(bias).max(initial=0) >= 2**31:
                raise HccrError(f"{node.name}: quantized bias exceeds int32")
            common.update(bias=bias.astype(np.int32), relu=layer.relu,
                          weight_bits=layer.weight_bits)
            op = self._layer_op(node, ins[0], layer, x, w_q, common)
        self.emit(op, ir.TensorSpec(node.name, op.output_shape([x]), layer.out_quant.dtype,
                                    out_scale, out_zp), node)

    def _layer_op(self, node: fx.Node, source: fx.Node, layer: QuantLayer, x: ir.TensorSpec,
                  w_q: np.ndarray, common: dict) -> ir.Op:
        """The conv2d or dense op of a QuantLayer with integer weights `w_q`."""
        if layer.conv is not None:
            (sh, sw), (ph, pw) = layer.conv["stride"], layer.conv["padding"]
            return ir.Conv2d(kernel=tuple(w_q.shape[2:]), stride=(sh, sw),
                             padding=(ph, ph, pw, pw),
                             weight=np.ascontiguousarray(w_q.transpose(2, 3, 1, 0)), **common)
        h, w, c = x.shape
        if source.name not in self.flat and (h, w) != (1, 1):
            raise HccrError(f"{node.name}: a linear layer needs a flatten before it")
        # torch flattens C, H, W; the IR flattens H, W, C.
        weight = w_q.reshape(-1, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)
        return ir.Dense(weight=np.ascontiguousarray(weight), **common)

    def _keep(self, node: fx.Node, x: ir.TensorSpec, op: ir.Op) -> None:
        """An op whose output keeps the input's dtype, scale and zero point."""
        self.emit(op, ir.TensorSpec(node.name, op.output_shape([x]), x.dtype, x.scale,
                                    x.zero_point), node)

    def _maxpool(self, node: fx.Node, ins: list[fx.Node]) -> None:
        pool: nn.MaxPool2d = self.gm.get_submodule(node.target)
        k, s, p = _pair(pool.kernel_size), _pair(pool.stride), _pair(pool.padding)
        if pool.ceil_mode or _pair(pool.dilation) != (1, 1):
            raise HccrError(f"{node.name}: ceil_mode/dilation pooling unsupported")
        x = self.spec(ins[0])
        self._keep(node, x, ir.MaxPool(name=node.name, inputs=(x.name,), output=node.name,
                                       kernel=k, stride=s, padding=(p[0], p[0], p[1], p[1])))

    def _max_c(self, node: fx.Node, ins: list[fx.Node]) -> None:
        x = self.spec(ins[0])
        self._keep(node, x, ir.ReduceChannels(name=node.name, inputs=(x.name,),
                                              output=node.name, mode="max"))

    def _flatten(self, node: fx.Node, ins: list[fx.Node]) -> None:
        self.value[node.name] = self.value[ins[0].name]
        if not _same_order(ins[0]):
            self.flat.add(node.name)

    def _reshape(self, node: fx.Node, ins: list[fx.Node]) -> None:
        x = self.spec(ins[0])
        if not (_same_order(ins[0]) and _same_order(node)):
            raise HccrError(f"{node.name}: reshape reorders data between NCHW and HWC; only "
                            "views with C = 1 or H = W = 1 on both sides are supported")
        shape = _hwc(node)
        if shape == x.shape:
            self.value[node.name] = x.name
            return
        self._keep(node, x, ir.Reshape(name=node.name, inputs=(x.name,), output=node.name,
                                       shape=shape))

    def _value(self, node: fx.Node, ins: list[fx.Node]) -> None:
        self.raw[node.name] = (node, False)

    _add = _mul = _cat = _gap = _mean_c = _sigmoid = _prelu = _value

    def _relu(self, node: fx.Node, ins: list[fx.Node]) -> None:
        self.raw[node.name] = (self.raw[ins[0].name][0], True)

    def _quant(self, node: fx.Node, ins: list[fx.Node]) -> None:
        source, relu = self.raw[ins[0].name]
        scale, zero_point = self.gm.get_submodule(node.target).qparams()
        dtype = self.gm.get_submodule(node.target).dtype
        if relu and (dtype, zero_point) != ("uint8", 0):
            raise HccrError(f"{source.name}: a fused ReLU needs a uint8 output with zero point 0")
        out = ir.TensorSpec(source.name, _hwc(source), dtype, scale, zero_point)
        xs = [self.spec(i) for i in tensor_inputs(self.gm, source)]
        for op in self._value_ops(source, node_kind(self.gm, source), xs, out):
            self.ops.append(op)
        self.tensors[out.name] = out
        self.value[node.name] = out.name

    def _value_ops(self, node: fx.Node, kind: str, xs: list[ir.TensorSpec],
                   out: ir.TensorSpec) -> list[ir.Op]:
        """The IR op(s) computing a value node into `out`."""
        common = {"name": node.name, "inputs": tuple(x.name for x in xs), "output": out.name}
        where = node.name
        if kind == "add":
            ms, shift = quantize_multipliers([x.scale / out.scale for x in xs], self.pot, where)
            return [ir.Add(multipliers=tuple(ms), shift=shift, **common)]
        if kind == "mul":
            if xs[0].shape != out.shape:  # the IR broadcasts the second input
                xs = xs[::-1]
                common["inputs"] = tuple(x.name for x in xs)
            m, s = quantize_multiplier(xs[0].scale * xs[1].scale / out.scale, self.pot, where)
            return [ir.Mul(multiplier=m, shift=s, **common)]
        if kind == "gap":
            h, w, _ = xs[0].shape
            m, s = quantize_multiplier(xs[0].scale / (h * w * out.scale), self.pot, where)
            return [ir.GlobalAvgPool(multiplier=m, shift=s, **common)]
        if kind == "mean_c":
            m, s = quantize_multiplier(xs[0].scale / (xs[0].shape[2] * out.scale), self.pot,
                                       where)
            return [ir.ReduceChannels(mode="mean", multiplier=m, shift=s, **common)]
        if kind == "sigmoid":
            x = xs[0]
            q = np.arange(x.lo, x.hi + 1, dtype=np.float64)
            y = 1.0 / (1.0 + np.exp(-x.scale * (q - x.zero_point)))
            lut = np.clip(np.round(y / out.scale) + out.zero_point, out.lo, out.hi)
            return [ir.Sigmoid(lut=lut.astype(out.dtype), **common)]
        if kind == "prelu":
            return [self._prelu_op(node, xs[0], out, common)]
        return self._concat_ops(node, xs, out, common)

    def _prelu_op(self, node: fx.Node, x: ir.TensorSpec, out: ir.TensorSpec,
                  common: dict) -> ir.Op:
        slopes = self.gm.get_submodule(node.target).weight.detach().double().numpy()
        slopes = np.broadcast_to(slopes, (x.shape[2],))
        if (slopes <= 0).any():
            raise HccrError(f"{node.name}: PReLU slopes must be positive for the IR "
                            f"(smallest is {slopes.min():.4g})")
        ratio = x.scale / out.scale
        # The slopes are trained reals, fixed-point even under pot (like hls4ml's alpha).
        ms, shift = quantize_multipliers([ratio, *(slopes * ratio)], False, node.name)
        return ir.Prelu(multiplier_pos=ms[0], multiplier_neg=np.array(ms[1:], np.int32),
                        shift=shift, **common)

    def _concat_ops(self, node: fx.Node, xs: list[ir.TensorSpec], out: ir.TensorSpec,
                    common: dict) -> list[ir.Op]:
        """Requantise every input that differs from the output, then concatenate."""
        ops: list[ir.Op] = []
        names = []
        for i, x in enumerate(xs):
            if (x.dtype, x.scale, x.zero_point) == (out.dtype, out.scale, out.zero_point):
                names.append(x.name)
                continue
            name = f"{node.name}_in{i}"
            m, s = quantize_multiplier(x.scale / out.scale, self.pot, name)
            ops.append(ir.Requant(name=name, inputs=(x.name,), output=name, multiplier=m,
                                  shift=s))
            self.tensors[name] = ir.TensorSpec(name, x.shape, out.dtype, out.scale,
                                               out.zero_point)
            names.append(name)
        return [*ops, ir.Concat(name=node.name, inputs=tuple(names), output=out.name)]


def lower(qnet: QatNet, name: str) -> tuple[ir.Model, dict[str, str]]:
    """Lower a QAT network to a checked IR model.

    Returns:
        The model and, for every graph node that holds a quantized value, the IR tensor it
        corresponds to (used to compare torch and golden layer by layer).

    Raises:
        HccrError: a node with no IR equivalent, naming it.
        ir.IRError: the result breaks the IR contract (e.g. an accumulator bound).
    """
    lowering = _Lowering(qnet)
    model = lowering.run(name)
    return model, dict(lowering.value)


def export(qnet: QatNet, name: str) -> ir.Model:
    """Lower a QAT network (eval mode, observers frozen) to a checked IR model.

    Layer and tensor names are the PyTorch module paths (dots become underscores); value ops
    (add, cat, ...) are named after their graph node; the input tensor is `input`.
    """
    return lower(qnet, name)[0]


def exit_lut(scale: float, frac_bits: int = EXIT_FRAC_BITS) -> tuple[int, ...]:
    """`LUT[d] = round(2^F · exp(−d · scale))` for d = 0..255, cut before its first 0 (every
    later entry is 0 too)."""
    lut = np.floor(np.exp(-np.arange(ir.EXIT_LUT_MAX) * scale) * 2.0**frac_bits + 0.5)
    return tuple(int(v) for v in lut[: np.count_nonzero(lut)])


def exit_threshold(threshold: float, frac_bits: int = EXIT_FRAC_BITS) -> int:
    """`T = floor(2^F / t)`: max softmax ≥ t ⇔ Σ_j exp(l_j − l_max) ≤ 1/t ⇔ (in fixed point)
    Σ_j LUT[l_max − l_j] ≤ T."""
    if not 0 < threshold <= 1:
        raise HccrError(f"exit threshold {threshold} is not a probability in (0, 1]")
    return math.floor(2.0**frac_bits / threshold)


def check_mid_b(mid_b: str) -> None:
    """Raise `HccrError` unless `mid_b` is a policy of `cascade_predict` (average or exit)."""
    if mid_b not in ("average", "exit"):
        raise HccrError(f"unknown Mid-B policy {mid_b!r} (average or exit)")


def exit_frac_bits(classes: int) -> int:
    """The largest F ≤ `EXIT_FRAC_BITS` whose sum of `classes` entries, at most `classes·2^F`,
    fits int32 (24 bits at 100 classes, 19 at 3755): each entry is off by at most 1/2, so
    the sum moves by at most `classes·2^-(F+1)` around the float one."""
    return min(EXIT_FRAC_BITS, (ir.INT32_MAX // classes).bit_length() - 1)


def exit_table(model: ir.Model, threshold: float = THRESHOLD, mid_b: str = "average",
               frac_bits: int | None = None) -> ir.Model:
    """The model with an exit table over its outputs, in order (seed 004: Mid-A, Mid-B, final).

    Args:
        threshold: an image leaves at a tested exit whose top softmax probability is ≥ this.
        mid_b: as `model.nets.fire.cascade_predict`: "average" (every output but the last two
            is a tested exit; the last point averages the last two outputs' probabilities) or
            "exit" (every output but the last is a tested exit).
        frac_bits: F, the LUTs' fraction bits (default: `exit_frac_bits` of the class count).

    Raises:
        HccrError: the threshold is not in (0, 1], the policy is unknown, or there are too few
            outputs for it.
        ir.IRError: the table breaks the IR's exit rules (e.g. a sum beyond int32).
    """
    check_mid_b(mid_b)
    last = 2 if mid_b == "average" else 1
    if len(model.outputs) < last + 1:
        raise HccrError(f"{model.name}: {len(model.outputs)} output(s), an exit table with Mid-B "
                        f"'{mid_b}' needs at least {last + 1}")
    if frac_bits is None:
        frac_bits = exit_frac_bits(model.tensors[model.outputs[-1]].shape[2])
    big_t = exit_threshold(threshold, frac_bits)
    luts = {t: exit_lut(model.tensors[t].scale, frac_bits) for t in model.outputs}
    points = [ir.ExitPoint(t, (t,), (luts[t],), big_t) for t in model.outputs[:-last]]
    tail = model.outputs[-last:]
    points.append(ir.ExitPoint(tail[-1], tail, tuple(luts[t] for t in tail) if last == 2 else ()))
    model = dataclasses.replace(model, exits=tuple(points))
    ir.check(model)
    return model


def _weight_scale_floor(out_scale: float, in_scale: float, bias: torch.Tensor | None,
                        pot: bool) -> torch.Tensor:
    """The smallest weight scale of each filter: an accumulator step is at least
    `2^-ACC_FLOOR_BITS` output steps and `|bias| / 2^30`. A weaker filter (a slimmed channel
    whose BN scale trained to ~1e-8; QAT gives it a 2^-33 scale, and its bias needed ~2^40)
    gets coarser weights, moving its output by under 1e-4 step per product, or all-zero ones;
    its multiplier and bias stay representable. A power of two under pot."""
    floor = out_scale * 2.0**-ACC_FLOOR_BITS
    if bias is not None:
        floor = torch.clamp_min(bias.abs() / 2**30, floor)
    floor = torch.as_tensor(floor, dtype=torch.float64) / in_scale
    return torch.exp2(torch.ceil(torch.log2(floor))) if pot else floor


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


LABELS = "labels.json"


IR_FILES = frozenset({"model.json", "weights.npz", LABELS})


def write_ir(model: ir.Model, classes: np.ndarray, out_dir: Path, overwrite: bool = False
             ) -> Path:
    """Save the IR plus `labels.json` (the GB2312 class of each output) into `out_dir`.

    Everything is written to a sibling temporary folder first and renamed at the end, so an
    interrupted export never leaves a complete-looking IR behind. An existing `out_dir` is
    replaced only when it holds nothing but an earlier export's files, or with `overwrite`.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        if not out_dir.is_dir():
            raise HccrError(f"{out_dir}: is a file, not an IR folder")
        other = sorted(p.name for p in out_dir.iterdir() if p.name not in IR_FILES)
        if other:
            raise HccrError(f"{out_dir}: holds {other[0]}, not written by hccr export; choose "
                            "another folder or replace it (--overwrite)")
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        ir.save(model, tmp)
        (tmp / LABELS).write_text(json.dumps(
            {"classes": [int(c) for c in classes], "chars": "".join(LEVEL1[c] for c in classes)},
            ensure_ascii=False))
        if out_dir.is_dir():
            shutil.rmtree(out_dir)
        elif out_dir.exists():
            out_dir.unlink()
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def read_labels(ir_dir: Path, outputs: int | None = None) -> np.ndarray | None:
    """The class of each output written by `write_ir`, or None when absent; checked: an object
    whose `classes` lists `outputs` GB2312 level-1 class indices."""
    path = Path(ir_dir) / LABELS
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HccrError(f"{path}: not readable JSON ({exc})") from None
    classes = doc.get("classes") if isinstance(doc, dict) else None
    if not (isinstance(classes, list) and all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c < len(LEVEL1)
            for c in classes)):
        raise HccrError(f"{path}: key 'classes' missing or not a list of class indices "
                        f"0..{len(LEVEL1) - 1}")
    if outputs is not None and len(classes) != outputs:
        raise HccrError(f"{path}: {len(classes)} classes for {outputs} outputs")
    return np.array(classes, np.int64)
