"""Early exits (IR v2, docs/early_exit.md): the integer confidence test and averaging against
the float cascade (`model.nets.fire.cascade_predict`), hand-computed cases, the stages and MACs
of each exit, the exit table's JSON and checks, its export and `hccr export`'s options."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from ir_factory import spec
from typer.testing import CliRunner

from base.errors import HccrError
from flow.cli import app
from model.nets import build
from model.nets.fire import cascade_predict
from model.train import TrainConfig
from quant import golden, ir
from quant.export import EXIT_FRAC_BITS, exit_frac_bits, exit_lut, exit_table, exit_threshold
from quant.qat import prepare_qat
from quant.quantize import QAT_MODEL, QuantConfig

F = EXIT_FRAC_BITS
EXITS = ("a", "b", "f")  # Mid-A, Mid-B, final


def _logits_model(classes: int, scales=(0.08, 0.07, 0.11), zero_points=(0, -3, 5)) -> ir.Model:
    """Inputs `a_in`, `b_in`, `f_in` copied by identity requants (M = 1, s = 0) to the
    outputs `a`, `b`, `f`: a cascade whose logits the test chooses."""
    tensors, ops = {}, []
    for name, scale, zp in zip(EXITS, scales, zero_points, strict=True):
        tensors[f"{name}_in"] = spec(f"{name}_in", (1, 1, classes), "int8", zp, scale)
        tensors[name] = spec(name, (1, 1, classes), "int8", zp, scale)
        ops.append(ir.Requant(name=name, inputs=(f"{name}_in",), output=name, multiplier=1,
                              shift=0))
    return ir.Model("logits", tensors, tuple(ops), tuple(f"{n}_in" for n in EXITS), EXITS)


def _random_logits(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    """[N, 1, 1, K] int8 logits whose top softmax probability spreads around 0.98: a random
    background below a top logit 0..255 steps higher; one image in ten has a tied maximum."""
    low = rng.integers(-128, 0, (n, 1))
    q = rng.integers(low, low + rng.integers(1, 64, (n, 1)), (n, classes))
    top = np.minimum(q.max(axis=1) + rng.integers(0, 256, n), 127)
    rows = np.arange(n)
    winner = rng.integers(0, classes, n)
    q[rows, winner] = top
    tied = rng.random(n) < 0.1
    q[rows[tied], (winner[tied] + rng.integers(1, classes, tied.sum())) % classes] = top[tied]
    return q.reshape(n, 1, 1, classes).astype(np.int8)


def _real(model: ir.Model, name: str, q: np.ndarray) -> np.ndarray:
    t = model.tensors[name]
    return t.scale * (q.reshape(len(q), -1).astype(np.float64) - t.zero_point)


def _exp_sums(logits: np.ndarray) -> np.ndarray:
    """Σ_j exp(l_j − l_max) per image, in float64: 1 / (top softmax probability)."""
    return np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)


@pytest.mark.parametrize("classes", [100, 3755])
@pytest.mark.parametrize("mid_b", ["average", "exit"])
def test_integer_rule_matches_the_float_cascade(classes: int, mid_b: str) -> None:
    """Exit points agree with `cascade_predict` on float64 logits wherever the float sum
    Σ exp(l_j − l_max) is farther from 1/t than the LUT's rounding can move it (K entries,
    each off by at most 1/2 of 2^-F), and on ≥ 99.9 % of all images; classes agree at tested
    exits (ties included: both take the first maximum) and, when averaging, wherever the top
    two averaged probabilities are farther apart than their rounding (each probability off by
    at most (1/2 + K/2)·2^-F)."""
    rng = np.random.default_rng(classes)
    threshold = 0.98
    model = exit_table(_logits_model(classes), threshold, mid_b)
    n = 4000
    feeds = {f"{name}_in": _random_logits(rng, n, classes) for name in EXITS}
    same = rng.random(n) < 0.05  # Mid-B equal to the final logits: exact ties when averaged
    feeds["b_in"][same] = feeds["f_in"][same]
    classes_q, points = golden.exit_decide(model, golden.run(model, feeds))
    reals = [_real(model, name, feeds[f"{name}_in"]) for name in EXITS]
    classes_f, exits_f = (v.numpy() for v in cascade_predict(
        [torch.from_numpy(r) for r in reals], threshold, mid_b))
    points_f = np.searchsorted([0, 2] if mid_b == "average" else [0, 1, 2], exits_f)

    frac = exit_frac_bits(classes)
    assert model.exits[0].luts[0][0] == 2**frac
    bound = classes / 2 ** (frac + 1)
    tested = reals[:1] if mid_b == "average" else reals[:2]
    clear = np.ones(n, bool)
    for r in tested:  # the decision at each tested exit is clear of rounding
        clear &= np.abs(_exp_sums(r) - 1 / threshold) > bound
    np.testing.assert_array_equal(points[clear], points_f[clear])
    # At 3755 classes F is 19 bits, not 24: more of these near-threshold vectors are unclear.
    rate = 0.999 if classes <= 100 else 0.99
    assert np.mean(points == points_f) >= rate
    for i in range(len(model.exits)):  # every point is taken often: the test can fail
        assert np.mean(points == i) > 0.02, (i, np.bincount(points))

    agree = points == points_f
    last = agree & (points == len(model.exits) - 1)
    np.testing.assert_array_equal(classes_q[agree & ~last], classes_f[agree & ~last])
    if mid_b == "exit":
        np.testing.assert_array_equal(classes_q[last], classes_f[last])
        return
    probs = sum(np.exp(r - r.max(axis=1, keepdims=True)) / _exp_sums(r)[:, None]
                for r in reals[1:])
    top2 = np.sort(probs, axis=1)[:, -2:]
    clear_class = last & (top2[:, 1] - top2[:, 0] > 4 * (0.5 + classes / 2) / 2**frac)
    np.testing.assert_array_equal(classes_q[clear_class], classes_f[clear_class])
    assert np.mean(classes_q[last] == classes_f[last]) >= rate - 0.01
    assert np.array_equal(classes_q[same & last], probs[same & last].argmax(axis=1))


def test_hand_computed_lut_threshold_and_average() -> None:
    """scale ln 4, F = 4: exp(−d·ln 4)·16 = 16, 4, 1, 1/4 → LUT (16, 4, 1)."""
    assert exit_lut(math.log(4), 4) == (16, 4, 1)
    assert exit_threshold(0.75, 4) == 21 and exit_threshold(0.77, 4) == 20
    model = dataclasses.replace(
        _logits_model(4, scales=(math.log(4),) * 3, zero_points=(-3, 0, 0)),
        exits=(ir.ExitPoint("a", ("a",), ((16, 4, 1),), 21),
               ir.ExitPoint("f", ("b", "f"), ((16, 4, 1), (16, 4, 1)))))
    ir.check(model)
    a = np.array([[2, 1, 0, -1], [2, 1, 0, 1], [0, 0, 0, 0]])
    b = np.array([[0, 2, 2, 0]] * 3)
    f = np.array([[2, 1, 0, -1], [2, 1, 0, -1], [-5, 0, 0, -5]])
    np.testing.assert_array_equal(golden.exit_terms(a, (16, 4, 1)),
                                  [[16, 4, 1, 0], [16, 4, 1, 4], [16, 16, 16, 16]])
    tensors = {name: v.reshape(3, 1, 1, 4).astype(np.int8)
               for name, v in zip(EXITS, (a, b, f), strict=True)}
    # Image 0: S = 21 ≤ T = 21, leaves at a with class 0. Image 1: S = 25 > 21; averaged
    # scores E^b·S^f + E^f·S^b with E^b = (1, 16, 16, 1), S^b = 34, E^f = (16, 4, 1, 0),
    # S^f = 21: (21 + 544, 336 + 136, 336 + 34, 21) → class 0. Image 2: a is flat (S = 64);
    # E^f = (0, 16, 16, 0), S^f = 32: (32, 512 + 544, 512 + 544, 32): a tie, first index 1.
    classes, points = golden.exit_decide(model, tensors)
    np.testing.assert_array_equal(points, [0, 1, 1])
    np.testing.assert_array_equal(classes, [0, 0, 1])
    strict = dataclasses.replace(model, exits=(
        dataclasses.replace(model.exits[0], threshold=20), model.exits[1]))
    np.testing.assert_array_equal(golden.exit_decide(strict, tensors)[1], [1, 1, 1])


def _dense(rng: np.random.Generator, name: str, x: str, n_in: int, n_out: int) -> ir.Dense:
    return ir.Dense(name=name, inputs=(x,), output=name,
                    weight=rng.integers(-3, 4, (n_in, n_out)).astype(np.int8),
                    bias=np.zeros(n_out, np.int32), multiplier=np.ones(n_out, np.int32),
                    shift=np.full(n_out, 4, np.int32))


def _chain(rng: np.random.Generator, classes: int = 5) -> ir.Model:
    """x → t1 → a (Mid-A); t1 → t2 → b (Mid-B) and f (final); all dense, 8 wide."""
    wiring = [("t1", "x", 8), ("a", "t1", classes), ("t2", "t1", 8), ("b", "t2", classes),
              ("f", "t2", classes)]
    ops = tuple(_dense(rng, name, x, 8, n) for name, x, n in wiring)
    tensors = {"x": spec("x", (1, 1, 8), "int8", 0)}
    tensors |= {op.name: spec(op.name, (1, 1, op.weight.shape[1]), "int8", 0, 0.2)
                for op in ops}
    return ir.Model("chain", tensors, ops, ("x",), EXITS)


def test_stages_and_macs_per_exit_point() -> None:
    """Hand-counted: t1 64 MACs, a 40, t2 64, b 40, f 40."""
    rng = np.random.default_rng(3)
    average = exit_table(_chain(rng), 0.5, "average")
    assert [[op.name for op in s] for s in golden.exit_stages(average)] == [
        ["t1", "a"], ["t2", "b", "f"]]
    assert golden.exit_macs(average) == [104, 248]
    every = exit_table(_chain(rng), 0.5, "exit")
    assert [[op.name for op in s] for s in golden.exit_stages(every)] == [
        ["t1", "a"], ["t2", "b"], ["f"]]
    assert golden.exit_macs(every) == [104, 208, 248]
    x = rng.integers(-128, 128, (300, 1, 1, 8)).astype(np.int8)
    classes, points, macs = golden.run_exits(every, x, chunk=64)
    expected = golden.exit_decide(every, golden.run(every, x))
    np.testing.assert_array_equal(classes, expected[0])
    np.testing.assert_array_equal(points, expected[1])
    np.testing.assert_array_equal(macs, np.array([104, 208, 248])[points])
    assert len(set(points.tolist())) == 3, np.bincount(points)


def test_ir_v2_round_trip_and_v1_unchanged(tmp_path: Path) -> None:
    plain = _chain(np.random.default_rng(4))
    with_exits = exit_table(plain, 0.98)
    assert ir.load(ir.save(with_exits, tmp_path / "v2")) == with_exits
    doc = json.loads((tmp_path / "v2" / "model.json").read_text())
    assert doc["ir_version"] == 2
    assert [e["logits"] for e in doc["exits"]] == [["a"], ["b", "f"]]
    assert doc["exits"][0]["threshold"] == math.floor(2**24 / 0.98)
    assert doc["exits"][1]["threshold"] is None
    ir.save(plain, tmp_path / "v1")
    v1 = json.loads((tmp_path / "v1" / "model.json").read_text())
    assert v1["ir_version"] == 1 and "exits" not in v1
    assert ir.load(tmp_path / "v1") == plain
    v1["exits"] = doc["exits"]
    (tmp_path / "v1" / "model.json").write_text(json.dumps(v1))
    with pytest.raises(ir.IRError, match="unknown key 'exits' \\(IR v1"):
        ir.load(tmp_path / "v1")
    del doc["exits"][1]["threshold"]
    (tmp_path / "v2" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ir.IRError, match=r"exits\[1\]: needs exactly"):
        ir.load(tmp_path / "v2")


def test_exit_lut_is_the_rounded_exponential() -> None:
    assert (exit_frac_bits(100), exit_frac_bits(3755), exit_frac_bits(2**31 - 1)) == (24, 19, 0)
    for scale in (0.02, 0.0731, 0.5, 3.0):
        lut = exit_lut(scale)
        expected = [math.floor(2**F * math.exp(-d * scale) + 0.5) for d in range(256)]
        assert list(lut) == [v for v in expected if v > 0]
        assert lut[0] == 2**F


@pytest.mark.parametrize(("edit", "message"), [
    (lambda e: (dataclasses.replace(e[0], threshold=None), e[1]), "needs 1 LUT|threshold None"),
    (lambda e: (e[0], dataclasses.replace(e[1], threshold=5)), "threshold must be null"),
    (lambda e: (dataclasses.replace(e[0], logits=("t1",)), e[1]), "'t1' is not a graph output"),
    (lambda e: (dataclasses.replace(e[0], luts=((5, 6),)), e[1]), "non-increasing"),
    (lambda e: (dataclasses.replace(e[0], luts=((2**29,),)), e[1]), "beyond int32"),
    (lambda e: (dataclasses.replace(e[0], luts=(tuple(range(300, 0, -1)),)), e[1]),
     "300 entries"),
    (lambda e: (dataclasses.replace(e[0], logits=("a", "b"), luts=e[1].luts), e[1]),
     "only the last point averages"),
    (lambda e: (e[1],), "needs an early exit"),
    (lambda e: (e[0], dataclasses.replace(e[1], name="a")), "duplicate name"),
    (lambda e: (e[0], dataclasses.replace(e[1], luts=())), "needs 2 LUT"),
])
def test_exit_table_checks(edit, message: str) -> None:
    model = exit_table(_chain(np.random.default_rng(5)), 0.9)
    problems = ir.validate(dataclasses.replace(model, exits=tuple(edit(model.exits))))
    assert any(re.search(message, p) for p in problems), problems


def test_exit_table_class_counts_and_dtypes() -> None:
    model = exit_table(_chain(np.random.default_rng(6)), 0.9)
    wide = dict(model.tensors, a=dataclasses.replace(model.tensors["a"], shape=(1, 1, 6)))
    ops = tuple(_dense(np.random.default_rng(0), "a", "t1", 8, 6) if op.name == "a" else op
                for op in model.ops)
    assert "exits: logits have different class counts [5, 6]" in ir.validate(
        dataclasses.replace(model, tensors=wide, ops=ops))
    int32 = dict(model.tensors, a=dataclasses.replace(model.tensors["a"], dtype="int32"))
    assert any("8-bit [1, 1, K]" in p for p in ir.validate(
        dataclasses.replace(model, tensors=int32)))


def test_export_options_are_checked() -> None:
    model = _chain(np.random.default_rng(7))
    for bad in (0.0, 1.5):
        with pytest.raises(HccrError, match="not a probability"):
            exit_table(model, bad)
    with pytest.raises(HccrError, match="unknown Mid-B policy 'vote'"):
        exit_table(model, 0.9, "vote")
    two = dataclasses.replace(model, outputs=("a", "f"))
    with pytest.raises(HccrError, match="needs at least 3"):
        exit_table(two, 0.9, "average")
    assert [e.logits for e in exit_table(two, 0.9, "exit").exits] == [("a",), ("f",)]


def _cascade_qat(folder: Path, size: int = 16, classes: int = 10) -> None:
    """An untrained fire-gwap-cascade QAT network saved as `hccr quantize` saves it."""
    torch.manual_seed(0)
    qnet = prepare_qat(build("fire-gwap-cascade", classes, size), size)
    qnet.train()
    with torch.no_grad():
        for _ in range(3):
            qnet(torch.rand(8, 1, size, size))
    qnet.set_observers_frozen(True)
    folder.mkdir()
    torch.save({"config": asdict(QuantConfig()), "classes": list(range(classes)),
                "train_config": asdict(TrainConfig(arch="fire-gwap-cascade", size=size)),
                "model": qnet.state_dict()}, folder / QAT_MODEL)


def test_cli_export_writes_the_exit_table(tmp_path: Path) -> None:
    runner = CliRunner()
    _cascade_qat(tmp_path / "qat")
    for args, message in [(("--exit-threshold", "1.5"), "not a probability"),
                          (("--mid-b", "vote"), "unknown Mid-B policy")]:
        result = runner.invoke(app, ["export", "--qat", str(tmp_path / "qat"), "--out",
                                     str(tmp_path / "x"), *args])
        assert result.exit_code == 1 and message in result.output, result.output
        assert not (tmp_path / "x").exists()
    result = runner.invoke(app, ["export", "--qat", str(tmp_path / "qat"), "--out",
                                 str(tmp_path / "ir"), "--exit-threshold", "0.9", "--mid-b",
                                 "exit"])
    assert result.exit_code == 0, result.output
    model = ir.load(tmp_path / "ir")
    assert [e.logits for e in model.exits] == [(t,) for t in model.outputs]
    assert len(model.outputs) == 3 and model.outputs[0].startswith("mid_a")
    assert [e.threshold for e in model.exits] == [math.floor(2**24 / 0.9)] * 2 + [None]
    result = runner.invoke(app, ["export", "--qat", str(tmp_path / "qat"), "--out",
                                 str(tmp_path / "ir")])
    assert result.exit_code == 0, result.output
    model = ir.load(tmp_path / "ir")
    assert [e.logits for e in model.exits] == [model.outputs[:1], model.outputs[1:]]
    x = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 1), dtype=np.uint8)
    classes, points, macs = golden.run_exits(model, x)
    assert classes.shape == points.shape == macs.shape == (4,)
