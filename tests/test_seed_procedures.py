"""The seed papers' procedures as `hccr train` options: seed 004's staged cascade training and
heads, seed 000's C-CBAM orders, scenarios and mean-grey binarisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from base.errors import HccrError
from flow.cli import app
from model.data.dataset import ImageSet
from model.data.preprocess import binarize_mean, preprocess
from model.loop import Loop, exit_loss, fit, make_optimizer
from model.nets import build
from model.nets.blocks import Cbam, attention_orders
from model.nets.fire import fire_gwap
from model.prune.asfp import AsfpConfig, SoftPruning, reselect, stage_of, zero_masks
from model.prune.channels import analyse
from model.prune.runs import split_validation
from model.train import TrainConfig, build_network, evaluate_run, load_trained, train_on_files

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_data(make_data) -> Path:
    """6 classes: 4 training writers, 1 held-out writer."""
    return make_data(6, 4, 1, seed=5)


# ---------------------------------------------------------------- seed 000: C-CBAM, scenarios

def test_attention_orders_read_table4_notation():
    assert attention_orders("1,2,3") == ("cam_sam", "parallel", "sam_cam")
    assert attention_orders("3, none,cam_sam") == ("sam_cam", None, "cam_sam")
    for bad in ("1,2", "1,2,4", "cam,parallel,sam"):
        with pytest.raises(ValueError, match="three comma-separated"):
            attention_orders(bad)


def test_attention_option_builds_those_orders():
    config = TrainConfig(arch="sqnxt0", size=32, attention="3,2,none")
    model = build_network(config, 5)
    assert model.ccbam1.attention.order == "sam_cam"
    assert model.ccbam2.attention.order == "parallel"
    assert model.ccbam3 is None
    assert sum(isinstance(m, Cbam) for m in model.modules()) == 2


@pytest.mark.parametrize("options, message", [
    ({"arch": "fire-gwap", "attention": "1,2,3"}, "--attention is for the sqnxt"),
    ({"arch": "sqnxt", "attention": "1,2"}, "--attention: C-CBAM orders"),
    ({"arch": "sqnxt", "head": "fc"}, "--head is for the fire-gwap"),
    ({"arch": "fire-gwap", "head": "max"}, "--head must be one of"),
    ({"arch": "fire-gwap", "exit_training": "joint"}, "early-exit cascades"),
    ({"arch": "fire-gwap-cascade", "exit_training": "joint", "exit_epochs": 2}, "staged"),
])
def test_network_options_are_checked(options, message):
    with pytest.raises(HccrError, match=message):
        TrainConfig(**options)


@pytest.mark.parametrize("args, message", [
    (["--scenario", "1", "--arch", "sqnxt"], "--scenario 1 picks the network (sqnxt)"),
    (["--scenario", "3"], "--scenario must be in 0..2"),
    (["--arch", "sqnxt", "--attention", "1,4,2"], "--attention: C-CBAM orders"),
    (["--arch", "fire-gwap", "--head", "mean"], "--head must be one of gwap, gap, fc"),
    (["--arch", "sqnxt", "--exit-training", "joint"], "early-exit cascades"),
])
def test_bad_train_options_are_one_error_line(tiny_data, tmp_path, args, message):
    result = runner.invoke(app, ["train", "--train-data", str(tiny_data / "train"),
                                 "--test-data", str(tiny_data / "test"), "--run",
                                 str(tmp_path / "run"), "--size", "32", *args])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_scenario_trains_and_reloads_with_its_options(tiny_data, tmp_path):
    """`--scenario 0 --attention 1,1,1` is Table 4 row 1: Scenario 0 with CAM→SAM everywhere;
    the run reloads with the same orders."""
    result = runner.invoke(app, ["train", "--train-data", str(tiny_data / "train"),
                                 "--test-data", str(tiny_data / "test"), "--run",
                                 str(tmp_path), "--size", "32", "--epochs", "1", "--scenario",
                                 "0", "--attention", "1,1,1"])
    assert result.exit_code == 0, result.output
    model, _, config = load_trained(tmp_path)
    assert config.arch == "sqnxt0" and config.attention == "1,1,1"
    assert [m.order for m in model.modules() if isinstance(m, Cbam)] == ["cam_sam"] * 3


# ---------------------------------------------------------------- seed 004: heads, training

def test_heads_replace_the_final_pooling():
    """HCCR-GAP has no pooling weights, HCCR-FC a 1024-neuron layer over the flattened 512×s×s
    map (§4.3: 33.6 M parameters at 64×64)."""
    gwap, gap, fc = (fire_gwap(10, 64, head=h) for h in ("gwap", "gap", "fc"))

    def count(m: nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    assert count(gwap) - count(gap) == 512 * 8 * 8  # the GWAP kernel
    assert fc.head.hidden.weight.shape == (1024, 512 * 8 * 8)
    assert count(fc) - count(gap) == 512 * 64 * 1024 + 1024 - 10 * (512 - 1024)
    x = torch.rand(2, 1, 64, 64)
    for model in (gap, fc):
        assert model.eval()(x).shape == (2, 10)


def test_exit_loss_leaves_zero_weighted_exits_without_gradient():
    model = fire_gwap(4, 32, cascade=True)
    x, y = torch.randn(3, 1, 32, 32), torch.tensor([0, 1, 2])
    exit_loss(model(x), y, nn.CrossEntropyLoss(), (0.0, 1.0, 0.0)).backward()
    assert model.mid_a.classifier.fc.weight.grad is None
    assert model.head.classifier.fc.weight.grad is None
    assert model.mid_b.classifier.fc.weight.grad is not None


def test_frozen_base_stays_fixed_while_the_exits_train():
    """§4.4's second stage: weights and BN statistics of the base and the final head are
    bit-identical after an epoch; every exit head has changed."""
    torch.manual_seed(0)
    model = fire_gwap(3, 16, cascade=True)
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (24, 16, 16), dtype=np.uint8), rng.integers(0, 3, 24))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.freeze_base()
    opt, sched = make_optimizer(model, "sgd", 0.05, 5e-4, 3)
    fit(model, Loop(opt, sched, torch.Generator().manual_seed(0), 1, 8,
                    exit_weights=(1.0, 1.0, 0.0)), data, data)
    after = model.state_dict()
    for key, value in before.items():
        moved = not torch.equal(value, after[key])
        assert moved == key.startswith(("mid_a.", "mid_b.")) or "num_batches" in key, key
    assert all(not torch.equal(before[k], after[k]) for k in before if k.startswith("mid_"))


def test_staged_cascade_trains_final_then_exits(tiny_data, tmp_path):
    """The default staged training runs `epochs` for the final output and `exit_epochs` for
    the exits, which leave the final output's accuracy exactly as after stage one."""
    common = {"arch": "fire-gwap-cascade", "size": 16, "epochs": 1, "batch_size": 16,
              "optimizer": "adam", "lr": 2e-3, "label_smoothing": 0.0}
    config = TrainConfig(**common, exit_epochs=2)
    assert [(w, f, n) for w, f, n in config.stages()] == [
        ((0.0, 0.0, 1.0), False, 1), ((1.0, 1.0, 0.0), True, 2)]
    metrics = train_on_files(config, tiny_data / "train", tiny_data / "test", tmp_path)
    history = metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3] and metrics["epochs"] == 3
    assert history[0]["test_top1"] == history[1]["test_top1"] == history[2]["test_top1"]
    joint = TrainConfig(**common, exit_training="joint")
    assert joint.stages() == [((1.0, 1.0, 1.0), False, 1)]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["top1"] == metrics["top1"]


@pytest.mark.slow
@pytest.mark.parametrize("stop_after", [0, 1])  # at the stage boundary / inside stage two
def test_staged_cascade_resumes_bit_identically(tiny_data, check_resume, stop_after):
    """Interrupted after epoch `stop_after` + 1 and resumed, staged training ends with the same
    weights and history as an uninterrupted run."""
    check_resume(TrainConfig(arch="fire-gwap-cascade", size=16, epochs=1, exit_epochs=2,
                             batch_size=16, optimizer="adam", lr=2e-3, label_smoothing=0.0,
                             seed=2), tiny_data, stop_after)


# ---------------------------------------------------------------- seed 000: binarisation

def test_mean_grey_binarisation():
    grey = np.array([[0, 100], [200, 255]], np.uint8)  # mean 138.75
    assert binarize_mean(grey).tolist() == [[0, 0], [255, 255]]
    rng = np.random.default_rng(1)
    image = np.full((8, 8), 255, np.uint8)
    image[1:7, 2:6] = rng.integers(40, 200, (6, 4))  # faint, uneven ink
    out = preprocess(image, 6, binarize=True)  # the 6×4 ink box padded to 6×6: no resampling
    assert set(np.unique(out)) == {0, 255} and int((out == 255).sum()) == 24  # all ink, full
    assert not set(np.unique(preprocess(image, 6))) <= {0, 255}


# ---------------------------------------------------------------- seed 000: ASFP

def test_reselect_releases_a_recovered_filter_and_keeps_the_count():
    """Soft pruning ranks again: a zeroed filter that has grown above a live one is released
    and the now lowest one zeroed, per stage as many as before."""
    scores = {("s1.c",): torch.tensor([2.0, -1.0, 0.5, -0.2]), ("s2.c",): torch.tensor([-1.0, 1.0])}
    zeroed = {("s1.c",): torch.tensor([True, True, False, False]),
              ("s2.c",): torch.tensor([True, False])}
    got = reselect(scores, zeroed)
    assert got[("s1.c",)].tolist() == [False, True, False, True]
    assert got[("s2.c",)].tolist() == [True, False]


def test_soft_pruning_lets_a_zeroed_filter_recover():
    """After a fine-tuning epoch, a zeroed filter whose weights grew back above every live
    filter's is kept and the weakest live filter zeroed in its place; `reselect=False` zeroes
    the same one again."""
    torch.manual_seed(0)
    for again in (True, False):
        model = build("sqnxt", 3, 16)
        graph = analyse(model)
        group = next(g for g in graph.groups if stage_of(g) == "stage3")
        masks = {group: torch.zeros(graph.width(group), dtype=torch.bool)}
        masks[group][0] = True
        zero_masks(graph, masks)
        conv = graph.convs[group[0]]
        with torch.no_grad():  # what training could do: filter 0 grows back, filter 1 fades
            conv.weight[0] = 10.0 * conv.weight.abs().max()
            conv.weight[1] = 0.0
            for bn in graph.bns(group[0]):
                bn.weight[0] = bn.weight[1] = 1.0
        hook = SoftPruning(graph, masks, every=2, config=AsfpConfig(reselect=again))
        hook(1)  # mid-epoch: nothing happens
        assert hook.masks[group].tolist()[:2] == [True, False]
        hook(2)
        assert hook.masks[group].tolist()[:2] == ([False, True] if again else [True, False])
        assert int(hook.masks[group].sum()) == 1
        zeroed_now, live = (1, 0) if again else (0, 1)
        assert torch.count_nonzero(conv.weight[zeroed_now]) == 0
        assert torch.count_nonzero(conv.weight[live]) > 0 or not again


def test_validation_split_is_carved_per_class_from_training_data():
    labels = np.repeat(np.arange(3), [10, 5, 1])
    data = ImageSet(np.arange(16, dtype=np.uint8).reshape(16, 1, 1), labels)
    train, val = split_validation(data, 0.2, seed=0)
    assert np.bincount(val.labels, minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(train.labels, minlength=3).tolist() == [8, 4, 1]
    both = np.sort(np.concatenate([train.images.ravel(), val.images.ravel()]))
    assert both.tolist() == list(range(16))  # disjoint, nothing lost
    with pytest.raises(HccrError, match="validation split"):
        split_validation(ImageSet(data.images[:1], labels[:1]), 0.5)


@pytest.mark.slow
def test_prune_accepts_rounds_on_a_validation_split(tiny_data, tmp_path):
    """`hccr prune` decides on a validation split carved from the training data and reports
    the test split; `--val-share 0` decides on the test split."""
    source = tmp_path / "source"
    train_on_files(TrainConfig(arch="sqnxt", size=16, epochs=1), tiny_data / "train",
                   tiny_data / "test", source)
    for share, on in (("0.25", "validation"), ("0", "test")):
        out = tmp_path / f"asfp{share}"
        result = runner.invoke(app, [
            "prune", "--method", "asfp", "--from", str(source), "--train-data",
            str(tiny_data / "train"), "--test-data", str(tiny_data / "test"), "--run", str(out),
            "--scope", "stage3", "--epochs", "1", "--max-rounds", "1", "--x", "0.2",
            "--z-limit", "5", "--max-drop-zeroed", "1", "--max-drop-tuned", "1",
            "--val-share", share, "--recalibrate", "0"])
        assert result.exit_code == 0, result.output
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["decisions_on"] == on and metrics["rounds"][0]["accepted"]
        assert metrics["top1"] == evaluate_run(out, tiny_data / "test")["top1"]
