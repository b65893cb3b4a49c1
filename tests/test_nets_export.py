"""Every seed-network family lowers to the IR, and golden agrees with the torch fake-quant model
layer by layer on a briefly trained small variant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.nets import build
from quant.check import compare_with_qat
from quant.export import export
from quant.qat import prepare_qat

FAMILIES = [("sqnxt", 32), ("sqnxt-ccbam", 32), ("sqnxt0", 32), ("cnn9", 96),
            ("cnn9-gslre", 96), ("fire-gwap-cascade", 64), ("eca-resnet18", 32)]


def _train_briefly(model: torch.nn.Module, size: int, classes: int, steps: int = 3) -> None:
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    for _ in range(steps):
        x = torch.rand(8, 1, size, size, generator=gen)
        y = torch.randint(0, classes, (8,), generator=gen)
        out = model(x)
        outs = out if isinstance(out, tuple) else (out,)
        loss = sum(torch.nn.functional.cross_entropy(o, y) for o in outs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # A few steps leave BN running statistics far from the activations' (deep nets then blow
    # up in eval mode): recompute them as plain averages over some batches.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        for _ in range(4):
            model(torch.rand(8, 1, size, size, generator=gen))
    model.eval()


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "size"), FAMILIES, ids=[a for a, _ in FAMILIES])
def test_family_exports_and_golden_matches_fake_quant(arch, size):
    torch.manual_seed(0)
    classes = 12
    model = build(arch, classes, size)
    _train_briefly(model, size, classes)
    qnet = prepare_qat(model, size)
    _train_briefly(qnet, size, classes, steps=2)  # QAT steps: observers see real activations
    qnet.set_observers_frozen(True)
    ir_model = export(qnet.eval(), arch)
    images = np.random.default_rng(1).integers(0, 256, (6, size, size), dtype=np.uint8)
    check = compare_with_qat(qnet, ir_model, images)
    assert len(check["layers"]) >= 10
    worst = max(check["layers"].items(), key=lambda kv: kv[1]["max_steps"])
    assert worst[1]["max_steps"] <= 1.0 + 1e-3, worst
