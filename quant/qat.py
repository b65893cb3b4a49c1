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
from collections import OrderedDict

import torch
from torch import nn

from flow.console import HccrError

DTYPE_RANGE = {"uint8": (0, 255), "int8": (-128, 127)}


def pot_scale(scale: float) -> float:
    """The smallest power of two ≥ scale."""
    return 2.0 ** math.ceil(math.log2(scale))


class ActQuant(nn.Module):
    """Per-tensor asymmetric activation fake-quantiser with an EMA min/max observer."""

    def __init__(self, dtype: str = "uint8", pot: bool = False, momentum: float = 0.05,
                 fixed_scale: float | None = None):
        super().__init__()
        self.dtype, self.pot, self.momentum = dtype, pot, momentum
        self.qmin, self.qmax = DTYPE_RANGE[dtype]
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
        scale = max(hi - lo, 1e-8) / (self.qmax - self.qmin)
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
        scale = weight_qparams(self.weight, self.weight_bits, self.pot)
        qmax = 2 ** (self.weight_bits - 1) - 1
        return torch.fake_quantize_per_channel_affine(
            self.weight, scale, torch.zeros_like(scale, dtype=torch.int32), 0, -qmax, qmax)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.quantized_weight()
        if self.conv is not None:
            y = nn.functional.conv2d(x, w, self.bias, **self.conv)
        else:
            y = nn.functional.linear(x, w, self.bias)
        if self.relu:
            y = torch.relu(y)
        return self.out_quant(y)


class QatNet(nn.Module):
    """A sequential network prepared for QAT: input quantiser, then named layers.

    The float network sees pixels q/255. The integer input keeps q (uint8, zero point 0) with
    scale 1/255, or 1/256 under `pot`, where the input is rescaled by 255/256 so that the
    fake-quantised input is exactly q/256.
    """

    def __init__(self, layers: OrderedDict[str, nn.Module], input_size: int, pot: bool):
        super().__init__()
        self.input_scale = 1.0 / 256.0 if pot else 1.0 / 255.0
        self.input_quant = ActQuant("uint8", fixed_scale=self.input_scale)
        self.layers = nn.Sequential(layers)
        self.input_size = input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.input_quant(x * (255.0 * self.input_scale)))

    def set_observers_frozen(self, frozen: bool) -> None:
        for m in self.layers.modules():
            if isinstance(m, ActQuant):
                m.frozen.fill_(frozen)


def prepare_qat(model: nn.Sequential, input_size: int, pot: bool = False,
                weight_bits: dict[str, int] | None = None) -> QatNet:
    """Fold BN, fuse ReLU and insert fake-quantisers into a sequential float network.

    Args:
        model: conv/BN/ReLU/maxpool/flatten/dropout/linear children, in order.
        input_size: side length of the (square, 1-channel) input.
        pot: power-of-two scales everywhere.
        weight_bits: per-layer weight width, e.g. {"fc": 4}; 8 by default.

    Raises:
        HccrError: naming a module the transform does not support.
    """
    weight_bits = dict(weight_bits or {})
    children = list(model.named_children())
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    i = 0
    while i < len(children):
        name, m = children[i]
        if isinstance(m, nn.Conv2d | nn.Linear):
            bn = None
            if i + 1 < len(children) and isinstance(children[i + 1][1], nn.BatchNorm2d):
                i += 1
                bn = children[i][1]
            relu = i + 1 < len(children) and isinstance(children[i + 1][1], nn.ReLU)
            i += relu
            bits = weight_bits.pop(name, 8)
            if not 2 <= bits <= 8:
                raise HccrError(f"{name}: weight_bits={bits} outside 2..8")
            layers[name] = QuantLayer(name, m, bn, relu, bits, pot)
        elif isinstance(m, nn.MaxPool2d | nn.Flatten):
            layers[name] = m
        elif not isinstance(m, nn.Dropout):
            raise HccrError(f"{name}: {type(m).__name__} not supported by the QAT transform")
        i += 1
    if weight_bits:
        raise HccrError(f"--weight-bits names unknown layers: {', '.join(weight_bits)}")
    return QatNet(layers, input_size, pot)
