"""Merge CASIA-HWDB `.gnt` folders (HWDB1.0 + HWDB1.1) into train/test splits, as the seeds do.

Two set-ups:
- seed 000: mix the sources, then draw per class a seeded sample: `test_per_class` test and
  `train_per_class` training images (400 and 100 in the paper), disjoint;
- seeds 002/004: every source image (or `train_per_class` of each class) for training, and the
  ICDAR-2013 competition set (`test_source`, its own 60 writers) as the test split.

Records outside GB2312 level 1 (HWDB1.0 has 126 such classes) and corrupt ones are skipped and
counted. Each source file becomes one output file per split, so a file still holds one
writer; `merge.json` records the sources, seed and counts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model.data.classes import tag_of_class
from model.data.gnt import gnt_files, iter_gnt, write_gnt

REPORT = "merge.json"


@dataclass(frozen=True)
class MergePlan:
    """What to merge. `train_per_class` 0: every image left after the test draw."""

    sources: tuple[str, ...]
    test_source: str | None = None
    train_per_class: int = 0
    test_per_class: int = 100
    seed: int = 0


def _labels(files: list[Path], skipped: list[int]) -> list[np.ndarray]:
    return [np.array([s.label for s in iter_gnt(f, True, skipped)], np.int64) for f in files]


def draw(labels: list[np.ndarray], plan: MergePlan) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per file, the boolean masks of its records drawn for (train, test)."""
    flat = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.random.default_rng(plan.seed).permutation(len(flat))
    order = order[np.argsort(flat[order], kind="stable")]  # each class's records, shuffled
    starts = np.searchsorted(flat[order], flat[order], side="left")
    rank = np.empty(len(flat), np.int64)
    rank[order] = np.arange(len(flat)) - starts
    n_test = 0 if plan.test_source else plan.test_per_class
    test = rank < n_test
    train = (rank >= n_test) & ((rank < n_test + plan.train_per_class)
                                if plan.train_per_class else True)
    cuts = np.cumsum([len(x) for x in labels])[:-1]
    return np.split(train, cuts), np.split(test, cuts)


def _copy(files: list[Path], masks: list[np.ndarray] | None, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, f in enumerate(files):
        samples = [s for s in iter_gnt(f, True)]
        keep = [s for j, s in enumerate(samples) if masks is None or masks[i][j]]
        if keep:
            total += write_gnt(out / f"{i:04d}-{f.stem}.gnt",
                               ((tag_of_class(s.label), s.image) for s in keep))
    return total


def merge(plan: MergePlan, out: Path) -> dict:
    """Write `out/train` and `out/test` and `out/merge.json`; returns the report."""
    files = [f for src in plan.sources for f in gnt_files(src)]
    skipped = [0]
    labels = _labels(files, skipped)
    train, test = draw(labels, plan)
    flat = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    report = {"plan": asdict(plan), "source_files": len(files), "source_images": len(flat),
              "classes": int(len(np.unique(flat))), "skipped": skipped[0],
              "train": _copy(files, train, out / "train")}
    if plan.test_source:
        report["test"] = _copy(gnt_files(plan.test_source), None, out / "test")
    else:
        report["test"] = _copy(files, test, out / "test")
    counts = np.bincount(flat[np.concatenate(train)], minlength=1) if len(flat) else []
    wanted = plan.train_per_class
    report["classes_short"] = int(np.sum((counts > 0) & (counts < wanted))) if wanted else 0
    (out / REPORT).write_text(json.dumps(report, indent=2))
    return report
