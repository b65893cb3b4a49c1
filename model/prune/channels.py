"""Which output channels can be removed together, and their physical removal (torch.fx).

Every Conv2d output is a *root* channel space. Walking the traced graph, a *layout* (the
root segments a tensor's channels come from) passes unchanged through channel-wise ops (BN,
ReLU, PReLU, max pool, global average pool, flatten after it, dropout); `torch.cat` joins
layouts; `+` ties the roots of its two operands into one group (their channels go together,
e.g. a stage output and the C-CBAM side path added to it); a conv or linear reading a layout
loses the matching input channels. Any other use (channel mean/max, reshape, `*`, sigmoid,
GWAP, grouped convs, the network output) freezes the roots it sees: removing a channel there
would change the function (ECA's 1-D conv over channels, SAM's channel mean).

A channel is *zeroed* when its filter in every conv of the group and γ, β of every BN on its
path are 0: the channel is then 0 everywhere, and removing it leaves the function unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import fx, nn

from model.fx import node_kind, tensor_inputs, trace
from model.nets.resize import refresh_widths

Layout = tuple[tuple[str, int], ...]  # (root conv name, channels) segments, in channel order
REST: Layout = (("", -1),)  # the remaining channels, never removed
PASS_KINDS = {"bn", "prelu", "relu", "maxpool", "gap", "drop"}


@dataclass
class ChannelGraph:
    """The channel dependencies of a network.

    Attributes:
        convs: root conv name → module.
        groups: the prunable groups (roots tied by `+`), in graph order; all of one width.
        sliced: channel-wise modules with parameters (BN, PReLU) and the layout they see.
        consumers: convs and linears with the layout of their input.
        modules: every module by name.
    """

    convs: dict[str, nn.Conv2d]
    groups: list[tuple[str, ...]]
    modules: dict[str, nn.Module]
    sliced: list[tuple[str, Layout]] = field(default_factory=list)
    consumers: list[tuple[str, Layout]] = field(default_factory=list)

    def width(self, group: tuple[str, ...]) -> int:
        """Channels of a group."""
        return self.convs[group[0]].out_channels

    def bns(self, root: str) -> list[nn.BatchNorm2d]:
        """The BN layers that normalise `root`'s channels directly (one segment layouts)."""
        own = ((root, self.convs[root].out_channels),)
        return [m for name, layout in self.sliced
                if layout == own and isinstance(m := self.modules[name], nn.BatchNorm2d)]


def analyse(model: nn.Module) -> ChannelGraph:
    """Trace `model` and find its prunable channel groups."""
    gm = trace(model)
    modules = dict(model.named_modules())
    layouts: dict[fx.Node, Layout | None] = {}
    parent: dict[str, str] = {}
    frozen: set[str] = set()
    graph = ChannelGraph({}, [], modules)

    def find(root: str) -> str:
        while parent[root] != root:
            root = parent[root]
        return root

    def freeze(layout: Layout | None) -> None:
        frozen.update(root for root, _ in layout or () if root)

    for node in gm.graph.nodes:
        kind = node_kind(gm, node)
        ins = [layouts.get(a) for a in tensor_inputs(gm, node)] if node.op != "output" else [
            layouts.get(a) for a in node.all_input_nodes]
        first = ins[0] if ins else None
        out: Layout | None = None
        if kind == "layer":
            module = modules[node.target]
            if first:
                graph.consumers.append((node.target, first))
            if isinstance(module, nn.Conv2d):
                if module.groups != 1:
                    freeze(first)
                graph.convs[node.target] = module
                parent[node.target] = node.target
                out = ((node.target, module.out_channels),)
        elif kind in PASS_KINDS:
            if kind in ("bn", "prelu") and first:
                graph.sliced.append((node.target, first))
            out = first
        elif kind == "flatten" and node.args[0].op == "call_module" and node_kind(
                gm, node.args[0]) == "gap":
            out = first
        elif kind == "cat" and all(ins[:-1]) and all(n > 0 for layout in ins[:-1]
                                                      for _, n in layout):
            # a last input of unknown origin (the network input) is kept whole: REST
            out = tuple(seg for layout in ins[:-1] for seg in layout) + (ins[-1] or REST)
        elif kind == "add" and len(ins) == 2 and all(ins) and [n for _, n in ins[0]] == [
                n for _, n in ins[1]]:
            for (a, _), (b, _) in zip(ins[0], ins[1], strict=True):
                if a and b:
                    parent[find(a)] = find(b)
                else:
                    frozen.update(r for r in (a, b) if r)
            out = ins[0]
        elif kind != "shape":
            for layout in ins:
                freeze(layout)
        layouts[node] = out
    members: dict[str, list[str]] = {}
    for root in graph.convs:
        members.setdefault(find(root), []).append(root)
    blocked = {find(r) for r in frozen}
    graph.groups = [tuple(m) for key, m in members.items() if key not in blocked]
    return graph


def _indices(layout: Layout, keep: dict[str, torch.Tensor], total: int) -> torch.Tensor:
    """Positions kept in a tensor of `layout` with `total` channels."""
    parts, offset = [], 0
    for root, n in layout:
        n = total - offset if n < 0 else n
        mask = keep.get(root)
        idx = torch.arange(n) if mask is None else mask.nonzero().flatten()
        parts.append(idx + offset)
        offset += n
    return torch.cat(parts)


def _select(module: nn.Module, name: str, idx: torch.Tensor, dim: int) -> None:
    tensor = getattr(module, name)
    if tensor is None:
        return
    new = tensor.detach().index_select(dim, idx.to(tensor.device)).clone()
    if isinstance(tensor, nn.Parameter):
        setattr(module, name, nn.Parameter(new, requires_grad=tensor.requires_grad))
    else:
        setattr(module, name, new)


@torch.no_grad()
def remove_channels(model: nn.Module, graph: ChannelGraph,
                    keep: dict[tuple[str, ...], torch.Tensor]) -> nn.Module:
    """Physically remove channels in place; `keep[group]` is a bool mask over its channels.

    Returns the same model with smaller convs, BNs, PReLUs and linears.
    """
    masks: dict[str, torch.Tensor] = {}
    for group, mask in keep.items():
        if not mask.any():
            raise ValueError(f"{group[0]}: cannot remove every channel of a group")
        masks.update({root: mask.cpu() for root in group})
    for root, conv in graph.convs.items():
        if root in masks:
            idx = masks[root].nonzero().flatten()
            _select(conv, "weight", idx, 0)
            _select(conv, "bias", idx, 0)
    for name, layout in graph.sliced:
        module = graph.modules[name]
        idx = _indices(layout, masks, module.weight.shape[0])
        if isinstance(module, nn.BatchNorm2d):
            for attr in ("weight", "bias", "running_mean", "running_var"):
                _select(module, attr, idx, 0)
        elif module.weight.numel() > 1:  # PReLU with one slope per channel
            _select(module, "weight", idx, 0)
    for name, layout in graph.consumers:
        module = graph.modules[name]
        _select(module, "weight", _indices(layout, masks, module.weight.shape[1]), 1)
    refresh_widths(model)
    return model


@torch.no_grad()
def zeroed(graph: ChannelGraph, group: tuple[str, ...]) -> torch.Tensor:
    """Bool mask of the group's channels that are zero everywhere (filter, BN γ and β)."""
    mask = torch.ones(graph.width(group), dtype=torch.bool)
    for root in group:
        conv = graph.convs[root]
        mask &= conv.weight.detach().flatten(1).abs().amax(1).cpu() == 0
        if conv.bias is not None:
            mask &= conv.bias.detach().cpu() == 0
        for bn in graph.bns(root):
            mask &= (bn.weight.detach().cpu() == 0) & (bn.bias.detach().cpu() == 0)
    return mask


@torch.no_grad()
def zero_channels(graph: ChannelGraph, group: tuple[str, ...], channels: torch.Tensor) -> None:
    """Soft-prune: set the filters of `channels` (bool mask) and their BN γ, β to 0."""
    for root in group:
        conv = graph.convs[root]
        conv.weight[channels.to(conv.weight.device)] = 0
        if conv.bias is not None:
            conv.bias[channels.to(conv.bias.device)] = 0
        for bn in graph.bns(root):
            bn.weight[channels.to(bn.weight.device)] = 0
            bn.bias[channels.to(bn.bias.device)] = 0


def remove_zeroed(model: nn.Module) -> nn.Module:
    """Physically remove every zeroed channel of every prunable group (at least one stays)."""
    graph = analyse(model)
    keep = {}
    for group in graph.groups:
        mask = ~zeroed(graph, group)
        if not mask.any():
            mask[0] = True
        keep[group] = mask
    return remove_channels(model, graph, keep)
