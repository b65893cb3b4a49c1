"""Network slimming (seed 001, Eq. 7-8): train with an L1 penalty λ·Σ|γ| on the BN scaling
factors, remove the channels whose |γ| is below one global threshold (the `ratio` quantile of
all prunable channels), fine-tune.

A group tied by `+` (`channels`) scores a channel by the sum of |γ| over its convs' BNs;
groups without a BN are never pruned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from base.progress import Progress, silent
from model.data.dataset import ImageSet
from model.prune.asfp import Group, stage_of
from model.prune.channels import ChannelGraph, analyse, remove_channels
from model.prune.tune import TuneConfig, cross_entropy, tune


@dataclass(frozen=True)
class SlimConfig:
    """Slimming settings.

    Attributes:
        ratio: share of the prunable channels removed (0.4, 0.6 in seed 001).
        lam: λ of the L1 penalty on γ during sparsity training.
        sparsity_epochs: epochs of sparsity training before the threshold.
        scope: top-level modules to prune (empty: every prunable group).
        multiple: kept channels per group rounded to a multiple of this (1: no rounding).
    """

    ratio: float = 0.4
    lam: float = 1e-4
    sparsity_epochs: int = 2
    scope: tuple[str, ...] = ()
    multiple: int = 1


def prunable(graph: ChannelGraph, scope: tuple[str, ...]) -> list[Group]:
    """The groups in `scope` whose convs all have a BN directly after them."""
    return [g for g in graph.groups if (not scope or stage_of(g) in scope)
            and all(graph.bns(r) for r in g)]


def gammas(graph: ChannelGraph, groups: list[Group]) -> list[torch.Tensor]:
    """The BN scaling factors of the groups' convs (with gradients)."""
    return [bn.weight for g in groups for r in g for bn in graph.bns(r)]


def scores(graph: ChannelGraph, groups: list[Group]) -> dict[Group, torch.Tensor]:
    """Σ|γ| per channel of each group."""
    return {g: sum(bn.weight.detach().abs().cpu() for r in g for bn in graph.bns(r))
            for g in groups}


def threshold_masks(group_scores: dict[Group, torch.Tensor], ratio: float, multiple: int = 1
                    ) -> dict[Group, torch.Tensor]:
    """Keep masks: channels above the global `ratio` quantile of all scores, and at least
    the best channel of every group; with `multiple` > 1 each group keeps its best n channels,
    n = its count above the quantile rounded to the nearest multiple (at least one multiple,
    at most the group), so that the widths fill an accelerator's PE/SIMD lanes."""
    every = torch.cat(list(group_scores.values()))
    cut = int(ratio * len(every))
    threshold = every.sort().values[cut - 1] if cut > 0 else every.min() - 1
    keep = {}
    for g, s in group_scores.items():
        above = int((s > threshold).sum())
        n = min(len(s), max(multiple, multiple * math.floor(above / multiple + 0.5)))
        mask = torch.zeros(len(s), dtype=torch.bool)
        mask[s.argsort(descending=True, stable=True)[:n]] = True
        keep[g] = mask
    return keep


def slim(model: nn.Module, train_set: ImageSet, config: SlimConfig, tune_config: TuneConfig,
         progress: Progress = silent) -> tuple[nn.Module, dict[Group, torch.Tensor]]:
    """Sparsity-train, threshold and remove; returns the smaller model (not yet fine-tuned)
    and the keep masks."""
    graph = analyse(model)
    groups = prunable(graph, config.scope)
    factors = gammas(graph, groups)

    def penalised(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return cross_entropy(logits, x, y) + config.lam * sum(g.abs().sum() for g in factors)

    sparse = TuneConfig(**{**tune_config.__dict__, "epochs": config.sparsity_epochs})
    if config.sparsity_epochs:
        tune(model, train_set, sparse, penalised, description="slimming: sparsity",
             progress=progress)
    keep = threshold_masks(scores(graph, groups), config.ratio, config.multiple)
    return remove_channels(model, graph, keep), keep
