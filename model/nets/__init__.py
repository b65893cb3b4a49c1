"""Network architectures. `build(arch, num_classes, size)` is the one entry point."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from model.nets.baseline import baseline

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {"baseline": baseline}


def build(arch: str, num_classes: int, size: int) -> nn.Module:
    """Instantiate a registered architecture by name."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](num_classes=num_classes, size=size)
