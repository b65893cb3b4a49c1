"""Shared fixtures: synthetic data sets, untrained and quickly trained runs on them, and the
check that an interrupted training run resumes bit for bit."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from model.data.synth import SynthPlan, synthesize
from model.nets import build
from model.prune.runs import save_run
from model.train import MODEL, TrainConfig, load_trained, train_on_files

SMALL_CLASSES = 20


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Opt-in `full` tests run for tens of minutes: no per-test time limit for them."""
    for item in items:
        if item.get_closest_marker("full"):
            item.add_marker(pytest.mark.timeout(0))


@pytest.fixture(autouse=True)
def _restore_sigterm():
    """Every `hccr` command installs its SIGTERM handler; a test that runs one in-process
    must not leave it to the tests after it (or to the processes they fork)."""
    old = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, old)


@pytest.fixture(scope="session")
def make_data(tmp_path_factory) -> Callable[..., Path]:
    """`make_data(classes, train, test, seed)`: a new folder of synthetic data with `train`
    training and `test` held-out writers per class."""
    def make(classes: int, train: int, test: int, seed: int, workers: int = 1) -> Path:
        out = tmp_path_factory.mktemp("data")
        synthesize(SynthPlan(classes=classes, writers={"train": train, "test": test}, seed=seed),
                   out, workers=workers)
        return out
    return make


@pytest.fixture(scope="session")
def make_run(tmp_path_factory) -> Callable[[str, int, int], Path]:
    """`make_run(arch, classes, size)`: a new run folder holding an untrained `arch` (seed 0)."""
    def make(arch: str, classes: int, size: int) -> Path:
        run = tmp_path_factory.mktemp(arch)
        torch.manual_seed(0)
        save_run(run, build(arch, classes, size), TrainConfig(arch=arch, size=size),
                 np.arange(classes), {}, "", {})
        return run
    return make


@pytest.fixture
def check_resume(tmp_path, monkeypatch) -> Callable[..., None]:
    """`check_resume(config, data, stop_after=0)`: trained on `data` straight (tmp_path/a), and
    interrupted after epoch `stop_after` + 1 (no model saved) then resumed (tmp_path/b), `config`
    ends with the same history and weights, bit for bit."""
    import model.train as train_module

    fit = train_module.fit

    def check(config: TrainConfig, data: Path, stop_after: int = 0) -> None:
        def train(folder: str, resume: bool = False) -> dict:
            return train_on_files(config, data / "train", data / "test", tmp_path / folder,
                                  resume=resume)

        def interrupted_fit(*args, on_epoch_end, **kwargs):
            def stop(epoch: int, history: list[dict]) -> None:
                on_epoch_end(epoch, history)
                if epoch == stop_after:
                    raise KeyboardInterrupt
            return fit(*args, on_epoch_end=stop, **kwargs)

        straight = train("a")
        monkeypatch.setattr(train_module, "fit", interrupted_fit)
        with pytest.raises(KeyboardInterrupt):
            train("b")
        assert not (tmp_path / "b" / MODEL).exists()
        monkeypatch.setattr(train_module, "fit", fit)
        assert train("b", resume=True)["history"] == straight["history"]
        a, b = load_trained(tmp_path / "a")[0], load_trained(tmp_path / "b")[0]
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(x, y), name
    return check


@pytest.fixture(scope="module")
def small_data(make_data) -> Path:
    """20 classes: 30 training writers, 50 held-out writers (1000 test images)."""
    return make_data(SMALL_CLASSES, 30, 50, seed=7, workers=2)


@pytest.fixture(scope="module")
def small_run(small_data, tmp_path_factory) -> Path:
    """A 32x32 baseline trained for a few epochs on `small_data`."""
    run = tmp_path_factory.mktemp("run")
    train_on_files(TrainConfig(size=32, epochs=10, seed=0), small_data / "train",
                   small_data / "test", run)
    return run
