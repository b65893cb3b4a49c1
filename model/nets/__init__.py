"""Network architectures. `build(arch, num_classes, size, **options)` is the one entry point.

| name | network |
|---|---|
| `baseline` | small conv/BN/ReLU/pool network |
| `sqnxt0` | seed 000 Scenario 0: SqueezeNext with the original block |
| `sqnxt` | seed 000 Scenario 1: reconstructed block |
| `sqnxt-ccbam` | seed 000 Scenario 2: Scenario 1 + C-CBAM (the paper's final layout) |
| `sqnxt0-ccbam` | Table 2's Scenario 2 read literally: Scenario 0 + C-CBAM |
| `cnn9` | seed 002 HCCR-CNN9Layer (96×96) |
| `cnn9-gslre` | CNN9Layer with every conv but conv1 low-rank expanded for 4× |
| `fire-gwap` | seed 004 fire network with GWAP, final output only |
| `fire-gwap-cascade` | the same with the Mid-A/Mid-B exits (forward returns 3 logits) |
| `eca-resnet18`, `eca-resnet56` | seed 001 student and teacher |

Every builder accepts `bottleneck=B` (seed 003 FC bottleneck) among its options.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from model.nets.baseline import baseline
from model.nets.cnn9 import cnn9
from model.nets.fire import fire_gwap
from model.nets.resnet import eca_resnet18, eca_resnet56
from model.nets.sqnxt import PAPER_ATTENTION, sqnxt

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "baseline": baseline,
    "sqnxt0": partial(sqnxt, scenario=0),
    "sqnxt": partial(sqnxt, scenario=1),
    "sqnxt-ccbam": partial(sqnxt, scenario=2),
    "sqnxt0-ccbam": partial(sqnxt, scenario=0, attention=PAPER_ATTENTION),
    "cnn9": cnn9,
    "cnn9-gslre": partial(cnn9, gslre_speedup=4.0),
    "fire-gwap": fire_gwap,
    "fire-gwap-cascade": partial(fire_gwap, cascade=True),
    "eca-resnet18": eca_resnet18,
    "eca-resnet56": eca_resnet56,
}


def build(arch: str, num_classes: int, size: int, **options) -> nn.Module:
    """Instantiate a registered architecture by name; `options` go to its builder."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](num_classes=num_classes, size=size, **options)
