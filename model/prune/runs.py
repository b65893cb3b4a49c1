"""Run directories of pruned and distilled networks: read any trained run (pruned or not), the
data for its classes, and write `model.pt` in `hccr train`'s format plus metrics."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from base.errors import HccrError
from base.rundir import write_manifest
from model.data.dataset import ImageSet, load_images
from model.loop import evaluate
from model.nets.resize import pruned_shapes
from model.nets.sqnxt import SqueezeNext, param_table
from model.nets.stats import group, profile, render_table
from model.prune.asfp import AsfpState, RoundRow
from model.train import METRICS, MODEL, TrainConfig, save_atomic

TABLE = "table.txt"
CHECKPOINT = "checkpoint.pt"  # a run's state to resume from (`hccr prune`/`distill --resume`)
SHAPES = "shapes.json"
log = logging.getLogger(__name__)


def load_data(path: Path, size: int, classes: np.ndarray, binarize: bool = False) -> ImageSet:
    """A `.gnt` file or folder, preprocessed (as the run was trained) and restricted to
    `classes`."""
    data, dropped = load_images(path, size, binarize=binarize).restrict(classes)
    log.info(f"{path}: {len(data.labels)} images ({dropped} of other classes skipped)")
    return data


def split_validation(data: ImageSet, share: float, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """Carve a validation split from training data: per class, round(share · n) of its n
    images drawn at random (at least one, never all), the rest kept for training.

    Returns:
        (training, validation).
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(len(data.labels), bool)
    for c in np.unique(data.labels):
        idx = np.flatnonzero(data.labels == c)
        held[rng.permutation(idx)[:min(len(idx) - 1, max(1, round(share * len(idx))))]] = True
    if not held.any():
        raise HccrError(f"{data.source}: too few images per class to carve a validation split")
    return (ImageSet(data.images[~held], data.labels[~held], data.source),
            ImageSet(data.images[held], data.labels[held], f"{data.source} (validation)"))


def cost(model: nn.Module, size: int) -> dict[str, int]:
    """Parameters and MACs of a model for one image."""
    stats = profile(model, size)
    return {"params": sum(s.params for s in stats), "macs": sum(s.macs for s in stats)}


def stage_table(before: nn.Module, after: nn.Module, size: int) -> str:
    """Per-stage parameters before and after pruning (SqNxt: beside seed 000 Table 5)."""
    if isinstance(before, SqueezeNext):
        rows = [(label, p, q, paper, 100.0 * (p - q) / p if p else None)
                for (label, p, _, _, _), (_, q, _, paper, _) in zip(
                    param_table(before, size), param_table(after, size, paper=3), strict=True)]
        return render_table(["row", "params before", "params after", "paper Table 5",
                             "removed %"], rows)
    a, b = group(profile(before, size)), group(profile(after, size))
    rows = [(k, p, b[k][0], 100.0 * (p - b[k][0]) / p if p else None) for k, (p, _) in a.items()]
    return render_table(["module", "params before", "params after", "removed %"], rows)


def save_run(out: Path, model: nn.Module, config: TrainConfig, classes: np.ndarray,
             metrics: dict, table: str, settings: dict) -> None:
    """Write model.pt (hccr train's format), metrics.json, table.txt, shapes.json (the pruned
    widths, `model.nets.resize.pruned_shapes`) and manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    save_atomic({"config": asdict(config), "classes": classes.tolist(),
                  "model": {k: v.cpu() for k, v in model.state_dict().items()}}, out / MODEL)
    (out / METRICS).write_text(json.dumps(metrics, indent=2))
    (out / TABLE).write_text(table + "\n")
    (out / SHAPES).write_text(json.dumps(pruned_shapes(model)))
    write_manifest(out, settings, [])


def top1(data: ImageSet, device: str = "cpu"):
    """A function giving a model's held-out top-1 on `data` (or, given a floor it cannot
    reach, some value below the floor: see `model.loop.evaluate`)."""
    return lambda model, floor=0.0: evaluate(model, data, device=device, floor=floor)["top1"]


def save_asfp_state(run: Path, settings: dict, state: AsfpState) -> None:
    """Keep ASFP's state after a round in RUN/checkpoint.pt, with the settings it ran with."""
    run.mkdir(parents=True, exist_ok=True)
    save_atomic({"settings": settings, "state": asdict(state)}, run / CHECKPOINT)


def load_asfp_state(run: Path, settings: dict) -> AsfpState | None:
    """The state `save_asfp_state` kept in RUN (None when there is none); a state saved with
    other settings, or not readable, is an error naming the file."""
    path = run / CHECKPOINT
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        fields = saved["state"]
        state = AsfpState(**{**fields, "rows": [RoundRow(**r) for r in fields["rows"]]})
    except Exception as exc:  # noqa: BLE001 - torch/pickle raise many kinds on a damaged file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise HccrError(f"{path}: not an ASFP checkpoint ({first})") from None
    if saved.get("settings") != settings:
        raise HccrError(f"{path}: saved by a run with other settings; use the same options "
                        "or a new --run folder")
    return state
