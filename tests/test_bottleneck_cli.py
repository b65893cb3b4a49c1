"""Seed 003's FC bottleneck from `hccr train --bottleneck`: trained, saved and loaded back."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flow.cli import app
from model.data.synth import SynthPlan, synthesize
from model.train import load_trained

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    synthesize(SynthPlan(classes=3, writers={"train": 3, "test": 2}, seed=2), out, workers=1)
    return out


def _train(data, run, *extra: str):
    return runner.invoke(app, ["train", "--train-data", str(data / "train"), "--test-data",
                               str(data / "test"), "--run", str(run), "--size", "16",
                               "--epochs", "1", *extra])


def test_bottleneck_run_loads_with_the_narrow_fc(data, tmp_path):
    result = _train(data, tmp_path / "b", "--arch", "cnn9", "--bottleneck", "5")
    assert result.exit_code == 0, result.output
    model, _, config = load_trained(tmp_path / "b")
    assert config.bottleneck == 5
    assert model.classifier.bottleneck.out_features == 5
    assert model.classifier.fc.in_features == 5 and model.classifier.fc.out_features == 3


@pytest.mark.parametrize("args", [["--bottleneck", "-1"],
                                  ["--arch", "baseline", "--bottleneck", "5"]])
def test_bad_bottleneck_is_one_error_line(data, tmp_path, args):
    result = _train(data, tmp_path / "b", *args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and "--bottleneck" in lines[0]
