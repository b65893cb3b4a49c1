"""Adaptive drop-weight with connection redundancy analysis (seed 002, §4-5, Algorithm 1) and
k-means weight clustering (its §4, after Han et al.).

ADW: every I steps during the first T1 steps, layer i's pruned count grows by r_i·N_i·I/T1;
its threshold becomes the p_i-th smallest |w| and the weights at or below it are zeroed;
pruned weights never come back (they are zeroed again after every step). From T1 to the end
the last threshold stays fixed and keeps pruning. CRA sets r_i: each layer alone is pruned in
growing steps (the others untouched) until held-out top-1 drops by more than the tolerance
(0.1 point); r_i is the last ratio within it. The sparsity is unstructured: the layers keep
their shapes and the zeros are counted, not removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from base.progress import Progress, silent
from model.data.dataset import ImageSet
from model.prune.replay import Replay
from model.prune.tune import TuneConfig, tune

Accuracy = Callable[..., float]
"""accuracy(model, floor=0.0): held-out top-1, or any value below `floor` once it is out of
reach (`model.prune.runs.top1`)."""


@dataclass(frozen=True)
class AdwConfig:
    """ADW + CRA settings.

    Attributes:
        interval: I, steps between threshold increases.
        grow_share: T1 as a share of all fine-tuning steps (T2).
        tolerance: CRA's tolerated top-1 drop per layer (0.001 = 0.1 point).
        step: CRA's ratio increment.
        min_weights: layers with fewer weights are left dense.
    """

    interval: int = 10
    grow_share: float = 0.5
    tolerance: float = 0.001
    step: float = 0.1
    min_weights: int = 256


def layers(model: nn.Module, min_weights: int) -> dict[str, nn.Module]:
    """The convs and linears with at least `min_weights` weights."""
    return {n: m for n, m in model.named_modules()
            if isinstance(m, nn.Conv2d | nn.Linear) and m.weight.numel() >= min_weights}


def threshold(weight: torch.Tensor, count: int) -> float:
    """The `count`-th smallest |w| (−1 when count is 0: nothing is at or below it)."""
    if count <= 0:
        return -1.0
    return float(weight.detach().abs().flatten().kthvalue(min(count, weight.numel())).values)


@torch.no_grad()
def cra(model: nn.Module, targets: dict[str, nn.Module], accuracy: Accuracy, tolerance: float,
        step: float, replay_bytes: int = 0, progress: Progress = silent) -> dict[str, float]:
    """Connection redundancy analysis: the largest ratio per layer within `tolerance`. With
    `replay_bytes`, up to that many bytes of module outputs from the first evaluation replace
    the modules that run before the layer under test (`model.prune.replay`)."""
    replay, ratios = Replay(model, replay_bytes), {}
    with replay.recording():
        base = accuracy(model)
    floor = base - tolerance - 1e-9
    with progress("CRA", len(targets)) as advance:
        for name, m in targets.items():
            saved, ratios[name] = m.weight.detach().clone(), 0.0
            for ratio in np.arange(step, 1.0 - 1e-9, step):
                cut = threshold(saved, round(float(ratio) * saved.numel()))
                m.weight.copy_(saved * (saved.abs() > cut))
                with replay.before(name):
                    if accuracy(model, floor) < floor:
                        break
                ratios[name] = float(ratio)
            m.weight.copy_(saved)
            advance(1, f"{name} {ratios[name]:.1f}")
    return ratios


class DropWeight:
    """Algorithm 1's state: pruned counts, thresholds and keep masks per layer."""

    def __init__(self, targets: dict[str, nn.Module], ratios: dict[str, float], interval: int,
                 t1: int) -> None:
        self.targets, self.ratios, self.interval, self.t1 = targets, ratios, interval, t1
        self.count = dict.fromkeys(targets, 0.0)
        self.cut = dict.fromkeys(targets, -1.0)
        self.keep = {n: torch.ones_like(m.weight, dtype=torch.bool) for n, m in targets.items()}

    @torch.no_grad()
    def __call__(self, t: int) -> None:
        """After optimizer step t: grow the thresholds on schedule, then apply the masks."""
        for name, m in self.targets.items():
            w = m.weight
            if t <= self.t1 and t % self.interval == 0:
                self.count[name] += self.ratios[name] * w.numel() * self.interval / self.t1
                self.cut[name] = threshold(w * self.keep[name], round(self.count[name]))
            if t > self.t1 or t % self.interval == 0:
                self.keep[name] &= w.abs() > self.cut[name]
            w.mul_(self.keep[name])


def adw(model: nn.Module, train_set: ImageSet, ratios: dict[str, float], config: AdwConfig,
        tune_config: TuneConfig, progress: Progress = silent) -> dict[str, float]:
    """Prune with ADW while fine-tuning; returns each layer's final zero share."""
    targets = {n: m for n, m in layers(model, config.min_weights).items() if n in ratios}
    total = tune_config.epochs * -(-len(train_set.labels) // tune_config.batch_size)
    drop = DropWeight(targets, ratios, config.interval, max(round(config.grow_share * total), 1))
    tune(model, train_set, tune_config, after_step=drop, description="ADW", progress=progress)
    return {n: float((m.weight == 0).double().mean()) for n, m in targets.items()}


@torch.no_grad()
def kmeans_1d(values: torch.Tensor, k: int, iterations: int = 30) -> tuple[torch.Tensor,
                                                                         torch.Tensor]:
    """Lloyd's k-means on scalars with linear initialisation: (centroids [k], index [N])."""
    centroids = torch.linspace(float(values.min()), float(values.max()), k, dtype=values.dtype)
    for _ in range(iterations):
        index = (values[:, None] - centroids[None]).abs().argmin(1)
        for j in range(k):
            chosen = values[index == j]
            if len(chosen):
                centroids[j] = chosen.mean()
    return centroids, (values[:, None] - centroids[None]).abs().argmin(1)


@torch.no_grad()
def cluster(targets: dict[str, nn.Module], bits: int, out: Path | None = None
            ) -> dict[str, np.ndarray]:
    """Share the nonzero weights of each layer among 2^bits k-means centroids (zeros stay);
    optionally write the codebook (`<layer>.centroids`, `<layer>.index`, −1 = pruned) as .npz.
    Returns the centroids per layer."""
    book: dict[str, np.ndarray] = {}
    for name, m in targets.items():
        w = m.weight.detach().cpu()
        flat = w.flatten()
        live = flat != 0
        index = torch.full(flat.shape, -1, dtype=torch.int32)
        if live.any():
            centroids, idx = kmeans_1d(flat[live], min(2**bits, int(live.sum())))
            index[live] = idx.to(torch.int32)
            flat = torch.where(live, centroids[index.clamp(min=0).long()], flat)
            book[f"{name}.centroids"] = centroids.numpy()
        book[f"{name}.index"] = index.reshape(w.shape).numpy()
        m.weight.copy_(flat.reshape(w.shape).to(m.weight.device))
    if out is not None:
        np.savez_compressed(out, **book)
    return {k[: -len(".centroids")]: v for k, v in book.items() if k.endswith(".centroids")}
