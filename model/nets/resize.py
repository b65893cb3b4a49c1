"""Rebuild a pruned network: resize a freshly built model's layers to a state dict's shapes."""

from __future__ import annotations

import torch
from torch import nn

from model.nets.blocks import Classifier, he_normal_


@torch.no_grad()
def fit_to_state(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Give every parameter and buffer of `model` the shape it has in `state`, then load
    `state`; the layers' channel attributes follow. Works on float and QAT networks (a QAT net
    built from the unpruned architecture takes a pruned QAT state). Returns `model`."""
    for name, m in model.named_modules():
        prefix = f"{name}." if name else ""
        for attr, tensor in list(m.named_parameters(recurse=False)) + list(
                m.named_buffers(recurse=False)):
            saved = state.get(prefix + attr)
            if saved is not None and saved.shape != tensor.shape:
                new = torch.empty_like(saved)
                if isinstance(tensor, nn.Parameter):
                    setattr(m, attr, nn.Parameter(new))
                else:
                    setattr(m, attr, new)
    refresh_widths(model)
    model.load_state_dict(state)
    return model


def pruned_shapes(model: nn.Module) -> dict[str, list[int]]:
    """The shape of every parameter and buffer of a (pruned) model, with the classifier's
    class count as −1, so that `resize_to` can rebuild its widths for any class count."""
    shapes = {k: list(v.shape) for k, v in model.state_dict().items() if v.dim()}
    last = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    for k in (f"{last}.weight", f"{last}.bias"):
        if k in shapes:
            shapes[k][0] = -1
    return shapes


@torch.no_grad()
def resize_to(model: nn.Module, shapes: dict[str, list[int]]) -> nn.Module:
    """A freshly built `model` at the widths of `pruned_shapes` (−1: keep the built size),
    with fresh weights (`reinitialise`); the input size and class count are the built ones."""
    state = model.state_dict()
    fit_to_state(model, {k: torch.zeros([b if s == -1 else s for s, b in zip(
        shapes[k], state[k].shape, strict=True)]) if k in shapes else v
        for k, v in state.items()})
    return reinitialise(model)


@torch.no_grad()
def reinitialise(model: nn.Module) -> nn.Module:
    """Fresh weights at the model's current (possibly pruned) widths, as its builder gives:
    every module's `reset_parameters` (BN γ = 1, β = 0, statistics cleared), he_normal convs,
    then `init_identity` where a block has it (the pass-through start of SqNxt blocks)."""
    for m in model.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
    he_normal_(model)
    for m in model.modules():
        if hasattr(m, "init_identity"):
            m.init_identity()
    return model


def refresh_widths(model: nn.Module) -> None:
    """Set the channel attributes of convs, linears, BNs, PReLUs and classifiers from their
    weights' shapes (after the weights were replaced by smaller ones)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.out_channels, m.in_channels = m.weight.shape[0], m.weight.shape[1] * m.groups
        elif isinstance(m, nn.Linear):
            m.out_features, m.in_features = m.weight.shape
        elif isinstance(m, nn.BatchNorm2d):
            m.num_features = m.weight.shape[0]
        elif isinstance(m, nn.PReLU):
            m.num_parameters = m.weight.numel()
        elif isinstance(m, Classifier):
            m.features = m[0].in_features
