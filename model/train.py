"""Train a network on preprocessed images: SGD/Adam, cosine schedule, checkpoints with resume."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.dataset import ImageSet, load_images
from model.nets import ARCHITECTURES, build
from model.nets.fire import THRESHOLD, cascade_evaluate
from model.prune.resize import fit_to_state

CHECKPOINT = "checkpoint.pt"  # latest epoch, with optimizer state, for --resume
MODEL = "model.pt"  # final weights + config + class list, what later stages read
METRICS = "metrics.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved in the checkpoint)."""

    arch: str = "baseline"
    size: int = 64
    epochs: int = 12
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.05
    weight_decay: float = 5e-4
    max_shift: int = 2
    label_smoothing: float = 0.1  # 0 for early-exit cascades: it caps every softmax below 0.98
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise HccrError(f"--arch {self.arch!r} unknown; known: {', '.join(ARCHITECTURES)}")
        if self.device not in ("cpu", "cuda"):
            raise HccrError(f"--device must be cpu or cuda, got {self.device!r}")


def to_input(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 [N, S, S] images → float [N, 1, S, S] in [0, 1] (scale 1/255, zero point 0)."""
    return torch.from_numpy(images).to(device).unsqueeze(1).float().div_(255.0)


def final_logits(outputs: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The logits of the last exit (networks with early exits return one per exit)."""
    return outputs[-1] if isinstance(outputs, tuple) else outputs


def _random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
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


def _save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(".partial")
    torch.save(obj, tmp)
    tmp.replace(path)


Schedule = torch.optim.lr_scheduler.LRScheduler


def make_optimizer(model: nn.Module, kind: str, lr: float, weight_decay: float,
                   total_steps: int) -> tuple[torch.optim.Optimizer, Schedule]:
    """SGD (Nesterov) or AdamW with a cosine one-cycle schedule over `total_steps`."""
    if kind == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                              weight_decay=weight_decay)
    elif kind == "adam":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
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
    rank: int = 0  # this process's share of each batch under DDP (see `distributed`)
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
                x = _random_shift(x_all[idx], loop.max_shift, loop.gen)[loop.rank :: loop.world]
                x = x.to(loop.device)
                y = y_all[idx[loop.rank :: loop.world]].to(loop.device)
                outputs = model(x)
                logits = final_logits(outputs)
                # Early-exit networks return every exit's logits; each exit is trained.
                loss = (sum(loss_fn(o, y) for o in outputs) if isinstance(outputs, tuple)
                        else loss_fn(logits, y))
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


def distributed(device: str) -> tuple[int, int, str]:
    """Join the process group when launched by `torchrun` (WORLD_SIZE > 1): gloo on the CPU,
    NCCL on GPUs, one GPU per process (LOCAL_RANK). Returns (rank, world size, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    if device == "cuda":
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return dist.get_rank(), world, device


def train(config: TrainConfig, train_set: ImageSet, test_set: ImageSet, classes: np.ndarray,
          out_dir: Path, resume: bool = False, progress: Progress = silent) -> dict:
    """Train, checkpointing every epoch; return the metrics written to `metrics.json`.

    Args:
        config: hyper-parameters.
        train_set, test_set: images with labels already mapped to positions in `classes`.
        classes: GB2312 level-1 class index of each model output.
        out_dir: where checkpoint.pt, model.pt and metrics.json go.
        resume: continue from out_dir/checkpoint.pt if it exists.
        progress: shows the steps of every epoch.

    Launched by `torchrun`, each process trains on its share of every batch (DDP) and
    process 0 writes the files.
    """
    if config.device == "cuda" and not torch.cuda.is_available():
        raise HccrError("--device cuda requested but no CUDA device is available")
    rank, world, device = distributed(config.device)
    try:
        return _train(config, train_set, test_set, classes, out_dir, resume, rank, world, device,
                      progress)
    finally:
        if world > 1:
            dist.destroy_process_group()


def _train(config: TrainConfig, train_set: ImageSet, test_set: ImageSet, classes: np.ndarray,
           out_dir: Path, resume: bool, rank: int, world: int, device: str,
           progress: Progress) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = build(config.arch, len(classes), config.size).to(device)
    steps_per_epoch = -(-len(train_set.labels) // config.batch_size)
    opt, sched = make_optimizer(model, config.optimizer, config.lr, config.weight_decay,
                                config.epochs * steps_per_epoch)
    loop = Loop(opt, sched, torch.Generator().manual_seed(config.seed), config.epochs,
                config.batch_size, config.max_shift, device,
                label_smoothing=config.label_smoothing, rank=rank, world=world, progress=progress)
    history: list[dict] = []
    start_epoch = 0
    ckpt_path = out_dir / CHECKPOINT
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        if TrainConfig(**ckpt["config"]) != config:
            raise HccrError(f"{ckpt_path}: saved config differs from the requested one; "
                            "use a new run directory or the same options")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        loop.gen.set_state(ckpt["generator"])
        if "torch_rng" in ckpt:  # dropout draws from it (absent in older checkpoints)
            torch.set_rng_state(ckpt["torch_rng"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt["history"]
        if rank == 0:
            log.info(f"resuming {ckpt_path} at epoch {start_epoch + 1}")

    def checkpoint(epoch: int, history: list[dict]) -> None:
        if rank == 0:
            _save_atomic({"config": asdict(config), "classes": classes.tolist(),
                          "model": model.state_dict(), "optimizer": opt.state_dict(),
                          "scheduler": sched.state_dict(), "generator": loop.gen.get_state(),
                          "torch_rng": torch.get_rng_state(), "epoch": epoch,
                          "history": history}, ckpt_path)

    net = model
    if world > 1:
        net = DistributedDataParallel(
            model, device_ids=[torch.device(device)] if device != "cpu" else None)
    t0 = time.perf_counter()
    history = fit(net, loop, train_set, test_set, start_epoch, history, on_epoch_end=checkpoint)
    final = evaluate(model, test_set, device=device)
    metrics = {**final, "train_images": len(train_set.labels), "classes": len(classes),
               "epochs": config.epochs, "processes": world,
               "train_seconds": round(time.perf_counter() - t0, 1), "history": history}
    if rank == 0:
        _save_atomic({"config": asdict(config), "classes": classes.tolist(),
                      "model": {k: v.cpu() for k, v in model.state_dict().items()}},
                     out_dir / MODEL)
        (out_dir / METRICS).write_text(json.dumps(metrics, indent=2))
    return metrics


def load_trained(run_dir: str | Path) -> tuple[nn.Module, np.ndarray, TrainConfig]:
    """Load `model.pt` from a training, pruning or distillation run: the model (eval mode, its
    layers as narrow as the saved state's), its classes and config."""
    path = Path(run_dir) / MODEL
    if not path.exists():
        raise HccrError(f"{path}: not found (train, prune or distill into {run_dir} first)")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    config = TrainConfig(**ckpt["config"])
    classes = np.array(ckpt["classes"], np.int64)
    model = fit_to_state(build(config.arch, len(classes), config.size), ckpt["model"])
    return model.eval(), classes, config


def train_on_files(config: TrainConfig, train_data: Path, test_data: Path, out_dir: Path,
                   resume: bool = False, skip_bad: bool = False,
                   progress: Progress = silent) -> dict:
    """Load `.gnt` data and train; the classes are those present in the training data."""
    train_set = load_images(train_data, config.size, skip_bad)
    classes = np.unique(train_set.labels)
    train_set, _ = train_set.restrict(classes)
    test_set, dropped = load_images(test_data, config.size, skip_bad).restrict(classes)
    log.info(f"{len(train_set.labels)} training and {len(test_set.labels)} test images, "
             f"{len(classes)} classes ({dropped} test images of unknown classes skipped)")
    return train(config, train_set, test_set, classes, out_dir, resume, progress)


@torch.no_grad()
def evaluate_run(run_dir: Path, data: Path, skip_bad: bool = False,
                 threshold: float = THRESHOLD) -> dict:
    """Evaluate a trained run on `.gnt` data: images, top1, top5 and skipped (unknown classes);
    for an early-exit cascade also `cascade` (`model.nets.fire.cascade_evaluate` at
    `threshold`: exit distribution, accuracy against running to the end, MACs)."""
    model, classes, config = load_trained(run_dir)
    data_set, skipped = load_images(data, config.size, skip_bad).restrict(classes)
    result = {**evaluate(model, data_set), "skipped": skipped}
    if getattr(model, "cascade", False):
        result["cascade"] = cascade_evaluate(model, data_set, config.size, threshold)
    return result
