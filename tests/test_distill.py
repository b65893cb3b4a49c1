"""Distillation losses against values derived by hand, and a student that moves to its teacher."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from base.errors import HccrError
from model.data.dataset import ImageSet
from model.distill import DistillConfig, distill, soft_loss, sp_loss
from model.prune.tune import Checkpoint, TuneConfig


def test_soft_loss_is_t_squared_kl_of_the_softened_distributions():
    student, teacher, t = torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([[0.0, 0.0]]), 1.0
    # p_teacher = (1/2, 1/2), p_student = (1/4, 3/4): KL = ½ ln(½ / ¼) + ½ ln(½ / ¾)
    want = 0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)
    assert soft_loss(student, teacher, t).item() == pytest.approx(want, rel=1e-6)
    # at T = 2 the logits are halved and the KL is scaled by 4
    s2 = torch.tensor([[0.0, 2 * math.log(3.0)]])
    assert soft_loss(s2, teacher, 2.0).item() == pytest.approx(4 * want, rel=1e-6)
    assert soft_loss(teacher, teacher, 5.0).item() == pytest.approx(0.0, abs=1e-7)


def test_sp_loss_on_hand_made_maps():
    # one image, maps 1×1×2×2 from two channels each: A = Σ_c O_c
    o_i = torch.zeros(1, 2, 2, 2)
    o_j = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 0.0]]]])  # A_j = 3 at (0,0)
    t_j = torch.tensor([[[[0.0, 4.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]])  # A_j = 4 at (0,1)
    # S_student = e_00, S_teacher = e_01 after normalisation: ‖e_00 − e_01‖² = 2
    assert sp_loss([(o_i, o_j)], [(o_i, t_j)]).item() == pytest.approx(2.0)
    # a scaled copy of the same procedure costs nothing
    assert sp_loss([(o_i, o_j)], [(o_i, 5 * o_j)]).item() == pytest.approx(0.0, abs=1e-7)
    # a 4×4 map is average-pooled to 2×2 before comparing
    big = torch.zeros(1, 1, 4, 4)
    big[..., :2, :2] = 1.0
    assert sp_loss([(o_i, o_j)], [(torch.zeros(1, 1, 4, 4), big)]).item() == pytest.approx(0.0,
                                                                                        abs=1e-7)


def test_unpaired_layers_are_refused():
    with pytest.raises(HccrError, match="layer pairs"):
        DistillConfig(student_pairs=(("a", "b"),))


def _net(width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(width, 3))


@pytest.mark.parametrize("sp_weight", [0.0, 1.0])
def test_student_moves_towards_the_teacher(sp_weight):
    torch.manual_seed(0)
    teacher, student = _net(8), _net(4)
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (64, 8, 8), dtype=np.uint8), rng.integers(0, 3, 64))
    x = torch.from_numpy(data.images).unsqueeze(1).float() / 255

    def gap() -> float:
        with torch.no_grad():
            return soft_loss(student(x), teacher(x), 5.0).item()

    before = gap()
    config = DistillConfig(alpha=1.0, beta=0.0, sp_weight=sp_weight,
                           student_pairs=(("0", "1"),), teacher_pairs=(("0", "1"),))
    distill(student, teacher, data, config, TuneConfig(epochs=10, batch_size=16, lr=0.05,
                                                       max_shift=0, optimizer="adam"))
    assert gap() < 0.5 * before


class _Stop(Exception):
    pass


def test_a_resumed_distillation_equals_one_never_stopped(tmp_path):
    """3 epochs straight, against 3 epochs stopped in the second and resumed from the
    checkpoint of the first: the same weights, bit for bit; other settings are refused."""
    rng = np.random.default_rng(1)
    data = ImageSet(rng.integers(0, 256, (48, 8, 8), dtype=np.uint8), rng.integers(0, 3, 48))
    config = DistillConfig(temperature=2.0, alpha=0.7, beta=0.3)
    tune = TuneConfig(epochs=3, batch_size=16, lr=0.05, max_shift=1)
    torch.manual_seed(0)
    teacher, start = _net(8), _net(4)
    straight = copy.deepcopy(start)
    distill(straight, teacher, data, config, tune)

    steps = 0

    def stop_in_epoch_two(description, total):
        class Bar:
            def __enter__(self):
                def advance(n=1, info=None):
                    nonlocal steps
                    steps += n
                    if steps > 4:  # 3 steps per epoch: the first of epoch 2 is done
                        raise _Stop
                return advance

            def __exit__(self, *exc):
                return False
        return Bar()

    path = tmp_path / "checkpoint.pt"
    saved = Checkpoint.open(path, resume=True, settings={"run": 1})
    assert saved.state is None  # nothing saved yet: a fresh start
    stopped = copy.deepcopy(start)
    with pytest.raises(_Stop):
        distill(stopped, teacher, data, config, tune, stop_in_epoch_two, saved)
    assert torch.load(path, weights_only=False)["epoch"] == 1
    resumed = copy.deepcopy(start)
    distill(resumed, teacher, data, config, tune,
            checkpoint=Checkpoint.open(path, resume=True, settings={"run": 1}))
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    with pytest.raises(HccrError, match="saved with other settings"):
        Checkpoint.open(path, resume=True, settings={"run": 2})
