"""Training: the seed networks train, DDP under torchrun, resume, device and arch checks, and
the early-exit cascade in `hccr eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from base.errors import HccrError
from model.data.dataset import load_images
from model.data.synth import SynthPlan, synthesize
from model.loop import channels_last, to_input
from model.nets import build
from model.train import (
    TrainConfig,
    evaluate_run,
    load_trained,
    train_on_files,
)


@pytest.fixture(scope="module")
def tiny_data(make_data) -> Path:
    """10 classes: 6 training writers, 2 held-out writers."""
    return make_data(10, 6, 2, seed=11)


@pytest.mark.slow
def test_sqnxt_scenario1_fits_a_batch(tmp_path):
    """The 21-block Scenario 1 network learns: 30 Adam steps fit 64 images of 16 classes.

    With he_normal alone (no pass-through start of the blocks) the loss stays near
    ln 16 ≈ 2.77 (measured 2.69 after 30 steps); with it, it falls below 0.1.
    """
    synthesize(SynthPlan(classes=16, writers={"train": 4}, seed=3), tmp_path, workers=1)
    data = load_images(tmp_path / "train", 32)
    x, y = to_input(data.images), torch.from_numpy(data.labels)
    torch.manual_seed(0)
    model = build("sqnxt", 16, 32)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5


def test_sqnxt_blocks_start_as_pass_through():
    """Blocks with cin == cout map their input through the fuse conv's identity; the first
    block of each stage (cin != cout) keeps he_normal."""
    model = build("sqnxt", 10, 32)
    block = model.stage3.block8  # 128 → 128: fuse over [128, 128, input 128]
    w = block.fuse.conv.weight[:, :, 0, 0]
    assert torch.equal(w[:, 256:], torch.eye(128)) and not w[:, :256].any()
    assert model.stage3.block7.fuse.conv.weight.std() > 0.05  # 32 → 128


def test_unknown_arch_and_device_are_one_line_errors():
    with pytest.raises(HccrError, match="--arch 'squeezenet' unknown; known: baseline, sqnxt0"):
        TrainConfig(arch="squeezenet")
    with pytest.raises(HccrError, match="--device must be cpu or cuda, got 'tpu'"):
        TrainConfig(device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_a_gpu_is_a_clear_error(tiny_data, tmp_path):
    with pytest.raises(HccrError, match="--device cuda requested but no CUDA device"):
        train_on_files(TrainConfig(device="cuda", size=32, epochs=1), tiny_data / "train",
                       tiny_data / "test", tmp_path)


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tiny_data, check_resume):
    """Stopped after epoch 1 and resumed, training ends with the same weights, bit for bit."""
    check_resume(TrainConfig(size=32, epochs=2, batch_size=16, seed=3), tiny_data)


@pytest.mark.slow
def test_ddp_under_torchrun_with_two_cpu_processes(tiny_data, tmp_path):
    """`torchrun --nproc-per-node 2` (gloo): both processes train on halves of each batch,
    process 0 writes the run, and the weights are those of every process (DDP keeps them
    equal; a process that trained alone would not reach the same ones)."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "2", "-m", "flow.cli", "--", "train", "--arch", "baseline", "--size", "32",
           "--epochs", "2", "--batch-size", "16", "--train-data", str(tiny_data / "train"),
           "--test-data", str(tiny_data / "test"), "--run", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["train_images"] == 60
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert done.stderr.count("epoch 2: loss") == 1  # only process 0 reports
    ddp = load_trained(run)[0].state_dict()
    alone = train_on_files(TrainConfig(size=32, epochs=2, batch_size=16), tiny_data / "train",
                           tiny_data / "test", tmp_path / "alone")
    assert alone["train_images"] == 60
    single = load_trained(tmp_path / "alone")[0].state_dict()
    # Same init (same seed), different gradient noise: equal shapes, different values.
    assert ddp.keys() == single.keys()
    assert not torch.equal(ddp["conv1.weight"], single["conv1.weight"])


def test_eval_reports_the_cascade(tiny_data, tmp_path):
    """`evaluate_run` on an early-exit network adds the cascade: every image exits somewhere;
    at threshold 0 all stop at Mid-A (its accuracy, its MACs); above 1 none does."""
    config = TrainConfig(arch="fire-gwap-cascade", size=32, epochs=1, batch_size=16,
                         optimizer="adam", lr=2e-3, label_smoothing=0.0)
    train_on_files(config, tiny_data / "train", tiny_data / "test", tmp_path)
    result = evaluate_run(tmp_path, tiny_data / "test")["cascade"]
    assert result["threshold"] == 0.98 and result["images"] == 20
    assert sum(result["exit_fraction"].values()) == pytest.approx(1.0)
    first = evaluate_run(tmp_path, tiny_data / "test", threshold=0.0)["cascade"]
    assert first["exit_fraction"]["mid_a"] == 1.0
    assert first["top1"] == first["top1_exits"]["mid_a"]
    assert first["macs_average"] < first["macs_final_only"] < first["macs_full"]
    none = evaluate_run(tmp_path, tiny_data / "test", threshold=1.5)["cascade"]
    assert none["exit_fraction"]["head"] == 1.0 and none["macs_saving"] == 0.0
    assert none["top1"] == none["top1_to_end"]


def test_channels_last_trains_in_nhwc_and_gives_the_weights_back_contiguous():
    torch.manual_seed(0)
    model = build("sqnxt-ccbam", 10, 16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    with channels_last(model):
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
        assert not all(w.is_contiguous() for w in convs)  # the layout did change
    assert all(w.is_contiguous() for w in model.state_dict().values())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_channels_last_leaves_an_nhwc_model_nhwc():
    model = build("sqnxt-ccbam", 10, 16).to(memory_format=torch.channels_last)
    with channels_last(model):
        pass
    convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not all(w.is_contiguous() for w in convs)
