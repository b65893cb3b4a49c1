"""Train a network on preprocessed images (`model.loop`), with checkpoints and resume."""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.classes import NUM_CLASSES
from model.data.dataset import ImageSet, load_images
from model.loop import Loop, channels_last, evaluate, fit, make_optimizer
from model.nets import ARCHITECTURES, build
from model.nets.blocks import attention_orders
from model.nets.fire import HEADS, THRESHOLD, TRAINING, cascade_evaluate
from model.nets.resize import fit_to_state

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
    attention: str = ""  # SqNxt: C-CBAM orders at I, II, III (`attention_orders`); "": arch's
    head: str = "gwap"  # Fire networks: the final output's pooling (`model.nets.fire.HEADS`)
    exit_training: str = "staged"  # Fire cascade: `model.nets.fire.TRAINING`
    exit_epochs: int = 0  # staged cascade: epochs of the exit stage (0: as many as `epochs`)
    binarize: bool = False  # preprocessing: seed 000's mean-grey binarisation
    bottleneck: int = 0  # seed 003: width of the FC bottleneck before the classifier (0: none)

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise HccrError(f"--arch {self.arch!r} unknown; known: {', '.join(ARCHITECTURES)}")
        if self.device not in ("cpu", "cuda"):
            raise HccrError(f"--device must be cpu or cuda, got {self.device!r}")
        if self.bottleneck and "bottleneck" not in inspect.signature(
                ARCHITECTURES[self.arch]).parameters:
            raise HccrError(f"--bottleneck is for networks with an FC classifier option, not "
                            f"--arch {self.arch}")
        if self.attention:
            if not self.arch.startswith("sqnxt"):
                raise HccrError(f"--attention is for the sqnxt networks, not --arch {self.arch}")
            try:
                attention_orders(self.attention)
            except ValueError as exc:
                raise HccrError(f"--attention: {exc}") from None
        if self.head not in HEADS:
            raise HccrError(f"--head must be one of {', '.join(HEADS)}, got {self.head!r}")
        if self.head != "gwap" and not self.arch.startswith("fire-gwap"):
            raise HccrError(f"--head is for the fire-gwap networks, not --arch {self.arch}")
        if self.exit_training not in TRAINING:
            raise HccrError(f"--exit-training must be one of {', '.join(TRAINING)}, "
                            f"got {self.exit_training!r}")
        if self.exit_epochs < 0:
            raise HccrError(f"--exit-epochs must be >= 0, got {self.exit_epochs}")
        staged = self.exit_training == "staged"
        if (not staged or self.exit_epochs) and not self.arch.endswith("-cascade"):
            raise HccrError(f"--exit-training/--exit-epochs are for early-exit cascades "
                            f"(fire-gwap-cascade), not --arch {self.arch}")
        if self.exit_epochs and not staged:
            raise HccrError("--exit-epochs is for --exit-training staged")

    def network_options(self) -> dict:
        """The builder options beyond the architecture's own (`model.nets.build`)."""
        options: dict = {}
        if self.attention:
            options["attention"] = attention_orders(self.attention)
        if self.head != "gwap":
            options["head"] = self.head
        if self.bottleneck:
            options["bottleneck"] = self.bottleneck
        return options

    def stages(self) -> list[tuple[tuple[float, ...] | None, bool, int]]:
        """Training stages, each (loss weights per exit or None, base frozen, epochs): one
        for most networks, §4.4's two for a staged cascade."""
        if not self.arch.endswith("-cascade"):
            return [(None, False, self.epochs)]
        epochs = (self.epochs, self.exit_epochs or self.epochs)
        return [(w, frozen, n) for ((w, frozen), n) in zip(TRAINING[self.exit_training], epochs,
                                                             strict=False)]


def build_network(config: TrainConfig, num_classes: int) -> nn.Module:
    """The network a run's config describes (architecture, input size and options)."""
    return build(config.arch, num_classes, config.size, **config.network_options())


def save_atomic(obj: dict, path: Path) -> None:
    """torch.save through a .partial file: a stopped save never leaves a damaged `path`."""
    tmp = path.with_suffix(".partial")
    torch.save(obj, tmp)
    tmp.replace(path)


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
    model = build_network(config, len(classes)).to(device)
    steps_per_epoch = -(-len(train_set.labels) // config.batch_size)
    gen = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    start_epoch, ckpt = 0, None
    ckpt_path = out_dir / CHECKPOINT
    if resume and ckpt_path.exists():
        ckpt = read_checkpoint(ckpt_path, ("config", "model", "optimizer", "scheduler"))
        if build_checked(ckpt_path, "config", lambda: TrainConfig(**ckpt["config"])) != config:
            raise HccrError(f"{ckpt_path}: saved config differs from the requested one; "
                            "use a new run directory or the same options")
        build_checked(ckpt_path, "model", lambda: model.load_state_dict(ckpt["model"]))
        gen.set_state(ckpt["generator"])
        if "torch_rng" in ckpt:  # dropout draws from it (absent in older checkpoints)
            torch.set_rng_state(ckpt["torch_rng"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt["history"]
        if rank == 0:
            log.info(f"resuming {ckpt_path} at epoch {start_epoch + 1}")
    t0 = time.perf_counter()
    with channels_last(model):
        first = 0
        for weights, frozen, epochs in config.stages():
            last, begin = first + epochs, max(start_epoch, first)
            if begin < last:
                if frozen:
                    model.freeze_base()
                opt, sched = make_optimizer(model, config.optimizer, config.lr, config.weight_decay,
                                            epochs * steps_per_epoch)
                if ckpt is not None and begin > first:  # resuming inside this stage
                    build_checked(ckpt_path, "optimizer",
                                  partial(opt.load_state_dict, ckpt["optimizer"]))
                    build_checked(ckpt_path, "scheduler",
                                  partial(sched.load_state_dict, ckpt["scheduler"]))
                loop = Loop(opt, sched, gen, last, config.batch_size, config.max_shift, device,
                            description="train" if first == 0 else "train the exits",
                            label_smoothing=config.label_smoothing, exit_weights=weights,
                            rank=rank, world=world, progress=progress)
                net = model
                if world > 1:  # an exit left out of the loss gets no gradient
                    net = DistributedDataParallel(
                        model, device_ids=[torch.device(device)] if device != "cpu" else None,
                        find_unused_parameters=weights is not None and 0.0 in weights)
                history = fit(net, loop, train_set, test_set, begin, history,
                              on_epoch_end=partial(_checkpoint, ckpt_path, config, classes, model,
                                                   loop, rank))
            first = last
    final = evaluate(model, test_set, device=device)
    metrics = {**final, "train_images": len(train_set.labels), "classes": len(classes),
               "epochs": first, "processes": world,
               "train_seconds": round(time.perf_counter() - t0, 1), "history": history}
    if rank == 0:
        save_atomic({"config": asdict(config), "classes": classes.tolist(),
                      "model": {k: v.cpu() for k, v in model.state_dict().items()}},
                     out_dir / MODEL)
        (out_dir / METRICS).write_text(json.dumps(metrics, indent=2))
    return metrics


def _checkpoint(path: Path, config: TrainConfig, classes: np.ndarray, model: nn.Module,
                loop: Loop, rank: int, epoch: int, history: list[dict]) -> None:
    """Save the state to resume after `epoch` (process 0 only)."""
    if rank == 0:
        save_atomic({"config": asdict(config), "classes": classes.tolist(),
                      "model": model.state_dict(), "optimizer": loop.opt.state_dict(),
                      "scheduler": loop.sched.state_dict(), "generator": loop.gen.get_state(),
                      "torch_rng": torch.get_rng_state(), "epoch": epoch,
                      "history": history}, path)


CHECKPOINT_KEYS = ("config", "classes", "model")
NETWORK_KEYS = ("arch", "size")  # no default stands in for these: they fix the network


def read_checkpoint(path: Path, keys: tuple[str, ...] = CHECKPOINT_KEYS, hint: str = ""
                    ) -> dict:
    """A checkpoint of ours, checked on load: a readable torch file holding a dict with every
    key of `keys`, `config`-like keys dicts, `classes` a list of class indices, `model` a state
    dict of tensors. Every problem is an `HccrError` naming the file (and the key)."""
    if not path.is_file():
        raise HccrError(f"{path}: not found{hint}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch/pickle raise many kinds on a damaged file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise HccrError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(ckpt, dict):
        raise HccrError(f"{path}: holds a {type(ckpt).__name__}, not a checkpoint")
    for key in keys:
        value = ckpt.get(key)
        ok = (isinstance(value, list) and all(isinstance(c, int) and 0 <= c < NUM_CLASSES
                                                for c in value) if key == "classes" else
              isinstance(value, dict) and all(isinstance(v, torch.Tensor) for v in value.values())
              if key == "model" else isinstance(value, dict))
        if not ok:
            raise HccrError(f"{path}: key '{key}' " + ("missing" if value is None else
                                                        "malformed"))
    return ckpt


def build_checked(path: Path, key: str, make):
    """`make()` (a config or a network rebuilt from a checkpoint), its failure an `HccrError`
    naming the file and key."""
    try:
        return make()
    except (HccrError, TypeError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise HccrError(f"{path}: key '{key}' does not fit: {first}") from None


def load_trained(run_dir: str | Path) -> tuple[nn.Module, np.ndarray, TrainConfig]:
    """Load `model.pt` from a training, pruning or distillation run: the model (eval mode, its
    layers as narrow as the saved state's), its classes and config."""
    path = Path(run_dir) / MODEL
    ckpt = read_checkpoint(path, hint=f" (train, prune or distill into {run_dir} first)")
    missing = [k for k in NETWORK_KEYS if k not in ckpt["config"]]
    if missing:
        raise HccrError(f"{path}: key 'config' lacks '{missing[0]}'")
    config = build_checked(path, "config", lambda: TrainConfig(**ckpt["config"]))
    classes = np.array(ckpt["classes"], np.int64)
    model = build_checked(path, "model", lambda: fit_to_state(
        build_network(config, len(classes)), ckpt["model"]))
    return model.eval(), classes, config


def train_on_files(config: TrainConfig, train_data: Path, test_data: Path, out_dir: Path,
                   resume: bool = False, skip_bad: bool = False,
                   progress: Progress = silent) -> dict:
    """Load `.gnt` data and train; the classes are those present in the training data."""
    train_set = load_images(train_data, config.size, skip_bad, config.binarize)
    classes = np.unique(train_set.labels)
    train_set, _ = train_set.restrict(classes)
    test_set, dropped = load_images(test_data, config.size, skip_bad,
                                    config.binarize).restrict(classes)
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
    data_set, skipped = load_images(data, config.size, skip_bad,
                                    config.binarize).restrict(classes)
    result = {**evaluate(model, data_set), "skipped": skipped}
    if getattr(model, "cascade", False):
        result["cascade"] = cascade_evaluate(model, data_set, config.size, threshold)
    return result
