"""The training loop that pruning and distillation share: a criterion of (logits, x, y) and a
hook after every optimizer step (re-apply masks), with the `hccr train` optimizer and schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.dataset import ImageSet
from model.loop import channels_last, final_logits, make_optimizer, random_shift, to_input
from model.train import build_checked, read_checkpoint, save_atomic

Criterion = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TuneConfig:
    """Fine-tuning hyper-parameters (defaults: `hccr train`'s, with a lower rate)."""

    epochs: int = 2
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    weight_decay: float = 5e-4
    max_shift: int = 2
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class Checkpoint:
    """Where `tune` keeps its state after every epoch (model, optimizer, schedule, the data
    order's generator), the caller's settings saved with it, and the state to go on from
    (None: start afresh)."""

    path: Path
    settings: dict = field(default_factory=dict)
    state: dict | None = None

    @classmethod
    def open(cls, path: Path, resume: bool, settings: dict) -> Checkpoint:
        """`path` with, when resuming from a file there, the state it holds (read once, here);
        a state saved with other settings is an error."""
        if not (resume and path.is_file()):
            return cls(path, settings)
        state = read_checkpoint(path, ("settings", "model", "optimizer", "scheduler"))
        if state["settings"] != settings:
            raise HccrError(f"{path}: saved with other settings; use a new run folder or the "
                            "same options")
        return cls(path, settings, state)


def cross_entropy(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The plain classification loss (the default criterion)."""
    return nn.functional.cross_entropy(logits, y)


def tune(model: nn.Module, data: ImageSet, config: TuneConfig, criterion: Criterion = cross_entropy,
         after_step: Callable[[int], None] | None = None, description: str = "fine-tune",
         progress: Progress = silent, checkpoint: Checkpoint | None = None) -> float:
    """Train `model` for `config.epochs` epochs; return the last epoch's mean loss.

    Args:
        criterion: loss of (final logits, input batch, labels).
        after_step: called with the step number after every optimizer step.
        progress: shows the steps.
        checkpoint: saved after every epoch; when resuming, training goes on after the
            epoch it holds, as if it had not stopped.
    """
    gen = torch.Generator().manual_seed(config.seed)
    x_all, y_all = to_input(data.images), torch.from_numpy(data.labels)
    steps = -(-len(y_all) // config.batch_size)
    opt, sched = make_optimizer(model, config.optimizer, config.lr, config.weight_decay,
                                config.epochs * steps)
    start, loss_sum = 0, 0.0
    if checkpoint is not None and (ckpt := checkpoint.state) is not None:
        for key, load in (("model", model.load_state_dict), ("optimizer", opt.load_state_dict),
                          ("scheduler", sched.load_state_dict),
                          ("generator", gen.set_state), ("torch_rng", torch.set_rng_state)):
            build_checked(checkpoint.path, key, partial(load, ckpt.get(key)))
        start, loss_sum = build_checked(checkpoint.path, "epoch", lambda: (
            int(ckpt["epoch"]), float(ckpt["loss"])))
    with channels_last(model), progress(description, config.epochs * steps) as advance:
        if start:
            advance(start * steps, f"resumed after epoch {start}/{config.epochs}")
        for epoch in range(start, config.epochs):
            model.train()
            order, loss_sum = torch.randperm(len(y_all), generator=gen), 0.0
            for i in range(steps):
                idx = order[i * config.batch_size : (i + 1) * config.batch_size]
                x = random_shift(x_all[idx], config.max_shift, gen).to(config.device)
                y = y_all[idx].to(config.device)
                loss = criterion(final_logits(model(x)), x, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                if after_step is not None:
                    after_step(epoch * steps + i + 1)
                loss_sum += float(loss.detach()) * len(idx)
                advance(1, f"epoch {epoch + 1}/{config.epochs} loss {float(loss.detach()):.3f}")
            if checkpoint is not None:
                save_atomic({"settings": checkpoint.settings, "epoch": epoch + 1,
                             "loss": loss_sum, "model": model.state_dict(),
                             "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                             "generator": gen.get_state(), "torch_rng": torch.get_rng_state()},
                            checkpoint.path)
    model.eval()
    return loss_sum / max(len(y_all), 1)


def evenly_spread(n: int, k: int) -> np.ndarray:
    """min(k, n) distinct indices into n items, evenly spaced from the first to the last."""
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(np.int64))


@torch.no_grad()
def recalibrate_bn(model: nn.Module, data: ImageSet, images: int, device: str = "cpu",
                   batch_size: int = 250) -> None:
    """Re-estimate every BN's running mean/variance on `images` of `data` spread evenly over
    it (exact averages over the batches, no gradient). Zeroing a channel removes its constant
    output (BN β) from the next layer's input; the next BN's statistics must follow. Spread,
    not the first ones: a data set is stored writer by writer, and at 3755 classes the first
    2000 images are one writer's, whose statistics cost 0.4 points of top-1 on their own."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    x_all = to_input(data.images[evenly_spread(len(data.labels), images)])
    for i in range(0, len(x_all), batch_size):
        model(x_all[i : i + batch_size].to(device))
    for m, momentum in zip(bns, momenta, strict=True):
        m.momentum = momentum
    model.eval()

