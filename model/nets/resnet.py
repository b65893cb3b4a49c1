"""ECA-ResNets, the student and teacher of seed 001's distillation.

ResNet (He et al.) with an ECA module (seed 001 §3.1, Eq. 4 and 6: GAP, a k-tap Conv1D over
channels, sigmoid; k adaptive, 3 at 64 channels and 5 from 128 on, as Table 2's k = 5) on
the residual branch of every block, after its last BN and before the add, as in ECA-Net.
Stem: 7×7/2 conv, BN, ReLU, 3×3/2 max pool; grayscale input.

Seed 001 Table 3 lists ECA-ResNet18 11.69 M and ECA-ResNet56 25.56 M parameters (2.19×).
ECA adds only k weights per block, so those are the counts of torchvision's ResNet-18
(11,689,512) and ResNet-50 (25,557,032) with 3-channel input and a 1000-class head; the
teacher called ResNet56 there therefore has ResNet-50's layout (bottleneck blocks
[3, 4, 6, 3]), and `eca-resnet56` is built that way (a CIFAR-style ResNet-56, 0.85 M
parameters, could not be the 2.19× larger teacher). Its plain ResNet18 (11.19 M) is
torchvision's ResNet-18 with a 16-class head counted with BN statistics (11,194,320).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from model.nets.blocks import ChannelAttention, Classifier, conv_bn, he_normal_

WIDTHS = (64, 128, 256, 512)
# Seed 001 Table 3 (MiniHWDB, 16 classes): parameters in millions.
TABLE3_PARAMS_M = {"resnet18": 11.19, "eca-resnet18": 11.69, "eca-resnet56": 25.56}


class BasicBlock(nn.Module):
    """3×3, 3×3 (+ ECA) with an identity or 1×1 projection shortcut, add, ReLU."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int, eca: bool) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, width, 3, stride, 1)
        self.conv2 = conv_bn(width, width, 3, 1, 1, act=None)
        self.eca = ChannelAttention(width) if eca else None
        self.shortcut = (conv_bn(cin, width, 1, stride, act=None)
                         if stride != 1 or cin != width else None)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        return _residual(self, x, y)


class Bottleneck(nn.Module):
    """1×1, 3×3 (stride), 1×1 ×4 (+ ECA) with a shortcut, add, ReLU."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, eca: bool) -> None:
        super().__init__()
        cout = width * self.expansion
        self.conv1 = conv_bn(cin, width, 1)
        self.conv2 = conv_bn(width, width, 3, stride, 1)
        self.conv3 = conv_bn(width, cout, 1, act=None)
        self.eca = ChannelAttention(cout) if eca else None
        self.shortcut = (conv_bn(cin, cout, 1, stride, act=None)
                         if stride != 1 or cin != cout else None)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(self.conv2(self.conv1(x)))
        return _residual(self, x, y)


def _residual(block: BasicBlock | Bottleneck, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ReLU(ECA(y) + shortcut(x)), the common end of both block kinds."""
    if block.eca is not None:
        y = block.eca(y)
    return block.relu(y + (x if block.shortcut is None else block.shortcut(x)))


class EcaResNet(nn.Module):
    """ResNet with ECA blocks.

    Args:
        num_classes: classifier outputs.
        block: "basic" or "bottleneck".
        layers: blocks per stage.
        eca: add ECA to every block (False: the plain ResNet).
        in_channels: image channels (1 here; 3 only to compare with published counts).
        bottleneck: seed 003 FC bottleneck width.
    """

    def __init__(self, num_classes: int, block: str, layers: tuple[int, ...], eca: bool = True,
                 in_channels: int = 1, bottleneck: int | None = None) -> None:
        super().__init__()
        kind = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        self.stem = conv_bn(in_channels, WIDTHS[0], 7, 2, 3)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        cin, number = WIDTHS[0], 0
        for i, (width, n) in enumerate(zip(WIDTHS, layers, strict=True), start=1):
            blocks: OrderedDict[str, nn.Module] = OrderedDict()
            for j in range(n):
                number += 1
                blocks[f"block{number}"] = kind(cin, width, 2 if j == 0 and i > 1 else 1, eca)
                cin = width * kind.expansion
            self.add_module(f"stage{i}", nn.Sequential(blocks))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = Classifier(cin, num_classes, bottleneck)
        he_normal_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem(x))
        x = self.stage4(self.stage3(self.stage2(self.stage1(x))))
        return self.classifier(self.flatten(self.gap(x)))


def eca_resnet18(num_classes: int, size: int = 64, **options) -> EcaResNet:
    """The student: ECA-ResNet18 (basic blocks [2, 2, 2, 2]); `size` is not needed."""
    return EcaResNet(num_classes, "basic", (2, 2, 2, 2), **options)


def eca_resnet56(num_classes: int, size: int = 64, **options) -> EcaResNet:
    """The teacher: seed 001's "ECA-ResNet56" (bottleneck blocks [3, 4, 6, 3], see above)."""
    return EcaResNet(num_classes, "bottleneck", (3, 4, 6, 3), **options)
