"""The training loop every trainer shares: input scaling, augmentation, optimizer and schedule,
`fit` (epochs with DDP support) and `evaluate` (top-1/top-5).

Below `model.train` (runs, checkpoints) and `model.nets` (whose staged trainers call `fit`),
so that neither imports the other's package back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.dataset import ImageSet

log = logging.getLogger(__name__)


def to_input(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 [N, S, S] images → float [N, 1, S, S] in [0, 1] (scale 1/255, zero point 0)."""
    return torch.from_numpy(images).to(device).unsqueeze(1).float().div_(255.0)


def final_logits(outputs: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The logits of the last exit (networks with early exits return one per exit)."""
    return outputs[-1] if isinstance(outputs, tuple) else outputs


def exit_loss(outputs: torch.Tensor | tuple[torch.Tensor, ...], y: torch.Tensor,
              loss_fn: nn.Module, weights: tuple[float, ...] | None = None) -> torch.Tensor:
    """The loss of a network's logits; with early exits Σ w_i · loss(exit_i) over the exits
    whose weight is not 0 (every weight 1 when `weights` is None: multi-task training)."""
    if not isinstance(outputs, tuple):
        return loss_fn(outputs, y)
    weights = weights or (1.0,) * len(outputs)
    return sum(w * loss_fn(o, y) for w, o in zip(weights, outputs, strict=True) if w)


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ±max_shift pixels (zero fill): cheap augmentation."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].to(x.device)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].to(x.device)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    return padded[:, 0][batch, rows, cols]


@contextmanager
def channels_last(model: nn.Module) -> Iterator[nn.Module]:
    """`model` with its 4-d weights in channels-last order while the block runs, in the order
    they had before after it (values unchanged). oneDNN's NHWC convolutions train our float
    networks 1.2-1.5× faster on a CPU (QAT's fake quantisers run slower in it, so QAT stays
    as is)."""
    weights = [p for p in model.parameters() if p.dim() == 4]
    before = (torch.channels_last if any(not w.is_contiguous() for w in weights)
              else torch.contiguous_format)
    model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        model.to(memory_format=before)


@torch.no_grad()
def evaluate(model: nn.Module, data: ImageSet, batch_size: int = 256,
             device: str = "cpu", floor: float = 0.0) -> dict[str, float]:
    """Top-1 and top-5 accuracy of `model` on `data` (labels already model indices). With a
    `floor`, stops as soon as top-1 can no longer reach it (the counts then cover the images
    seen so far, and top-1 is below `floor`)."""
    model.eval()
    correct1 = correct5 = 0
    for start in range(0, len(data.labels), batch_size):
        if correct1 + len(data.labels) - start < floor * len(data.labels):
            break
        x = to_input(data.images[start : start + batch_size], device)
        y = torch.from_numpy(data.labels[start : start + batch_size]).to(device)
        logits = final_logits(model(x))
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        correct1 += int((top[:, 0] == y).sum())
        correct5 += int((top == y[:, None]).any(dim=1).sum())
    n = max(len(data.labels), 1)
    return {"images": len(data.labels), "top1": correct1 / n, "top5": correct5 / n}


Schedule = torch.optim.lr_scheduler.LRScheduler


def make_optimizer(model: nn.Module, kind: str, lr: float, weight_decay: float,
                   total_steps: int) -> tuple[torch.optim.Optimizer, Schedule]:
    """SGD (Nesterov) or AdamW over the parameters that require gradients, with a cosine
    one-cycle schedule over `total_steps`."""
    params = [p for p in model.parameters() if p.requires_grad]
    if kind == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True,
                              weight_decay=weight_decay)
    elif kind == "adam":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    else:
        raise HccrError(f"unknown optimizer {kind!r} (sgd or adam)")
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(total_steps, 1),
                                                pct_start=0.15, anneal_strategy="cos")
    return opt, sched


@dataclass
class Loop:
    """What one run of `fit` needs besides the model and data."""

    opt: torch.optim.Optimizer
    sched: Schedule
    gen: torch.Generator
    epochs: int
    batch_size: int
    max_shift: int = 0
    device: str = "cpu"
    description: str = "train"
    label_smoothing: float = 0.1
    exit_weights: tuple[float, ...] | None = None  # per exit (`exit_loss`); None: all 1
    rank: int = 0  # this process's share of each batch under DDP (`model.train.distributed`)
    world: int = 1
    progress: Progress = silent  # shown by process 0 only


def fit(model: nn.Module, loop: Loop, train_set: ImageSet, test_set: ImageSet,
        start_epoch: int = 0, history: list[dict] | None = None,
        on_epoch_start: Callable[[int], None] | None = None,
        on_epoch_end: Callable[[int, list[dict]], None] | None = None) -> list[dict]:
    """Run the epochs `start_epoch..loop.epochs-1`, showing the steps through `loop.progress`;
    return the history (loss, train and held-out top-1 per epoch).

    Under DDP (`loop.world` > 1, `model` wrapped in DistributedDataParallel) every process
    draws the same batches and trains on its `rank::world` slice of each, so the steps,
    schedule and augmentation do not depend on the number of processes.
    """
    history = list(history or [])
    loss_fn = nn.CrossEntropyLoss(label_smoothing=loop.label_smoothing)
    x_all = to_input(train_set.images)
    y_all = torch.from_numpy(train_set.labels)
    steps = -(-len(y_all) // loop.batch_size)
    if 0 < len(y_all) % loop.batch_size < loop.world:
        steps -= 1  # a last batch smaller than the process count would leave one empty
    progress = loop.progress if loop.rank == 0 else silent
    with progress(loop.description, (loop.epochs - start_epoch) * steps) as advance:
        for epoch in range(start_epoch, loop.epochs):
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            model.train()
            order = torch.randperm(len(y_all), generator=loop.gen)
            loss_sum = correct = 0.0
            for i in range(steps):
                idx = order[i * loop.batch_size : (i + 1) * loop.batch_size]
                x = random_shift(x_all[idx], loop.max_shift, loop.gen)[loop.rank :: loop.world]
                x = x.to(loop.device)
                y = y_all[idx[loop.rank :: loop.world]].to(loop.device)
                outputs = model(x)
                logits = final_logits(outputs)
                loss = exit_loss(outputs, y, loss_fn, loop.exit_weights)
                loop.opt.zero_grad(set_to_none=True)
                loss.backward()
                loop.opt.step()
                loop.sched.step()
                loss_value = float(loss.detach())
                loss_sum += loss_value * len(y)
                correct += int((logits.argmax(1) == y).sum())
                advance(1, f"epoch {epoch + 1}/{loop.epochs} loss {loss_value:.3f}")
            loss_sum, correct = _sum_over_processes((loss_sum, correct), loop)
            test = evaluate(getattr(model, "module", model), test_set, device=loop.device)
            history.append({"epoch": epoch + 1, "loss": loss_sum / len(y_all),
                            "train_top1": correct / len(y_all), "test_top1": test["top1"]})
            advance(0, f"epoch {epoch + 1} held-out top-1 {test['top1']:.3f}")
            if loop.rank == 0:
                log.info("epoch {epoch}: loss {loss:.4f}, train top-1 {train_top1:.4f}, "
                         "held-out top-1 {test_top1:.4f}".format(**history[-1]))
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
    return history


def _sum_over_processes(values: tuple[float, ...], loop: Loop) -> tuple[float, ...]:
    """Sum per-process statistics over the DDP processes (identity without DDP)."""
    if loop.world == 1:
        return values
    total = torch.tensor(values, dtype=torch.float64, device=loop.device)
    dist.all_reduce(total)
    return tuple(total.tolist())
