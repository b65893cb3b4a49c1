"""`hccr quantize`: fine-tune a trained float network with fake quantisation (QAT)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.dataset import load_images
from model.loop import Loop, evaluate, fit, make_optimizer
from model.nets.resize import fit_to_state
from model.train import (
    TrainConfig,
    build_checked,
    build_network,
    load_trained,
    read_checkpoint,
)
from quant.qat import QatNet, prepare_qat

QAT_MODEL = "qat.pt"
QAT_METRICS = "qat_metrics.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantConfig:
    """QAT fine-tuning settings (saved with the quantized model).

    Attributes:
        pot: power-of-two scales (every requantisation multiplier is 1).
        weight_bits: per-layer weight width, e.g. {"fc": 4}; other layers use 8.
        epochs: fine-tuning epochs; observers update during the first `warmup_epochs`.
    """

    pot: bool = False
    weight_bits: dict[str, int] = field(default_factory=dict)
    epochs: int = 3
    warmup_epochs: int = 1
    lr: float = 0.005
    batch_size: int = 64
    seed: int = 0


def parse_weight_bits(specs: list[str]) -> dict[str, int]:
    """Parse `--weight-bits fc=4` style options."""
    out = {}
    for spec in specs:
        name, sep, bits = spec.partition("=")
        if not sep or not bits.isdigit() or not 2 <= int(bits) <= 8:
            raise HccrError(f"--weight-bits {spec!r}: expected LAYER=BITS with BITS in 2..8, "
                            "e.g. fc=4")
        out[name] = int(bits)
    return out


def quantize(float_run: Path, train_data: Path, test_data: Path, out_dir: Path,
             config: QuantConfig, progress: Progress = silent) -> dict:
    """Fold BN, insert fake quantisers, fine-tune, and save `qat.pt` + `qat_metrics.json`.

    Returns:
        The metrics: float and fake-quant int8 top-1/top-5 on the held-out data.
    """
    model, classes, train_cfg = load_trained(float_run)
    train_set, _ = load_images(train_data, train_cfg.size,
                               binarize=train_cfg.binarize).restrict(classes)
    test_set, _ = load_images(test_data, train_cfg.size,
                              binarize=train_cfg.binarize).restrict(classes)
    float_metrics = evaluate(model, test_set)
    torch.manual_seed(config.seed)
    qnet = prepare_qat(model, train_cfg.size, config.pot, config.weight_bits)
    steps = -(-len(train_set.labels) // config.batch_size)
    opt, sched = make_optimizer(qnet, "sgd", config.lr, 0.0, config.epochs * steps)
    loop = Loop(opt, sched, torch.Generator().manual_seed(config.seed), config.epochs,
                config.batch_size, train_cfg.max_shift, description="QAT",
                label_smoothing=train_cfg.label_smoothing, progress=progress)

    def freeze_after_warmup(epoch: int) -> None:
        qnet.set_observers_frozen(epoch >= config.warmup_epochs)

    t0 = time.perf_counter()
    history = fit(qnet, loop, train_set, test_set, on_epoch_start=freeze_after_warmup)
    qnet.set_observers_frozen(True)
    int8_metrics = evaluate(qnet, test_set)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (QAT_MODEL + ".partial")
    torch.save({"config": asdict(config), "train_config": asdict(train_cfg),
                "classes": classes.tolist(), "model": qnet.state_dict()}, tmp)
    tmp.replace(out_dir / QAT_MODEL)
    metrics = {"float": float_metrics, "int8": int8_metrics, "pot": config.pot,
               "weight_bits": config.weight_bits, "history": history,
               "seconds": round(time.perf_counter() - t0, 1)}
    (out_dir / QAT_METRICS).write_text(json.dumps(metrics, indent=2))
    log.info(f"float top-1 {float_metrics['top1']:.4f} → int8 {int8_metrics['top1']:.4f}"
             f" ({'pot' if config.pot else 'general'} scales)")
    return metrics


def load_qat(qat_dir: Path) -> tuple[QatNet, np.ndarray, QuantConfig]:
    """Rebuild a fine-tuned QAT network (eval mode, observers frozen) from `qat.pt`."""
    path = Path(qat_dir) / QAT_MODEL
    ckpt = read_checkpoint(path, ("config", "train_config", "classes", "model"),
                           " (run hccr quantize first)")
    config = build_checked(path, "config", lambda: QuantConfig(**ckpt["config"]))
    train_cfg = build_checked(path, "train_config", lambda: TrainConfig(**ckpt["train_config"]))
    classes = np.array(ckpt["classes"], np.int64)

    def rebuild() -> QatNet:
        float_model = build_network(train_cfg, len(classes))
        qnet = prepare_qat(float_model, train_cfg.size, config.pot, config.weight_bits)
        return fit_to_state(qnet, ckpt["model"])  # a pruned network's layers are narrower

    qnet = build_checked(path, "model", rebuild)
    return qnet.eval(), classes, config
