"""`hccr prune` and `hccr distill` end to end on a tiny run: run folders that load back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from flow.cli import app
from model.nets import build
from model.prune.runs import load_data, split_validation, top1
from model.train import load_trained
from tests.cli_run import invoke, runner

SIZE, CLASSES = 16, 4


@pytest.fixture(scope="module")
def tiny(make_data, make_run) -> tuple[Path, Path]:
    """4 classes of synthetic data and an (untrained) sqnxt-ccbam run folder on them."""
    return make_data(CLASSES, 6, 4, seed=3), make_run("sqnxt-ccbam", CLASSES, SIZE)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["asfp", "slimming", "adw"])
def test_prune_writes_a_smaller_run_that_loads(tiny, tmp_path, method):
    data, teacher = tiny
    out = tmp_path / method
    invoke("prune", "--method", method, "--from", str(teacher), "--train-data",
            str(data / "train"), "--test-data", str(data / "test"), "--run", str(out),
            "--scope", "stage3", "--epochs", "1", "--max-rounds", "2", "--x", "0.3",
            "--z-limit", "5", "--sparsity-epochs", "1", "--cra-step", "0.5",
            "--cluster-bits", "2", "--cra-batches", "1")
    metrics = json.loads((out / "metrics.json").read_text())
    model, classes, config = load_trained(out)
    assert config.arch == "sqnxt-ccbam" and list(classes) == list(range(CLASSES))
    params = sum(p.numel() for p in model.parameters())
    if method == "adw":
        assert (out / "codebook.npz").exists() and metrics["pruned_weight_share"] >= 0
    else:
        assert metrics["params_after"] < metrics["params_before"]
        assert params < sum(p.numel() for p in build("sqnxt-ccbam", CLASSES, SIZE).parameters())
    assert "Block 7-20" in (out / "table.txt").read_text()
    assert json.loads((out / "manifest.json").read_text())["config"]["method"] == method
    shapes = json.loads((out / "shapes.json").read_text())
    assert shapes["stage3.block9.fuse.conv.weight"] == list(
        model.stage3.block9.fuse.conv.weight.shape)



@pytest.mark.slow
def test_distill_compares_with_the_student_alone(tiny, tmp_path):
    data, teacher = tiny
    out = tmp_path / "student"
    text = invoke("distill", "--teacher", str(teacher), "--student-arch", "sqnxt",
                   "--train-data", str(data / "train"), "--test-data", str(data / "test"),
                   "--run", str(out), "--epochs", "1", "--compare", "--sp-weight", "1",
                   "--sp-pair", "stage2,stage3:stage2,stage3")
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"top1", "top1_alone", "teacher_top1"} <= metrics.keys()
    assert "alone" in text
    assert load_trained(out)[2].arch == "sqnxt"


def test_distill_resumes_only_with_its_own_options(tiny, tmp_path):
    """A finished distillation resumed with the same options has no epoch left to train and
    writes the same student; with another learning rate it is one error line."""
    data, teacher = tiny
    out = tmp_path / "student"
    args = ["distill", "--teacher", str(teacher), "--student-arch", "sqnxt", "--train-data",
            str(data / "train"), "--test-data", str(data / "test"), "--run", str(out),
            "--epochs", "1"]
    invoke(*args)
    first = load_trained(out)[0].state_dict()
    text = invoke(*args, "--resume")
    assert "student distilled" in text
    again = load_trained(out)[0].state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    result = runner.invoke(app, [*args, "--resume", "--lr", "0.02"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: {out / 'checkpoint.pt'}: saved with other "
                                      "settings; use a new run folder or the same options")
    assert "Traceback" not in result.output


def test_bad_sp_pair_is_one_line(tiny, tmp_path):
    data, teacher = tiny
    result = runner.invoke(app, ["distill", "--teacher", str(teacher), "--student-arch",
                                 "sqnxt", "--train-data", str(data / "train"), "--test-data",
                                 str(data / "test"), "--run", str(tmp_path), "--sp-pair", "x"])
    assert result.exit_code == 1 and "--sp-pair 'x'" in result.output


def test_reinit_needs_a_student_run(tiny, tmp_path):
    data, teacher = tiny
    result = runner.invoke(app, ["distill", "--teacher", str(teacher), "--student-arch",
                                 "sqnxt", "--train-data", str(data / "train"), "--test-data",
                                 str(data / "test"), "--run", str(tmp_path), "--reinit"])
    assert result.exit_code == 1 and "--reinit applies to a --student run" in result.output


def test_channel_multiple_is_for_slimming_only(tiny, tmp_path):
    data, teacher = tiny
    out = tmp_path / "asfp"
    result = runner.invoke(app, ["prune", "--method", "asfp", "--channel-multiple", "8",
                                 "--from", str(teacher), "--train-data", str(data / "train"),
                                 "--test-data", str(data / "test"), "--run", str(out)])
    assert result.exit_code == 1 and "--channel-multiple 8" in result.output
    assert not out.exists()


def test_asfp_resumes_after_its_last_saved_round(tiny, tmp_path):
    data, teacher = tiny
    out = tmp_path / "asfp"
    args = ["prune", "--method", "asfp", "--from", str(teacher), "--train-data",
            str(data / "train"), "--test-data", str(data / "test"), "--scope", "stage3",
            "--epochs", "0", "--x", "0.3", "--z-limit", "5", "--target", "0.9",
            "--max-drop-zeroed", "1", "--max-drop-tuned", "1", "--run", str(out)]
    invoke(*args, "--max-rounds", "1")
    one = json.loads((out / "metrics.json").read_text())["rounds"]
    (out / "metrics.json").unlink()
    result = runner.invoke(app, [*args, "--max-rounds", "2", "--resume"])
    assert result.exit_code == 1 and "other settings" in result.output  # max_rounds differs
    assert not (out / "metrics.json").exists()
    # the same options: round 1 is taken from the checkpoint, not run again
    resumed = runner.invoke(app, [*args, "--max-rounds", "1", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "after round 1" in resumed.output
    assert json.loads((out / "metrics.json").read_text())["rounds"] == one


def test_resume_is_for_asfp_only(tiny, tmp_path):
    data, teacher = tiny
    result = runner.invoke(app, ["prune", "--method", "slimming", "--resume", "--from",
                                 str(teacher), "--train-data", str(data / "train"),
                                 "--test-data", str(data / "test"), "--run",
                                 str(tmp_path / "s")])
    assert result.exit_code == 1 and "--resume" in result.output


def test_val_data_decides_the_rounds_instead_of_a_training_share(tiny, make_data, tmp_path):
    data, teacher = tiny
    val = make_data(1, 1, 3, seed=4) / "test"  # class 0 by writers never trained on or tested
    out = tmp_path / "asfp"
    invoke("prune", "--method", "asfp", "--from", str(teacher), "--train-data",
           str(data / "train"), "--test-data", str(data / "test"), "--val-data", str(val),
           "--run", str(out), "--scope", "stage3", "--epochs", "0", "--max-rounds", "1",
           "--x", "0.3")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["decisions_on"] == str(val)
    model, classes, config = load_trained(teacher)
    on_val = top1(load_data(val, config.size, classes, config.binarize), "cpu")(model)
    share = split_validation(load_data(data / "train", config.size, classes), 0.1)[1]
    assert on_val != pytest.approx(top1(share, "cpu")(model))  # the two sources differ here
    assert metrics["rounds"][0]["acc_before"] == pytest.approx(on_val)
