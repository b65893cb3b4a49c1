"""The torch.fx QAT transform and exporter on a network that uses every supported construct."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from base.errors import HccrError
from quant import golden, ir
from quant.check import compare_with_qat
from quant.export import export, quantize_multipliers
from quant.qat import prepare_qat


class AllOps(nn.Module):
    """conv+BN+ReLU, maxpool, K×1/1×K branches + concat, ECA-style channel attention (global
    pool, reshape, (1,k) conv, sigmoid, mul), CBAM-style spatial attention (channel mean/max,
    concat, 7×7 conv, sigmoid, mul), residual add + ReLU, conv + PReLU, flatten + linear."""

    def __init__(self, classes: int = 6):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.left = nn.Conv2d(8, 6, (3, 1), padding=(1, 0))
        self.right = nn.Conv2d(8, 6, (1, 3), padding=(0, 1))
        self.merge = nn.Conv2d(20, 8, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.eca = nn.Conv2d(1, 1, (1, 3), padding=(0, 1), bias=False)
        self.sam = nn.Conv2d(2, 1, 7, padding=3)
        self.head = nn.Conv2d(8, 4, 3, stride=2, padding=1)
        self.act = nn.PReLU(4, init=0.2)
        self.fc = nn.Linear(4 * 4 * 4, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.bn(self.stem(x))))
        y = self.merge(torch.cat([x, torch.relu(self.left(x)), self.right(x)], dim=1))
        a = self.gap(y)
        a = self.eca(a.view(a.size(0), 1, 1, -1))
        y = y * torch.sigmoid(a).view(a.size(0), -1, 1, 1)
        s = torch.cat([y.mean(dim=1, keepdim=True), y.amax(dim=1, keepdim=True)], dim=1)
        y = torch.relu(y * torch.sigmoid(self.sam(s)) + x)
        return self.fc(torch.flatten(self.act(self.head(y)), 1))


@pytest.fixture(scope="module", params=[False, True], ids=["general", "pot"])
def prepared(request):
    torch.manual_seed(0)
    net = AllOps()
    with torch.no_grad():  # non-trivial BN statistics to fold
        net.bn.running_mean.uniform_(-0.2, 0.2)
        net.bn.running_var.uniform_(0.5, 2.0)
    qnet = prepare_qat(net.eval(), 16, pot=request.param, weight_bits={"fc": 5})
    qnet.train()
    gen = torch.Generator().manual_seed(1)
    for _ in range(8):  # let the observers see data
        qnet(torch.rand(16, 1, 16, 16, generator=gen))
    qnet.set_observers_frozen(True)
    return qnet.eval(), request.param


def test_every_construct_lowers_to_its_ir_op(prepared):
    qnet, pot = prepared
    model = export(qnet, "allops")
    kinds = [op.kind for op in model.ops]
    for kind in ("conv2d", "maxpool", "concat", "global_avgpool", "reshape", "sigmoid", "mul",
                 "reduce_channels", "add", "prelu", "dense"):
        assert kind in kinds, kind
    ops = {op.name: op for op in model.ops}
    assert ops["stem"].relu and not ops["head"].relu and ops["fc"].weight_bits == 5
    assert ops["fc"].weight.shape == (4 * 4 * 4, 6)
    assert model.tensors["add"].dtype == "uint8" and model.tensors["add"].zero_point == 0
    if pot:
        for op in model.ops:
            for field in ("multiplier", "multipliers", "multiplier_pos"):
                if getattr(op, field, None) is None:
                    continue
                values = np.atleast_1d(np.asarray(getattr(op, field)))
                assert (values & (values - 1) == 0).all(), (op.name, field)  # powers of two
    # (PReLU's negative-side multipliers carry the trained slopes in fixed point.)


def test_golden_matches_fake_quant_layer_by_layer(prepared):
    qnet, _ = prepared
    model = export(qnet, "allops")
    images = np.random.default_rng(2).integers(0, 256, (64, 16, 16), dtype=np.uint8)
    check = compare_with_qat(qnet, model, images)
    assert len(check["layers"]) >= 15
    for name, r in check["layers"].items():
        assert r["max_steps"] <= 1.0 + 1e-3, name
    assert check["argmax_agreement"] >= 0.9
    # The check can fail: a wrong multiplier on one layer shows up as many steps there.
    broken_ops = [ir.Add(name=op.name, inputs=op.inputs, output=op.output,
                         multipliers=(op.multipliers[0], op.multipliers[1] * 2), shift=op.shift)
                  if op.kind == "add" else op for op in model.ops]
    broken = ir.Model(model.name, model.tensors, tuple(broken_ops), model.inputs, model.outputs)
    tensors = golden.run(broken, images[..., None])
    assert compare_with_qat(qnet, broken, images, tensors)["layers"]["add"]["max_steps"] > 2


def test_unsupported_constructs_are_named():
    class Tanh(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return torch.tanh(self.conv(x))

    with pytest.raises(HccrError, match="^tanh: tanh has no IR op"):
        prepare_qat(Tanh(), 8)

    class Grouped(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv3 = nn.Conv2d(4, 4, 3, groups=4)

        def forward(self, x):
            return self.conv3(x)

    with pytest.raises(HccrError, match=r"^conv3: groups=4 unsupported \(standard conv only\)$"):
        prepare_qat(Grouped(), 8)


def test_shared_shift_multipliers():
    # 0.5 and 0.125 with one shift: 0.5 = 4·2^-3, 0.125 = 1·2^-3 after removing factors of 2.
    assert quantize_multipliers([0.5, 0.125], pot=True, where="a") == ([4, 1], 3)
    # 0.7·2^15 = 22937.6 → 22938 and 0.3·2^15 = 9830.4 → 9830 (0.7 limits the shift to 15);
    # both even, so one factor of two comes out: 11469 and 4915 at shift 14.
    assert quantize_multipliers([0.7, 0.3], pot=False, where="a") == ([11469, 4915], 14)
    with pytest.raises(HccrError, match="too far apart"):
        quantize_multipliers([1.0, 2.0**-20], pot=False, where="a")


class WeightedPool(nn.Module):
    """A global weighted average pool declaring its IR op, as seed 004's GWAP does."""

    ir_op = "gwap"

    def __init__(self, c: int, h: int, w: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c, h, w) / (h * w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum((2, 3))


def test_gwap_module_lowers_to_one_gwap_op():
    torch.manual_seed(3)
    net = nn.Sequential()
    net.add_module("conv", nn.Conv2d(1, 4, 3, padding=1))
    net.add_module("relu", nn.ReLU())
    net.add_module("pool", WeightedPool(4, 8, 8))
    net.add_module("fc", nn.Linear(4, 3))
    qnet = prepare_qat(net, 8)
    qnet.train()
    qnet(torch.rand(16, 1, 8, 8))
    qnet.set_observers_frozen(True)
    model = export(qnet.eval(), "gwap")
    assert [op.kind for op in model.ops] == ["conv2d", "gwap", "dense"]
    gwap = model.ops[1]
    assert gwap.weight.shape == (8, 8, 4) and gwap.weight.dtype == np.int8
    images = np.random.default_rng(4).integers(0, 256, (32, 8, 8), dtype=np.uint8)
    for name, r in compare_with_qat(qnet, model, images)["layers"].items():
        assert r["max_steps"] <= 1.0 + 1e-3, name
