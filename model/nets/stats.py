"""Parameters and multiply-accumulates per layer and per group of layers, for the paper tables.

Parameters are counted as the seed papers' (Keras) tables count them: every parameter plus
the two running statistics of each BatchNorm channel, so a BN layer costs 4 per channel
(γ, β, mean, variance); `num_batches_tracked` is not counted. MACs are counted for the layers
that multiply-accumulate: Conv2d (output elements × C_in·kh·kw), Linear (in × out) and GWAP
(C·H·W); BN, activations, pooling, `+` and the attention products are not, as in the papers'
FLOPs columns (which are multiply-adds).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from model.nets.blocks import Classifier, Gwap

BN_STATS = ("running_mean", "running_var")


@dataclass(frozen=True)
class LayerStat:
    """One leaf module as it ran on a single image."""

    name: str
    kind: str
    in_shape: tuple[int, ...]  # without the batch axis
    out_shape: tuple[int, ...]
    params: int
    macs: int


def own_params(module: nn.Module, recurse: bool = True) -> int:
    """Parameters plus BatchNorm running statistics (the papers' count)."""
    n = sum(p.numel() for p in module.parameters(recurse=recurse))
    return n + sum(b.numel() for name, b in module.named_buffers(recurse=recurse)
                   if name.rsplit(".", 1)[-1] in BN_STATS)


def _macs(module: nn.Module, y: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return y[0].numel() * module.in_channels // module.groups * kh * kw
    if isinstance(module, nn.Linear):
        return y[0].numel() * module.in_features
    if isinstance(module, Gwap):
        return module.weight.numel()
    return 0


def profile(model: nn.Module, size: int, in_channels: int = 1) -> list[LayerStat]:
    """Run one `size`×`size` image through `model` and record every leaf module it calls.

    The model runs in eval mode without gradients; its training flag is restored afterwards.

    Returns:
        The leaf modules in execution order (each once).
    """
    stats: list[LayerStat] = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        x = inputs[0]
        stats.append(LayerStat(names[module], type(module).__name__, tuple(x.shape[1:]),
                               tuple(output.shape[1:]), own_params(module, recurse=False),
                               _macs(module, output)))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_channels, size, size,
                              device=next(model.parameters()).device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return stats


def group(stats: Iterable[LayerStat], depth: int = 1) -> OrderedDict[str, tuple[int, int]]:
    """(params, MACs) summed per module-name prefix of `depth` components, in first-use order."""
    totals: OrderedDict[str, tuple[int, int]] = OrderedDict()
    for s in stats:
        key = ".".join(s.name.split(".")[:depth])
        p, m = totals.get(key, (0, 0))
        totals[key] = (p + s.params, m + s.macs)
    return totals


def fc_cost(features: int, num_classes: int, bottleneck: int | None = None) -> tuple[int, int]:
    """(params, MACs) of the classifier: M·O (+O biases), or with a bottleneck B, seed 003
    Eq. 3: MACs = M·B + B·O, params = M·B + B·O + O (the bottleneck has no bias)."""
    if bottleneck:
        macs = features * bottleneck + bottleneck * num_classes
    else:
        macs = features * num_classes
    return macs + num_classes, macs


def fc_bottleneck_rows(model: nn.Module, bottleneck: int) -> list[tuple]:
    """Each classifier of `model` before and after a B = `bottleneck` bottleneck.

    Returns:
        Rows (name, M, O, params before, params after, MACs before, MACs after).
    """
    rows = []
    for name, m in model.named_modules():
        if isinstance(m, Classifier):
            before = fc_cost(m.features, m.num_classes)
            after = fc_cost(m.features, m.num_classes, bottleneck)
            rows.append((name, m.features, m.num_classes, before[0], after[0], before[1],
                         after[1]))
    return rows


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned; ints with
    thousands separators, floats with two decimals, booleans as yes/NO, None as a dash."""
    def cell(v: object) -> str:
        if isinstance(v, bool):
            return "yes" if v else "NO"
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return "—" if v is None else str(v)

    body = [[cell(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in [list(headers), *body]) for i in range(len(headers))]
    lines = []
    for r in [list(headers), *body]:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
