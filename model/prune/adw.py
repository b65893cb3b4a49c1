"""Adaptive drop-weight with connection redundancy analysis (seed 002, §4-5, Algorithm 1) and
k-means weight clustering (its §4, after Han et al.).

ADW: every I steps during the first T1 steps, layer i's pruned count grows by r_i·N_i·I/T1;
its threshold becomes the p_i-th smallest |w| and the weights at or below it are zeroed;
pruned weights never come back (they are zeroed again after every step). From T1 to the end
the last threshold stays fixed and keeps pruning. CRA sets r_i: each layer alone is pruned in
growing steps (the others fixed) until held-out top-1 drops by more than the tolerance
(0.1 point); r_i is the last ratio within it. As the paper runs it (§5, `cra_adw`), each step
is ADW: the layer alone is trained while its threshold grows; `cra` is the one-shot magnitude
variant (no training, much faster). The paper then prunes the convolutions well below their
CRA ratios (§7.4, Fig. 7): `lowered` scales them. The sparsity is unstructured: the layers
keep their shapes and the zeros are counted, not removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
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
        cra: 'adw' (the paper: each layer trained while it is pruned) or 'magnitude' (one shot).
        cra_batches: CRA 'adw': training batches per ratio step.
        conv_scale: factor on the convolutions' CRA ratios (the paper lowers them; 1: as is).
    """

    interval: int = 10
    grow_share: float = 0.5
    tolerance: float = 0.001
    step: float = 0.1
    min_weights: int = 256
    cra: str = "adw"
    cra_batches: int = 20
    conv_scale: float = 0.7


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


class _Stop(Exception):
    """Ends CRA's training of one layer at the first ratio out of tolerance."""


def cra_adw(model: nn.Module, targets: dict[str, nn.Module], train_set: ImageSet,
            accuracy: Accuracy, config: AdwConfig, tune_config: TuneConfig,
            progress: Progress = silent) -> dict[str, float]:
    """CRA as seed 002 §5 runs it: per layer, only that layer is trained (every other
    parameter and BN statistic fixed) while ADW grows its pruned share by `config.step` every
    `config.cra_batches` batches; after each step held-out top-1 is measured, and r_i is the
    last share within `config.tolerance`. The model is restored after each layer."""
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    grads = {n: p.requires_grad for n, p in model.named_parameters()}
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    floor = accuracy(model) - config.tolerance - 1e-9
    steps = np.arange(config.step, 1.0 - 1e-9, config.step)
    total = config.cra_batches * len(steps)
    per_epoch = -(-len(train_set.labels) // tune_config.batch_size)
    tune_config = replace(tune_config, epochs=-(-total // per_epoch))
    ratios: dict[str, float] = {}
    with progress("CRA (ADW)", len(targets)) as advance:
        for name, m in targets.items():
            ratios[name] = 0.0
            model.requires_grad_(False)
            m.weight.requires_grad_(True)
            for bn in bns:
                bn.momentum = 0.0  # running statistics stay as they are
            drop = DropWeight({name: m}, {name: float(steps[-1])},
                              min(config.interval, config.cra_batches), total)

            def measure(t: int, name: str = name, m: nn.Module = m,
                        drop: DropWeight = drop) -> None:
                drop(t)
                if t % config.cra_batches:
                    return
                model.eval()
                ok = accuracy(model, floor) >= floor
                model.train()
                if not ok:
                    raise _Stop
                share = float((m.weight == 0).double().mean())
                ratios[name] = round(share / config.step) * config.step
                if t >= total:
                    raise _Stop

            with contextlib.suppress(_Stop):
                tune(model, train_set, tune_config, after_step=measure,
                     description=f"CRA {name}")
            model.load_state_dict(saved)
            model.eval()
            advance(1, f"{name} {ratios[name]:.2f}")
    for n, p in model.named_parameters():
        p.requires_grad_(grads[n])
    for bn, momentum in zip(bns, momenta, strict=True):
        bn.momentum = momentum
    return ratios


def lowered(ratios: dict[str, float], targets: dict[str, nn.Module], scale: float
            ) -> dict[str, float]:
    """The CRA ratios with the convolutions' multiplied by `scale` (the FCs' as they are)."""
    return {n: r * scale if isinstance(targets[n], nn.Conv2d) else r for n, r in ratios.items()}


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
    t1 = max(round(config.grow_share * total), 1)
    drop = DropWeight(targets, ratios, min(config.interval, t1), t1)  # a run shorter than I
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
