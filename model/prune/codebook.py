"""Seed 002's last step: fine-tune the clustered weights, and count the compressed size.

`finetune_clustered` trains the k-means centroids that `adw.cluster` left (Han et al.'s trained
quantization, which seed 002 §4 follows): each clustered layer's weight becomes
centroids[index] (0 where pruned), so a centroid's gradient is the sum of its weights'
gradients and pruned weights stay zero.

`compressed_bytes` counts storage as seed 002 Tables 3-4 do (after Han et al.): per sparse
layer one entry per stored weight, each a `bits`-bit cluster index (32-bit float when
unclustered) plus an `index_bits`-bit relative position (the jump from the previous entry, 1 …
2^index_bits; a longer jump stores filler entries), and a codebook of 2^bits float32
centroids; every other float (BN and its statistics, PReLU, biases, small layers) as float32.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from base.progress import Progress, silent
from model.data.dataset import ImageSet
from model.prune.tune import TuneConfig, tune

FLOAT_BITS = 32
INDEX_BITS = 5  # relative-position bits (Han et al. use 5 for FCs; seed 002 gives none)
MB = 2**20  # the paper's 41.5 MB is CNN9Layer's 10.9 M float32 weights in MiB


class Shared(nn.Module):
    """weight = centroids[index] where index ≥ 0, else 0 (a parametrization of `weight`)."""

    def __init__(self, index: torch.Tensor, clusters: int) -> None:
        super().__init__()
        self.register_buffer("index", index.clamp(min=0).long())
        self.register_buffer("live", index >= 0)
        self.clusters = clusters

    def forward(self, centroids: torch.Tensor) -> torch.Tensor:
        return centroids[self.index] * self.live

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        """The centroids: each cluster's mean weight."""
        idx, w = self.index[self.live], weight[self.live]
        sums = weight.new_zeros(self.clusters).index_add_(0, idx, w)
        counts = weight.new_zeros(self.clusters).index_add_(0, idx, torch.ones_like(w))
        return sums / counts.clamp(min=1)


def finetune_clustered(model: nn.Module, targets: dict[str, nn.Module],
                       book: dict[str, np.ndarray], train_set: ImageSet, config: TuneConfig,
                       progress: Progress = silent) -> dict[str, np.ndarray]:
    """Train the centroids of `book` (`adw.cluster`'s codebook: `<layer>.index`) with the
    rest of the network; returns the trained centroids per layer."""
    for name, m in targets.items():
        index = torch.from_numpy(book[f"{name}.index"]).to(m.weight.device)
        parametrize.register_parametrization(m, "weight", Shared(index, int(index.max()) + 1))
    try:
        tune(model, train_set, config, description="tune centroids", progress=progress)
        return {n: m.parametrizations.weight.original.detach().cpu().numpy()
                for n, m in targets.items()}
    finally:
        for m in targets.values():
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)


def sparse_entries(weight: torch.Tensor, index_bits: int) -> int:
    """Entries of the relative-index sparse format: ⌈jump / 2^index_bits⌉ per stored weight."""
    where = torch.nonzero(weight.detach().flatten()).flatten().cpu().numpy()
    jumps = np.diff(where, prepend=-1)
    return int(np.sum(-(-jumps // 2**index_bits)))


def compressed_bytes(model: nn.Module, targets: dict[str, nn.Module], bits: int | None,
                     index_bits: int) -> dict[str, float]:
    """Storage of `model` with `targets` sparse (clustered at `bits` bits, or float32 values
    when None): bytes per part and the total in MB (2^20 bytes)."""
    sparse = {f"{n}.weight" for n in targets}
    dense = sum(p.numel() for k, p in model.state_dict().items()
                if k not in sparse and p.is_floating_point())
    entries = {n: sparse_entries(m.weight, index_bits) for n, m in targets.items()}
    value_bits = FLOAT_BITS if bits is None else bits
    out = {"dense_bytes": dense * FLOAT_BITS / 8,
           "values_bytes": sum(entries.values()) * value_bits / 8,
           "sparse_index_bytes": sum(entries.values()) * index_bits / 8,
           "codebook_bytes": 0.0 if bits is None else len(targets) * 2**bits * FLOAT_BITS / 8,
           "dense_model_bytes": sum(p.numel() for p in model.parameters()) * FLOAT_BITS / 8}
    out["total_bytes"] = sum(v for k, v in out.items() if k != "dense_model_bytes")
    out["total_mb"] = out["total_bytes"] / MB
    out["dense_model_mb"] = out["dense_model_bytes"] / MB
    return out
