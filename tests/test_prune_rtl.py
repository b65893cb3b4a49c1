"""A physically pruned network on the RTL: bit-exact against golden, like any other network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ir_factory import random_batch
from test_prune import pruned_qat

from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from model.nets import build
from model.nets.sqnxt import stage
from quant.export import export
from sim.check import check_network

pytestmark = [pytest.mark.rtl, pytest.mark.slow]
SIZE, CLASSES = 16, 10


def test_pruned_sqnxt0_is_bit_exact_on_the_rtl(tmp_path):
    """SqNxt Scenario 0 with identity shortcuts: channels removed through the residual groups."""
    torch.manual_seed(0)
    widths = tuple(stage(8, 8, 1, (4, 4, 4), projections=0) for _ in range(4))
    model = build("sqnxt0", CLASSES, SIZE, widths=widths)
    qnet = pruned_qat(model, SIZE, CLASSES, 0.4, seed=3)
    assert model.stage3.block3.expand.conv.out_channels < 8  # the residual group shrank
    ir_model = export(qnet.eval(), "sqnxt0_pruned")
    net = generate(ir_model, tmp_path / "rtl", balanced_folding(ir_model))
    x = random_batch(ir_model, np.random.default_rng(0), 3)[ir_model.inputs[0]]
    check = check_network(ir_model, net, x, tmp_path / "sim")
    assert check.ok, check.summary()
