"""Quantization-aware training: fake-quant modules with straight-through estimators.

Weights: int8 (or narrower, `weight_bits`) symmetric per output channel. Activations: per-tensor
asymmetric uint8 (after ReLU) or int8, scale P = (Fmax - Fmin) / 255 and zero point
Z = round(Imin - Fmin / P) (seed 000, Eq. 5-7; the same as round(Imax - Fmax / P)), observed with
an exponential moving average of the batch min/max and frozen after warm-up. BatchNorm is folded
into the preceding convolution before fine-tuning. `pot=True` rounds every scale up to a power of
two, so every requantisation multiplier is 1 (the subset hls4ml reproduces exactly).
"""

from __future__ import annotations

import math

import torch
from torch import fx, nn

from base.errors import HccrError
from model.fx import KEEP_KINDS, VALUE_KINDS, node_kind, tensor_inputs, trace
from quant.ir import DTYPES

# The smallest activation range a scale is made from. A layer whose outputs span less is dead
# (a pruned network's zeroed filters, a channel ReLU always clamps); its scale must stay large
# enough that the requantisation multipliers into it remain representable (M ≤ 2^15).
MIN_RANGE = 2.0**-10


def pot_scale(scale: float) -> float:
    """The smallest power of two ≥ scale."""
    return 2.0 ** math.ceil(math.log2(scale))


class ActQuant(nn.Module):
    """Per-tensor asymmetric activation fake-quantiser with an EMA min/max observer."""

    def __init__(self, dtype: str = "uint8", pot: bool = False, momentum: float = 0.05,
                 fixed_scale: float | None = None):
        super().__init__()
        self.dtype, self.pot, self.momentum = dtype, pot, momentum
        self.qmin, self.qmax = DTYPES[dtype]
        self.register_buffer("lo", torch.tensor(0.0))
        self.register_buffer("hi", torch.tensor(0.0))
        self.register_buffer("observed", torch.tensor(False))
        self.register_buffer("frozen", torch.tensor(fixed_scale is not None))
        self.fixed_scale = fixed_scale  # the input image: this scale, zero point 0, exactly

    def qparams(self) -> tuple[float, int]:
        """(scale, zero_point) from the observed range, widened to include 0."""
        if self.fixed_scale is not None:
            return self.fixed_scale, 0
        lo, hi = min(float(self.lo), 0.0), max(float(self.hi), 0.0)
        scale = max(hi - lo, MIN_RANGE) / (self.qmax - self.qmin)
        if self.pot:
            scale = pot_scale(scale)
        zero_point = min(max(round(self.qmin - lo / scale), self.qmin), self.qmax)
        return scale, zero_point

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and not bool(self.frozen):
            lo, hi = x.detach().min(), x.detach().max()
            if bool(self.observed):
                self.lo.lerp_(lo, self.momentum)
                self.hi.lerp_(hi, self.momentum)
            else:
                self.lo.copy_(lo)
                self.hi.copy_(hi)
                self.observed.fill_(True)
        scale, zero_point = self.qparams()
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, self.qmin, self.qmax)


def weight_qparams(weight: torch.Tensor, bits: int, pot: bool) -> torch.Tensor:
    """Per-output-channel symmetric scales (axis 0) for a signed `bits`-wide range."""
    qmax = 2 ** (bits - 1) - 1
    amax = weight.detach().abs().flatten(1).amax(1).clamp_min(1e-8)
    scale = amax / qmax
    if pot:
        scale = torch.exp2(torch.ceil(torch.log2(scale)))
    return scale


def _fake_quant_weight(weight: torch.Tensor, bits: int, pot: bool) -> torch.Tensor:
    """Per-output-channel (axis 0) symmetric fake quantisation to `bits`."""
    scale = weight_qparams(weight, bits, pot)
    qmax = 2 ** (bits - 1) - 1
    return torch.fake_quantize_per_channel_affine(
        weight, scale, torch.zeros_like(scale, dtype=torch.int32), 0, -qmax, qmax)


class QuantLayer(nn.Module):
    """A conv or dense layer with folded BN, fused ReLU and its output quantiser.

    It becomes exactly one IR op (`conv2d` or `dense`) named after the original module.
    """

    def __init__(self, name: str, layer: nn.Conv2d | nn.Linear, bn: nn.BatchNorm2d | None,
                 relu: bool, weight_bits: int, pot: bool):
        super().__init__()
        if isinstance(layer, nn.Conv2d) and layer.groups != 1:
            raise HccrError(f"{name}: groups={layer.groups} unsupported (standard conv only)")
        if isinstance(layer, nn.Conv2d) and layer.dilation != (1, 1):
            raise HccrError(f"{name}: dilation={layer.dilation} unsupported")
        if isinstance(layer, nn.Conv2d) and layer.padding_mode != "zeros":
            raise HccrError(f"{name}: padding_mode={layer.padding_mode!r} unsupported")
        weight = layer.weight.detach().clone()
        bias = (layer.bias.detach().clone() if layer.bias is not None
                else torch.zeros(weight.shape[0]))
        if bn is not None:  # fold: w' = w·γ/σ, b' = β + (b − μ)·γ/σ
            gamma = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            weight = weight * gamma.reshape(-1, *[1] * (weight.dim() - 1))
            bias = bn.bias.detach() + (bias - bn.running_mean) * gamma
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.relu, self.weight_bits, self.pot = relu, weight_bits, pot
        self.conv = ({"stride": layer.stride, "padding": layer.padding}
                     if isinstance(layer, nn.Conv2d) else None)
        self.out_quant = ActQuant("uint8" if relu else "int8", pot)

    def quantized_weight(self) -> torch.Tensor:
        return _fake_quant_weight(self.weight, self.weight_bits, self.pot)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.quantized_weight()
        if self.conv is not None:
            y = nn.functional.conv2d(x, w, self.bias, **self.conv)
        else:
            y = nn.functional.linear(x, w, self.bias)
        if self.relu:
            y = torch.relu(y)
        return self.out_quant(y)


class QuantGwap(nn.Module):
    """Global weighted average pooling (`y_c = Σ_hw w[c,h,w]·x[c,h,w]`) with per-channel
    symmetric weight fake quantisation and its output quantiser; becomes one IR `gwap` op."""

    relu = False

    def __init__(self, gwap: nn.Module, weight_bits: int, pot: bool):
        super().__init__()
        self.weight = nn.Parameter(gwap.weight.detach().clone())
        self.weight_bits, self.pot = weight_bits, pot
        self.out_quant = ActQuant("int8", pot)

    def quantized_weight(self) -> torch.Tensor:
        return _fake_quant_weight(self.weight, self.weight_bits, self.pot)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_quant((x * self.quantized_weight()).sum((2, 3)))


class QatNet(nn.Module):
    """A traced network prepared for QAT: the input quantiser, then the rewritten graph.

    The float network sees pixels q/255. The integer input keeps q (uint8, zero point 0) with
    scale 1/255, or 1/256 under `pot`, where the input is rescaled by 255/256 so that the
    fake-quantised input is exactly q/256.
    """

    def __init__(self, gm: fx.GraphModule, input_size: int, pot: bool):
        super().__init__()
        self.input_scale = 1.0 / 256.0 if pot else 1.0 / 255.0
        self.input_quant = ActQuant("uint8", fixed_scale=self.input_scale)
        self.gm = gm
        self.input_size = input_size
        self.pot = pot

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gm(self.quantize_input(x))

    def quantize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1] (q/255) → the fake-quantised network input."""
        return self.input_quant(x * (255.0 * self.input_scale))

    def set_observers_frozen(self, frozen: bool) -> None:
        for m in self.gm.modules():
            if isinstance(m, ActQuant) and m.fixed_scale is None:
                m.frozen.fill_(frozen)


def _sole_user(node: fx.Node) -> fx.Node | None:
    return next(iter(node.users)) if len(node.users) == 1 else None


def _fuse_layers(gm: fx.GraphModule, pot: bool, weight_bits: dict[str, int]) -> None:
    """Replace conv/linear [+ BN] [+ ReLU] chains by one QuantLayer each."""
    for node in list(gm.graph.nodes):
        kind = node_kind(gm, node) if node.op == "call_module" else None
        if kind not in ("layer", "gwap"):
            continue
        bits = weight_bits.pop(node.name, 8)
        if not 2 <= bits <= 8:
            raise HccrError(f"{node.name}: weight_bits={bits} outside 2..8")
        if kind == "gwap":
            gm.add_submodule(node.target, QuantGwap(gm.get_submodule(node.target), bits, pot))
            continue
        layer, last, bn, relu = gm.get_submodule(node.target), node, None, False
        user = _sole_user(last)
        if user is not None and node_kind(gm, user) == "bn":
            bn, last = gm.get_submodule(user.target), user
            user = _sole_user(last)
        if user is not None and node_kind(gm, user) == "relu":
            relu, last = True, user
        gm.add_submodule(node.target, QuantLayer(node.name, layer, bn, relu, bits, pot))
        if last is not node:
            last.replace_all_uses_with(node)
            while last is not node:
                previous = last.args[0]
                gm.graph.erase_node(last)
                last = previous


def _drop_identities(gm: fx.GraphModule) -> None:
    for node in list(gm.graph.nodes):
        if node_kind(gm, node) == "drop":
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)


def _insert_quantizers(gm: fx.GraphModule, pot: bool) -> None:
    """Put an ActQuant after every node that makes a new real value (after its ReLU if any).

    A ReLU after such a node is kept in the float graph and realised in the integer model by
    the output's uint8 range with zero point 0 (saturation at zero).
    """
    nonneg: dict[str, bool] = {}
    for node in list(gm.graph.nodes):
        kind = node_kind(gm, node)
        ins = tensor_inputs(gm, node) if node.op != "output" else []
        if kind == "input":
            nonneg[node.name] = True
        elif kind == "quantized":
            nonneg[node.name] = gm.get_submodule(node.target).relu
        elif kind in KEEP_KINDS or kind == "relu":
            if kind == "relu" and node_kind(gm, ins[0]) not in VALUE_KINDS:
                raise HccrError(f"{node.name}: a ReLU must follow a conv/linear or a value op "
                                f"(add, mul, cat, ...), not {ins[0].name}")
            nonneg[node.name] = kind == "relu" or nonneg[ins[0].name]
        elif kind in VALUE_KINDS:
            user = _sole_user(node)
            after = user if user is not None and node_kind(gm, user) == "relu" else node
            positive = (after is not node or kind == "sigmoid"
                        or (kind in ("add", "cat", "gap", "mean_c", "mul")
                            and all(nonneg[i.name] for i in ins)))
            if kind == "sigmoid":
                quant = ActQuant("uint8", fixed_scale=1.0 / 256.0)
            else:
                quant = ActQuant("uint8" if positive else "int8", pot)
            gm.add_submodule(f"{node.name}_q", quant)
            with gm.graph.inserting_after(after):
                q = gm.graph.call_module(f"{node.name}_q", (after,))
            after.replace_all_uses_with(q, delete_user_cb=lambda u, q=q: u is not q)
            nonneg[node.name] = nonneg[after.name] = nonneg[q.name] = positive


def prepare_qat(model: nn.Module, input_size: int, pot: bool = False,
                weight_bits: dict[str, int] | None = None) -> QatNet:
    """Trace a float network, fold BN, fuse ReLU and insert fake quantisers.

    Args:
        model: a network built from the ops `model.fx` knows (conv, BN, ReLU, PReLU,
            max/global-avg pool, linear, add, mul, cat, sigmoid, channel mean/max, flatten).
        input_size: side length of the (square, 1-channel) input.
        pot: power-of-two scales everywhere.
        weight_bits: per-layer weight width, e.g. {"fc": 4}; 8 by default.

    Raises:
        HccrError: naming a node the IR cannot express.
    """
    weight_bits = dict(weight_bits or {})
    gm = trace(model)
    for node in gm.graph.nodes:
        node_kind(gm, node)  # refuse unsupported nodes before changing anything
    _drop_identities(gm)
    _fuse_layers(gm, pot, weight_bits)
    if weight_bits:
        raise HccrError(f"--weight-bits names unknown layers: {', '.join(weight_bits)}")
    _insert_quantizers(gm, pot)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return QatNet(gm, input_size, pot)
