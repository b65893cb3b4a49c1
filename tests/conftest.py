"""Shared fixtures: a small synthetic data set and a quickly trained baseline on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.data.synth import SynthPlan, synthesize
from model.train import TrainConfig, train_on_files

SMALL_CLASSES = 20


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """20 classes: 30 training writers, 50 held-out writers (1000 test images)."""
    out = tmp_path_factory.mktemp("data")
    synthesize(SynthPlan(classes=SMALL_CLASSES, writers={"train": 30, "test": 50}, seed=7), out,
               workers=2)
    return out


@pytest.fixture(scope="module")
def small_run(small_data, tmp_path_factory) -> Path:
    """A 32x32 baseline trained for a few epochs on `small_data`."""
    run = tmp_path_factory.mktemp("run")
    train_on_files(TrainConfig(size=32, epochs=10, seed=0), small_data / "train",
                   small_data / "test", run)
    return run
