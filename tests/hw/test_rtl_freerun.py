"""Free-running harness (ROM source, file sink, LFSR stalls): bit-exact on every layer, beat
and tlast counts, cycles vs the formula, one build for every pause pattern; the generated demo
top lint-clean."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hw_helpers import check_network_cycles, demo_shaped_net
from ir_factory import random_batch
from test_rtl_network import FOLDING, small_net

from hw.gen.engines import Folding
from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from quant import golden
from sim import runner
from sim.freerun import simulate_freerun

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize(("pause", "pack"), [("none", False), ("1110", False),
                                           ("random", False), ("random", True)])
def test_freerun_bit_exact_on_every_layer(pause, pack, rng, seed, tmp_path,
                                          build_root) -> None:
    """With `pack`, every conv and dense layer computes two products per multiplier."""
    model = small_net(np.random.default_rng(6))
    folding = {k: dataclasses.replace(f, pack=k != "pool1") for k, f in FOLDING.items()} \
        if pack else FOLDING
    net = generate(model, tmp_path / "rtl", folding)
    assert net.top_file.read_text().count(".PACK(1'b1)") == (3 if pack else 0)
    x = random_batch(model, rng, 7)["image"]
    want = golden.run(model, x)
    out = simulate_freerun(net, x, tmp_path / "sim", src_pause=pause, sink_pause=pause,
                           seed=seed, trace=True, root=build_root)
    assert out.sim.passed and not out.error, out.error or out.sim.message
    assert out.beats == [5] * len(x) and out.extra_beats == 0, "image lost or duplicated"
    for name in ("conv1", "pool1", "conv2", "fc"):
        np.testing.assert_array_equal(out.traces[name], want[name], err_msg=name)
    np.testing.assert_array_equal(np.stack(out.frames), want["fc"].reshape(len(x), -1))
    per_image = out.intervals[-1]
    print(f"freerun {pause}: {per_image} cycles/image, analytical {net.pipeline_cycles}, "
          f"{out.cycles_per_s:.0f} cycles/s")
    if pause == "none":
        check_network_cycles("freerun", net, per_image, out.end_cycles[0])


def test_demo_shaped_top_is_lint_clean(tmp_path) -> None:
    model = demo_shaped_net(np.random.default_rng(0))
    net = generate(model, tmp_path, balanced_folding(model))
    done = runner.lint([net.top_file, *runner.rtl_sources(*net.modules)], top=net.top)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert net.pipeline_cycles == 64 * 64 * 16  # conv1's output stream: one element a beat


def test_network_with_global_avgpool(rng, tmp_path, build_root) -> None:
    """conv 3x3 -> global average pool -> dense: the pooled engine inside a generated top."""
    from ir_factory import make_op, spec

    from quant import ir

    tensors = {"image": spec("image", (6, 6, 2), "uint8", 3, 1 / 255)}
    ops = []
    for kind, name, prev, params in (
            ("conv2d", "conv", "image", {"kernel": (3, 3), "stride": (1, 1),
                                         "padding": (1, 1, 1, 1), "cout": 4, "relu": True,
                                         "out_dtype": "int8", "out_zero_point": -100}),
            ("global_avgpool", "gap", "conv", {"out_dtype": "uint8", "out_zero_point": 10}),
            ("dense", "fc", "gap", {"cout": 3, "relu": False, "out_dtype": "int8"})):
        op, out = make_op(kind, rng, name, [tensors[prev]], corners=0.0, **params)
        ops.append(op)
        tensors[name] = out
    model = ir.Model("gap_net", tensors, tuple(ops), ("image",), ("fc",))
    ir.check(model)
    net = generate(model, tmp_path / "rtl", {"conv": Folding(2, 2)})
    x = random_batch(model, rng, 5)["image"]
    want = golden.run(model, x)
    out = simulate_freerun(net, x, tmp_path / "sim", src_pause="random", sink_pause="1110",
                           trace=True, root=build_root)
    assert out.sim.passed and not out.error, out.error or out.sim.message
    for name in ("conv", "gap", "fc"):
        np.testing.assert_array_equal(out.traces[name], want[name], err_msg=name)


def test_freerun_count_check_can_fail(rng, tmp_path, build_root) -> None:
    """Frames of the wrong length are reported, not compared: the beat check can fail."""
    model = small_net(np.random.default_rng(6))
    net = generate(model, tmp_path / "rtl", FOLDING)
    last = net.engines[-1]
    net.engines[-1] = dataclasses.replace(last, out_spec=dataclasses.replace(
        last.out_spec, shape=(1, 1, 4)))  # the top really sends 5 beats per image
    x = random_batch(model, rng, 3)["image"]
    out = simulate_freerun(net, x, tmp_path / "sim", root=build_root)
    assert "expected 3 of 4" in out.error and "lost or split" in out.error, out.error
