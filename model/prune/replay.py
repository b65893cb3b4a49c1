"""Replay what runs before a changed layer: CRA evaluates the held-out set ~10 times per layer
with only that layer changed, so every module that runs before it gives the outputs it gave in
the first evaluation. Recorded once, they are returned instead of recomputed (stage 3 of SqNxt
holds most of the layers and MACs: its layers skip stem, stages 1-2 and the blocks before).

Units are the model's children, a `nn.Sequential` of blocks opened into its blocks; a unit runs
"before" a layer if its first call precedes the first call of the unit holding the layer. Any
subset of those may be replayed (the others just run), so when the recording outgrows its byte
budget the unit with the most recorded bytes is dropped (the early, large feature maps, which
save the least compute per byte), and so on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


def units(model: nn.Module) -> dict[str, nn.Module]:
    """The model's children by name; a Sequential whose children all have children (a stage
    of blocks) is replaced by its children, recursively."""
    found: dict[str, nn.Module] = {}

    def visit(prefix: str, module: nn.Module) -> None:
        for name, child in module.named_children():
            parts = list(child.children())
            if isinstance(child, nn.Sequential) and parts and all(
                    any(True for _ in p.children()) for p in parts):
                visit(f"{prefix}{name}.", child)
            else:
                found[f"{prefix}{name}"] = child

    visit("", model)
    return found


class Replay:
    """Outputs of every unit over one pass of the data, in call order."""

    def __init__(self, model: nn.Module, budget_bytes: int) -> None:
        self.units = units(model)
        self.budget = budget_bytes
        self.order: list[str] = []
        self.outputs: dict[str, list[torch.Tensor]] = {}
        self.sizes: dict[str, int] = {}  # bytes recorded per unit in `outputs`
        self.dropped: set[str] = set()

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Inside: the units' tensor outputs are kept, within the budget."""
        def keep(name: str):
            def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
                if name not in self.order:
                    self.order.append(name)
                    self.outputs[name], self.sizes[name] = [], 0
                if name in self.dropped or not isinstance(output, torch.Tensor):
                    self.drop(name)
                    return
                self.outputs[name].append(output.detach())
                self.sizes[name] += output.numel() * output.element_size()
                while self.sizes and sum(self.sizes.values()) > self.budget:
                    self.drop(max(self.sizes, key=self.sizes.get))
            return hook

        hooks = [m.register_forward_hook(keep(n)) for n, m in self.units.items()]
        try:
            yield
        finally:
            for h in hooks:
                h.remove()

    def drop(self, name: str) -> None:
        """Forget unit `name`'s recording and record it no more."""
        self.outputs.pop(name, None)
        self.sizes.pop(name, None)
        self.dropped.add(name)

    @contextlib.contextmanager
    def before(self, layer: str) -> Iterator[None]:
        """Inside: the units that run before `layer`'s unit return their recorded outputs, in
        order, one per call (enter once per pass of the data)."""
        unit = next((u for u in self.order if layer == u or layer.startswith(f"{u}.")), None)
        prefix = [] if unit is None else [u for u in self.order[: self.order.index(unit)]
                                          if u in self.outputs]
        for name in prefix:
            recorded = iter(self.outputs[name])
            self.units[name].forward = lambda *_, _it=recorded, **__: next(_it).clone()
        try:
            yield
        finally:
            for name in prefix:
                del self.units[name].forward
