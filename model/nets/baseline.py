"""The baseline: a small standard-convolution network (conv/BN/ReLU/maxpool/dense, groups=1).

Layer names are the PyTorch module names (`conv1`, `bn1`, ..., `fc`); the IR and the hardware
keep them, so a report row can always be traced back to this file.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn


def baseline(num_classes: int, size: int = 64, channels: tuple[int, ...] = (16, 32, 64, 96)
             ) -> nn.Sequential:
    """Conv blocks (3x3 conv, BN, ReLU, 2x2 max pool) followed by one dense classifier.

    Args:
        num_classes: classifier outputs.
        size: input side length (must be divisible by 2**len(channels)).
        channels: output channels of each conv block.
    """
    if size % 2 ** len(channels):
        raise ValueError(f"input size {size} must be divisible by {2 ** len(channels)}")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    in_ch = 1
    for i, out_ch in enumerate(channels, start=1):
        layers[f"conv{i}"] = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        layers[f"bn{i}"] = nn.BatchNorm2d(out_ch)
        layers[f"relu{i}"] = nn.ReLU()
        layers[f"pool{i}"] = nn.MaxPool2d(2)
        in_ch = out_ch
    side = size // 2 ** len(channels)
    layers["flatten"] = nn.Flatten()
    layers["dropout"] = nn.Dropout(0.3)
    layers["fc"] = nn.Linear(in_ch * side * side, num_classes)
    net = nn.Sequential(layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return net
