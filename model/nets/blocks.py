"""Building blocks shared by the seed networks, restricted to what the hardware flow lowers.

Every block is built from standard convolutions (groups = 1), BatchNorm directly after a
convolution, ReLU/PReLU, max/global-average pooling, Linear, Sigmoid, `torch.cat(dim=1)`,
`+` and broadcast `*`, channel mean/max and one reshape, so that each network traces with
`torch.fx.symbolic_trace` and lowers to the integer IR ops of DESIGN.md. Module names are
chosen to be read as hardware layer names (`stage3.block7.fuse.conv`).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

ATTENTION_ORDERS = ("cam_sam", "parallel", "sam_cam")
# Seed 000 Table 4's notation: ① CAM in front, ② CAM and SAM in parallel, ③ SAM in front.
ATTENTION_DIGITS = dict(zip("123", ATTENTION_ORDERS, strict=True))


def conv_bn(cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1,
            padding: int | tuple[int, int] = 0, act: str | None = "relu") -> nn.Sequential:
    """A bias-free convolution, BatchNorm and an optional activation (`conv`, `bn`, `act`).

    Args:
        cin: input channels.
        cout: output channels.
        kernel: kernel size (square or `(kh, kw)`, e.g. `(3, 1)`).
        stride: stride in both directions.
        padding: zero padding (symmetric per axis).
        act: "relu", "prelu" (one slope per channel) or None.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv=nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
        bn=nn.BatchNorm2d(cout))
    if act == "relu":
        layers["act"] = nn.ReLU()
    elif act == "prelu":
        layers["act"] = nn.PReLU(cout)
    elif act is not None:
        raise ValueError(f"unknown activation {act!r} (relu, prelu or None)")
    return nn.Sequential(layers)


def eca_kernel_size(channels: int, gamma: int = 2, b: int = 1) -> int:
    """ECA's adaptive kernel size: the odd number nearest (log2 C + b) / gamma.

    Seed 000 Eq. 1 and seed 001 Eq. 6 (γ = 2, b = 1); as in ECA-Net's code, t = ⌊(log2 C +
    b)/γ⌋ and an even t is raised to t + 1 (C = 32 or 64 → 3; C = 128…1023 → 5).
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


class ChannelAttention(nn.Module):
    """ECA channel attention (seed 001 Eq. 4; seed 000's CAM): x · σ(Conv1D_k(GAP(x))).

    The Conv1D over channels is a Conv2d with a (1, k) kernel applied after reshaping the
    pooled [N, C, 1, 1] vector to [N, 1, 1, C], so that channels become the width axis (the
    IR's `reshape` op; no nn.Conv1d, no FC, no bias).
    """

    def __init__(self, channels: int, kernel: int | None = None) -> None:
        super().__init__()
        k = kernel or eca_kernel_size(channels)
        self.channels = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv2d(1, 1, (1, k), padding=(0, k // 2), bias=False)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(x).reshape(-1, 1, 1, self.channels)
        y = self.conv(y).reshape(-1, self.channels, 1, 1)
        return x * self.gate(y)


class SpatialAttention(nn.Module):
    """CBAM's spatial attention: x · σ(BN(conv7×7([mean_c(x), max_c(x)])))."""

    def __init__(self, kernel: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * self.gate(self.bn(self.conv(pooled)))


class Cbam(nn.Module):
    """CAM and SAM in one of seed 000's three orders (Fig. 3 modules 1-3).

    `cam_sam`: SAM applied to the CAM output (CBAM's order, for shallow layers); `parallel`:
    CAM(x) + SAM(x) (middle); `sam_cam`: CAM applied to the SAM output (deep layers).
    """

    def __init__(self, channels: int, order: str) -> None:
        super().__init__()
        if order not in ATTENTION_ORDERS:
            raise ValueError(f"unknown attention order {order!r}; known: {ATTENTION_ORDERS}")
        self.order = order
        self.cam = ChannelAttention(channels)
        self.sam = SpatialAttention()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.order == "cam_sam":
            return self.sam(self.cam(x))
        if self.order == "sam_cam":
            return self.cam(self.sam(x))
        return self.cam(x) + self.sam(x)


def attention_orders(text: str) -> tuple[str | None, str | None, str | None]:
    """C-CBAM orders at positions I, II, III from "a,b,c", each an order name, Table 4's
    digit (1, 2, 3) or "none" (no side path there); e.g. "1,2,3" is the paper's choice."""
    parts = [p.strip() for p in text.split(",")]
    orders = [None if p == "none" else ATTENTION_DIGITS.get(p, p) for p in parts]
    if len(orders) != 3 or any(o not in (None, *ATTENTION_ORDERS) for o in orders):
        raise ValueError(f"C-CBAM orders {text!r}: three comma-separated orders at positions "
                         f"I, II, III, each 1, 2, 3, none or one of {', '.join(ATTENTION_ORDERS)}")
    return orders[0], orders[1], orders[2]


class Gwap(nn.Module):
    """Global weighted average pooling (seed 004 Eq. 3): y_c = Σ_hw w[c,h,w]·x[c,h,w].

    The weights start at 1/(H·W), i.e. as global average pooling.
    """

    ir_op = "gwap"  # traced as one node and lowered to the IR's `gwap` op

    def __init__(self, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, height, width), 1.0 / (height * width)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum((2, 3))


class Classifier(nn.Sequential):
    """The final dense layer, optionally behind seed 003's bottleneck (M → B → classes).

    The bottleneck is linear and bias-free (a low-rank factorisation of the M×O layer, whose
    bias the second layer keeps); see `stats.fc_cost` for Eq. 3.
    """

    def __init__(self, features: int, num_classes: int, bottleneck: int | None = None) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if bottleneck:
            layers["bottleneck"] = nn.Linear(features, bottleneck, bias=False)
        layers["fc"] = nn.Linear(bottleneck or features, num_classes)
        super().__init__(layers)
        self.features, self.num_classes, self.width = features, num_classes, bottleneck


def he_normal_(model: nn.Module) -> nn.Module:
    """Initialise every convolution with he_normal (N(0, 2/fan_in)), as seed 000 does."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
    return model
