"""QAT, export to the IR, and the golden model against the torch fake-quant model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import quant.quantize
from base.errors import HccrError
from model.data.dataset import load_images
from model.nets import build
from model.prune.runs import save_run
from model.train import TrainConfig
from quant import golden, ir
from quant.check import compare_with_qat
from quant.export import export, quantize_multiplier, read_labels, write_ir
from quant.qat import ActQuant, QuantLayer, prepare_qat
from quant.quantize import QuantConfig, load_qat, quantize


@pytest.mark.parametrize(("real", "expected"), [
    (0.5, (32768, 16)),    # 0.5 · 2^16 = 2^15 exactly: the largest M
    (0.3, (19661, 16)),    # round(0.3 · 65536 = 19660.8)
    (1.0, (32768, 15)),
    # ceil(log2 3e-9) = ceil(-28.31) = -28 → s = 15 + 28 = 43; 3e-9 · 2^43 = 26388.28
    (3e-9, (26388, 43)),
])
def test_quantize_multiplier_general(real, expected):
    m, s = quantize_multiplier(real, pot=False, where="x")
    assert (m, s) == expected
    assert 1 <= m <= 2**15 and abs(m / 2**s - real) <= 2 ** -(s + 1)


def test_quantize_multiplier_pot_and_errors():
    assert quantize_multiplier(0.25, pot=True, where="x") == (1, 2)
    assert quantize_multiplier(1.0, pot=True, where="x") == (1, 0)
    assert quantize_multiplier(8.0, pot=True, where="x") == (8, 0)  # upscaling requant
    with pytest.raises(HccrError, match="conv9: multiplier 0.3 is not 2"):
        quantize_multiplier(0.3, pot=True, where="conv9")
    with pytest.raises(HccrError, match="conv9: multiplier 65536.0 is not 2"):
        quantize_multiplier(2.0**16, pot=True, where="conv9")
    with pytest.raises(HccrError, match="fc: multiplier .* out of the representable range"):
        quantize_multiplier(2.0**-50, pot=False, where="fc")
    with pytest.raises(HccrError, match="fc: multiplier .* out of the representable range"):
        quantize_multiplier(2.0**16, pot=False, where="fc")


def test_prepare_rejects_unsupported_layers():
    grouped = nn.Sequential()
    grouped.add_module("conv3", nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(HccrError, match=r"^conv3: groups=2 unsupported \(standard conv only\)$"):
        prepare_qat(grouped, 8)
    odd = nn.Sequential()
    odd.add_module("act", nn.Tanh())
    with pytest.raises(HccrError, match="^act: Tanh has no IR op"):
        prepare_qat(odd, 8)
    with pytest.raises(HccrError, match="unknown layers: nope"):
        prepare_qat(nn.Sequential(), 8, weight_bits={"nope": 4})


@pytest.fixture(scope="module")
def schemes(small_data, small_run, tmp_path_factory):
    """QAT + export of the small run under the general, pot and 4-bit-FC schemes."""
    out = {}
    for name, config in {"int8": QuantConfig(epochs=2), "pot": QuantConfig(pot=True, epochs=2),
                         "fc4": QuantConfig(weight_bits={"fc": 4}, epochs=2)}.items():
        qat = tmp_path_factory.mktemp(f"qat_{name}")
        metrics = quantize(small_run, small_data / "train", small_data / "test", qat, config)
        qnet, classes, _ = load_qat(qat)
        ir_dir = write_ir(export(qnet, name), classes, tmp_path_factory.mktemp("ir") / name)
        out[name] = (qnet, ir.load(ir_dir), ir_dir, metrics)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["int8", "pot", "fc4"])
def test_golden_matches_fake_quant_on_1000_held_out_images(schemes, small_data, scheme):
    qnet, model, ir_dir, _ = schemes[scheme]
    data, _ = load_images(small_data / "test", 32).restrict(read_labels(ir_dir))
    assert len(data.labels) == 1000
    check = compare_with_qat(qnet, model, data.images)
    assert check["argmax_agreement"] >= 0.995
    # Same input per layer: only the integer multiplier/bias rounding differs (≤ 1 step; the
    # float32 torch side adds ~1e-6 steps of its own error).
    for layer, r in check["layers"].items():
        assert r["max_steps"] <= 1.0 + 1e-3, layer
    # Not vacuous: the fake-quant model must be far from the golden model if the flatten order
    # of the dense weights were wrong.
    wrong = list(model.ops)
    fc = wrong[-1]
    h, w, c = model.tensors[fc.inputs[0]].shape
    shuffled = fc.weight.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(h * w * c, -1)
    wrong[-1] = ir.Dense(name=fc.name, inputs=fc.inputs, output=fc.output,
                         weight=np.ascontiguousarray(shuffled), bias=fc.bias,
                         multiplier=fc.multiplier, shift=fc.shift, relu=fc.relu,
                         weight_bits=fc.weight_bits)
    broken = ir.Model(model.name, model.tensors, tuple(wrong), model.inputs, model.outputs)
    assert compare_with_qat(qnet, broken, data.images[:200])["layers"]["fc"]["max_steps"] > 2


@pytest.mark.slow
def test_scheme_specific_integer_parameters(schemes):
    pot = schemes["pot"][1]
    for op in pot.ops:
        if isinstance(op, ir.Conv2d | ir.Dense):
            assert (op.multiplier == 1).all(), op.name
    assert pot.tensors["input"].scale == 2**-8
    fc4 = {op.name: op for op in schemes["fc4"][1].ops}
    assert fc4["fc"].weight_bits == 4 and np.abs(fc4["fc"].weight).max() <= 7
    assert fc4["conv1"].weight_bits == 8 and np.abs(fc4["conv1"].weight).max() == 127
    general = schemes["int8"][1]
    multipliers = np.concatenate([op.multiplier for op in general.ops
                                  if isinstance(op, ir.Conv2d | ir.Dense)])
    assert (multipliers > 2**14).all()  # 15 significant bits used


@pytest.mark.slow
def test_golden_accuracy_matches_qat_accuracy(schemes, small_data):
    for _, model, ir_dir, metrics in schemes.values():
        data, _ = load_images(small_data / "test", 32).restrict(read_labels(ir_dir))
        logits = golden.run_chunked(model, data.images[..., None])[model.outputs[0]]
        top1 = float(np.mean(logits.reshape(len(data.labels), -1).argmax(1) == data.labels))
        assert abs(top1 - metrics["int8"]["top1"]) <= 0.005


def test_dead_layer_keeps_its_multipliers_representable():
    """A layer that outputs only zeros (pruned filters) gets the scale of a 2^-10 range: under
    pot, 2^-10 / 255 rounds up to 2^-17, so an input scale 2^-8 times a weight scale 2^-7 into
    it is the multiplier 2^2 (a 1e-8 floor gave 2^19, beyond the IR's 2^15)."""
    quant = ActQuant("uint8", pot=True)
    quant.train()
    quant(torch.zeros(4, 3))
    scale, zero_point = quant.qparams()
    assert (scale, zero_point) == (2.0**-17, 0)
    assert quantize_multiplier(2.0**-15 / scale, True, "dead") == (4, 0)


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["zero", "1e-8", "weak"])
def test_pruned_filter_exports_with_multiplier_one(schemes, small_data, weights):
    """A filter of zeros (pruning) or of 1.3e-8 weights (a slimmed channel) exports under pot
    with zero weights, M = 1, s = 0 and its bias exact in output steps; a weak filter with
    weights 3 accumulator floors (2^-22 output steps) gets weights 3 and M = 1, s = 22. Golden
    stays within a step of the fake-quant network (before: a 2^-33 weight scale made the bias
    ~2^40, beyond int32, or the multiplier leave the IR's range)."""
    qnet = copy.deepcopy(schemes["pot"][0])
    layer = next(m for m in qnet.modules() if isinstance(m, QuantLayer) and m.conv is not None)
    before = schemes["pot"][1]
    first = next(o for o in before.ops if isinstance(o, ir.Conv2d))
    floor = before.tensors[first.output].scale * 2.0**-22 / before.tensors[first.inputs[0]].scale
    with torch.no_grad():
        layer.weight[1] = {"zero": 0.0, "1e-8": 1.3e-8, "weak": 3 * floor}[weights]
        layer.bias[1] = 0.5
    model = export(qnet, "pruned")
    op = next(o for o in model.ops if isinstance(o, ir.Conv2d))
    scale_out = model.tensors[op.output].scale
    if weights == "weak":
        assert (int(op.multiplier[1]), int(op.shift[1])) == (1, 22)
        assert (op.weight[..., 1] == 3).all()
    else:
        assert (int(op.multiplier[1]), int(op.shift[1])) == (1, 0)
        assert not op.weight[..., 1].any()
        assert op.bias[1] == round(0.5 / scale_out)
    data, _ = load_images(small_data / "test", 32).restrict(read_labels(schemes["pot"][2]))
    check = compare_with_qat(qnet, model, data.images[:100])
    assert all(r["max_steps"] <= 1.0 + 1e-3 for r in check["layers"].values())


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_qat_fine_tunes_with_the_runs_label_smoothing(make_data, tmp_path, monkeypatch,
                                                       smoothing):
    """A cascade trained without label smoothing (so its softmax can reach the exit threshold)
    keeps it in QAT: smoothing caps every softmax and moves most exits to the end."""
    data = make_data(2, 2, 1, seed=5)
    run = tmp_path / "run"
    save_run(run, build("baseline", 2, 16), TrainConfig(arch="baseline", size=16,
                                                       label_smoothing=smoothing),
             np.arange(2), {}, "", {})
    seen = []
    monkeypatch.setattr(quant.quantize, "fit", lambda model, loop, *a, **k: seen.append(loop) or [])
    quantize(run, data / "train", data / "test", tmp_path / "qat", QuantConfig(epochs=1))
    assert [loop.label_smoothing for loop in seen] == [smoothing]
