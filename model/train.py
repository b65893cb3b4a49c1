"""Train a network on preprocessed images: SGD/Adam, cosine schedule, checkpoints with resume."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from flow.console import HccrError, console, progress
from model.data.dataset import ImageSet
from model.nets import build

CHECKPOINT = "checkpoint.pt"  # latest epoch, with optimizer state, for --resume
MODEL = "model.pt"  # final weights + config + class list, what later stages read
METRICS = "metrics.json"


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
    seed: int = 0
    device: str = "cpu"


def to_input(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 [N, S, S] images → float [N, 1, S, S] in [0, 1] (scale 1/255, zero point 0)."""
    return torch.from_numpy(images).to(device).unsqueeze(1).float().div_(255.0)


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
    return padded[batch, 0:1, rows, cols]


@torch.no_grad()
def evaluate(model: nn.Module, data: ImageSet, batch_size: int = 256,
             device: str = "cpu") -> dict[str, float]:
    """Top-1 and top-5 accuracy of `model` on `data` (labels already model indices)."""
    model.eval()
    correct1 = correct5 = 0
    for start in range(0, len(data.labels), batch_size):
        x = to_input(data.images[start : start + batch_size], device)
        y = torch.from_numpy(data.labels[start : start + batch_size]).to(device)
        logits = model(x)
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        correct1 += int((top[:, 0] == y).sum())
        correct5 += int((top == y[:, None]).any(dim=1).sum())
    n = max(len(data.labels), 1)
    return {"images": len(data.labels), "top1": correct1 / n, "top5": correct5 / n}


def _save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(".partial")
    torch.save(obj, tmp)
    tmp.replace(path)


def train(config: TrainConfig, train_set: ImageSet, test_set: ImageSet, classes: np.ndarray,
          out_dir: Path, resume: bool = False) -> dict:
    """Train, checkpointing every epoch; return the metrics written to `metrics.json`.

    Args:
        config: hyper-parameters.
        train_set, test_set: images with labels already mapped to positions in `classes`.
        classes: GB2312 level-1 class index of each model output.
        out_dir: where checkpoint.pt, model.pt and metrics.json go.
        resume: continue from out_dir/checkpoint.pt if it exists.
    """
    if config.device == "cuda" and not torch.cuda.is_available():
        raise HccrError("--device cuda requested but no CUDA device is available")
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = build(config.arch, len(classes), config.size).to(config.device)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                              weight_decay=config.weight_decay)
    elif config.optimizer == "adam":
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        raise HccrError(f"unknown optimizer {config.optimizer!r} (sgd or adam)")
    steps_per_epoch = -(-len(train_set.labels) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.15,
        anneal_strategy="cos")
    gen = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    start_epoch = 0
    ckpt_path = out_dir / CHECKPOINT
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        if ckpt["config"] != asdict(config):
            raise HccrError(f"{ckpt_path}: saved config differs from the requested one; "
                            "use a new run directory or the same options")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        gen.set_state(ckpt["generator"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt["history"]
        console.print(f"resuming {ckpt_path} at epoch {start_epoch + 1}")

    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    x_all = to_input(train_set.images)
    y_all = torch.from_numpy(train_set.labels)
    t0 = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("train", total=(config.epochs - start_epoch) * steps_per_epoch,
                            info="")
        for epoch in range(start_epoch, config.epochs):
            model.train()
            order = torch.randperm(len(y_all), generator=gen)
            loss_sum = correct = 0.0
            for i in range(steps_per_epoch):
                idx = order[i * config.batch_size : (i + 1) * config.batch_size]
                x = _random_shift(x_all[idx], config.max_shift, gen).to(config.device)
                y = y_all[idx].to(config.device)
                logits = model(x)
                loss = loss_fn(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += float(loss) * len(idx)
                correct += int((logits.argmax(1) == y).sum())
                bar.update(task, advance=1, info=f"epoch {epoch + 1}/{config.epochs} "
                                                 f"loss {float(loss):.3f}")
            test = evaluate(model, test_set, device=config.device)
            n = len(y_all)
            history.append({"epoch": epoch + 1, "loss": loss_sum / n, "train_top1": correct / n,
                            "test_top1": test["top1"]})
            bar.update(task, info=f"epoch {epoch + 1} test top-1 {test['top1']:.3f}")
            _save_atomic({"config": asdict(config), "classes": classes.tolist(),
                          "model": model.state_dict(), "optimizer": opt.state_dict(),
                          "scheduler": sched.state_dict(), "generator": gen.get_state(),
                          "epoch": epoch, "history": history}, ckpt_path)

    final = evaluate(model, test_set, device=config.device)
    metrics = {**final, "train_images": len(train_set.labels), "classes": len(classes),
               "epochs": config.epochs, "train_seconds": round(time.perf_counter() - t0, 1),
               "history": history}
    _save_atomic({"config": asdict(config), "classes": classes.tolist(),
                  "model": {k: v.cpu() for k, v in model.state_dict().items()}},
                 out_dir / MODEL)
    (out_dir / METRICS).write_text(json.dumps(metrics, indent=2))
    return metrics


def load_trained(run_dir: str | Path) -> tuple[nn.Module, np.ndarray, TrainConfig]:
    """Load `model.pt` from a training run: the model (eval mode), its classes and config."""
    path = Path(run_dir) / MODEL
    if not path.exists():
        raise HccrError(f"{path}: not found (train first: hccr train ... --run {run_dir})")
    ckpt = torch.load(path, weights_only=False)
    config = TrainConfig(**ckpt["config"])
    classes = np.array(ckpt["classes"], np.int64)
    model = build(config.arch, len(classes), config.size)
    model.load_state_dict(ckpt["model"])
    return model.eval(), classes, config
