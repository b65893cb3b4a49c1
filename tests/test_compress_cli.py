"""Seed 002 end to end from the CLI on a tiny cnn9: GSLRE → ADW + CRA → clustering, and the
compressed-size count it reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from flow.cli import app
from model.data.dataset import ImageSet
from model.nets import build
from model.nets.cnn9 import LowRankConv
from model.prune.adw import AdwConfig, cra_adw, lowered
from model.prune.codebook import compressed_bytes, sparse_entries
from model.prune.runs import save_run
from model.prune.tune import TuneConfig
from model.train import TrainConfig, load_trained
from tests.cli_run import invoke, runner

SIZE, CLASSES = 16, 3


@pytest.fixture(scope="module")
def tiny(make_data, make_run) -> tuple[Path, Path]:
    """3 classes of synthetic data and an (untrained) cnn9 run on them."""
    return make_data(CLASSES, 4, 2, seed=5), make_run("cnn9", CLASSES, SIZE)


def test_sparse_entries_count_fillers_for_long_jumps():
    w = torch.zeros(40)
    w[[0, 3, 20, 39]] = 1.0  # jumps 1, 3, 17, 19: with 3 bits (jumps up to 8) 1+1+3+3 entries
    assert sparse_entries(w, 3) == 8
    assert sparse_entries(w, 5) == 4


def test_compressed_bytes_counts_values_indices_codebook_and_dense_parts():
    fc = nn.Linear(10, 4)  # 40 weights, 4 biases
    with torch.no_grad():
        fc.weight.zero_()
        fc.weight.view(-1)[[1, 2, 3]] = 1.0  # jumps 2, 1, 1
    size = compressed_bytes(nn.Sequential(fc), {"0": fc}, bits=2, index_bits=4)
    assert size["values_bytes"] == 3 * 2 / 8
    assert size["sparse_index_bytes"] == 3 * 4 / 8
    assert size["codebook_bytes"] == 4 * 4
    assert size["dense_bytes"] == 4 * 4
    assert size["dense_model_bytes"] == 44 * 4


def test_gslre_adw_cluster_chain_runs_from_the_cli(tiny, tmp_path):
    data, source = tiny
    common = ["--train-data", str(data / "train"), "--test-data", str(data / "test")]
    invoke("compress", "gslre", "--from", str(source), *common, "--run", str(tmp_path / "lr"),
            "--epochs-per-layer", "0", "--finetune-epochs", "1", "--batch-size", "64")
    low, _, config = load_trained(tmp_path / "lr")
    assert config.arch == "cnn9-gslre" and isinstance(low.get_submodule("conv2"), LowRankConv)
    m = json.loads((tmp_path / "lr" / "metrics.json").read_text())
    assert m["macs_after"] < m["macs_before"]
    invoke("prune", "--method", "adw", "--from", str(tmp_path / "lr"), *common,
            "--run", str(tmp_path / "adw"), "--epochs", "1", "--cra-step", "0.5",
            "--cra-mode", "magnitude", "--tolerance", "1", "--batch-size", "64")
    m = json.loads((tmp_path / "adw" / "metrics.json").read_text())
    assert m["cra_ratios"]["conv2.de1"] == 0.5  # tolerance 1: every step within it
    assert m["adw_ratios"]["conv2.de1"] == pytest.approx(0.35)  # conv ratios × 0.7
    assert m["adw_ratios"]["classifier.fc"] == 0.5 and m["pruned_weight_share"] > 0.3
    invoke("compress", "cluster", "--from", str(tmp_path / "adw"), *common,
            "--run", str(tmp_path / "cl"), "--bits", "2", "--epochs", "1", "--batch-size", "64")
    model = load_trained(tmp_path / "cl")[0]
    w = model.get_submodule("conv3.de2").weight
    assert len(torch.unique(w[w != 0])) <= 4  # fine-tuning kept the 2-bit sharing
    before = load_trained(tmp_path / "adw")[0].get_submodule("conv3.de2").weight
    assert torch.equal(w == 0, before == 0)  # pruned weights stayed pruned
    m = json.loads((tmp_path / "cl" / "metrics.json").read_text())
    assert 0 < m["size"]["total_mb"] < m["size"]["dense_model_mb"]
    out = invoke("compress", "size", "--from", str(tmp_path / "cl"), "--bits", "2")
    assert "total_mb" in out


@pytest.mark.parametrize("args, flag", [
    (["gslre", "--speedup", "1"], "--speedup"),
    (["cluster", "--bits", "9"], "--bits"),
    (["size", "--index-bits", "0"], "--index-bits"),
])
def test_bad_options_give_one_error_line(tiny, tmp_path, args, flag):
    data, source = tiny
    extra = [] if args[0] == "size" else ["--train-data", str(data / "train"), "--test-data",
                                          str(data / "test"), "--run", str(tmp_path / "o")]
    result = runner.invoke(app, ["compress", *args, "--from", str(source), *extra])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and flag in lines[0]


def test_gslre_refuses_a_network_that_is_not_cnn9(tiny, tmp_path):
    data, _ = tiny
    other = tmp_path / "baseline"
    save_run(other, build("baseline", CLASSES, SIZE), TrainConfig(size=SIZE),
             np.arange(CLASSES), {}, "", {})
    result = runner.invoke(app, ["compress", "gslre", "--from", str(other), "--train-data",
                                 str(data / "train"), "--test-data", str(data / "test"),
                                 "--run", str(tmp_path / "o")])
    assert result.exit_code == 1 and "not --arch baseline" in result.output


def test_cra_adw_trains_one_layer_at_a_time_and_restores_the_network():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 20), nn.BatchNorm1d(20), nn.Linear(20, 2))
    a, bn, b = model[1], model[2], model[3]
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (16, 4, 4), dtype=np.uint8), rng.integers(0, 2, 16))

    def accuracy(model: nn.Module, floor: float = 0.0) -> float:
        return 1.0 - float((a.weight == 0).double().mean())  # only layer a matters

    targets = {"1": a, "3": b}
    ratios = cra_adw(model, targets, data, accuracy, AdwConfig(step=0.1, tolerance=0.25,
                                                               cra_batches=2),
                     TuneConfig(batch_size=8, lr=0.1))
    assert ratios["1"] == pytest.approx(0.2)  # 0.3 of a zeroed costs more than 0.25
    assert ratios["3"] == pytest.approx(0.9)  # every step of b within tolerance
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[k]), k
    assert all(p.requires_grad for p in model.parameters()) and bn.momentum == 0.1
    assert lowered(ratios, {"1": nn.Conv2d(1, 1, 1), "3": b}, 0.5) == pytest.approx(
        {"1": 0.1, "3": 0.9})
