"""Branching networks on the RTL: forks, residual adds and sized FIFOs.

A small SqNxt Scenario 0 (`sqnxt0`: identity and projection shortcuts), QAT-exported, runs
bit-exact against golden on every layer with backpressure, at the analytical cycles per
image; a join FIFO smaller than its computed need deadlocks and the timeout says so; a
corrupted ROM word on a branch is localised to its layer.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hw_helpers import NetBuilder, check_network_cycles
from ir_factory import random_batch, spec

from hw.gen.engines import FoldingError
from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from model.nets import build
from model.nets.sqnxt import stage
from quant import golden, ir
from quant.export import export
from quant.qat import prepare_qat
from sim import runner
from sim.check import check_network
from sim.freerun import simulate_freerun

pytestmark = pytest.mark.rtl

SIZE = 16


def qat_export(arch: str, size: int, **options: object) -> ir.Model:
    """`arch` with random weights, QAT-prepared, observers calibrated on random images, exported."""
    torch.manual_seed(0)
    qnet = prepare_qat(build(arch, 10, size, **options), size)
    qnet.train()
    with torch.no_grad():
        for _ in range(4):
            qnet(torch.rand(8, 1, size, size))
    qnet.set_observers_frozen(True)
    return export(qnet.eval(), arch.replace("-", "_"))


@pytest.fixture(scope="module")
def sqnxt0() -> ir.Model:
    """Scenario 0 at 16×16: stages 1, 3, 4 with identity shortcuts, stage 2 with a projection."""
    widths = (stage(8, 8, 1, (4, 4, 4), projections=0), stage(8, 16, 1, (8, 4, 8)),
              stage(8, 8, 1, (4, 4, 4), projections=0), stage(8, 8, 1, (4, 4, 4), projections=0))
    return qat_export("sqnxt0", SIZE, widths=widths)


@pytest.fixture(scope="module")
def sqnxt1() -> ir.Model:
    """Scenario 1 at 16×16 (reconstructed blocks: 3×1 ‖ 1×3 concatenated with the input)."""
    widths = (stage(8, 8, 1, (4, 4, 4), projections=0), stage(8, 16, 1, (8, 4, 8)),
              stage(8, 8, 1, (4, 4, 4), projections=0), stage(8, 8, 1, (4, 4, 4), projections=0))
    return qat_export("sqnxt", SIZE, widths=widths)


def images(model: ir.Model, n: int, seed: int) -> np.ndarray:
    return random_batch(model, np.random.default_rng(seed), n)[model.inputs[0]]


def every_layer_exact(model: ir.Model, net, x: np.ndarray, pause: str, seed: int, tmp_path,
                      build_root) -> int:
    """Simulate `x` free-running with `pause` stalls; assert every engine's output equals
    golden's and no image is lost; return the cycles per image."""
    want = golden.run(model, x)
    out = simulate_freerun(net, x, tmp_path / "sim", src_pause=pause, sink_pause=pause,
                           seed=seed, trace=True, root=build_root)
    assert out.sim.passed and not out.error, out.error or out.sim.message
    assert out.beats == [10] * len(x) and out.extra_beats == 0, "image lost or duplicated"
    for eng in net.engines:
        np.testing.assert_array_equal(out.traces[eng.out_spec.name], want[eng.out_spec.name],
                                      err_msg=eng.name)
    return out.intervals[-1]


@pytest.mark.slow
@pytest.mark.parametrize("pause", ["none", "random", "1110"])
def test_sqnxt0_bit_exact_on_every_layer(sqnxt0, pause, seed, tmp_path, build_root) -> None:
    net = generate(sqnxt0, tmp_path / "rtl", balanced_folding(sqnxt0))
    assert {op.kind for op in sqnxt0.ops} >= {"add", "conv2d", "global_avgpool", "dense"}
    assert len(net.forks) == 4
    per_image = every_layer_exact(sqnxt0, net, images(sqnxt0, 6, seed), pause, seed,
                                  tmp_path, build_root)
    print(f"sqnxt0 {pause}: {per_image} cycles/image, analytical {net.pipeline_cycles}")
    if pause == "none":
        check_network_cycles("sqnxt0", net, per_image)


@pytest.mark.slow
@pytest.mark.parametrize("pause", ["none", "random"])
def test_sqnxt1_concat_network_bit_exact_on_every_layer(sqnxt1, pause, seed, tmp_path,
                                                        build_root) -> None:
    net = generate(sqnxt1, tmp_path / "rtl", balanced_folding(sqnxt1))
    assert {op.kind for op in sqnxt1.ops} >= {"concat", "conv2d", "dense"}
    per_image = every_layer_exact(sqnxt1, net, images(sqnxt1, 4, seed), pause, seed,
                                  tmp_path, build_root)
    print(f"sqnxt {pause}: {per_image} cycles/image, analytical {net.pipeline_cycles}")
    if pause == "none":  # concat lanes buffer a pixel each: no throughput lost at the joins
        check_network_cycles("sqnxt1", net, per_image)


@pytest.mark.slow
def test_sqnxt_ccbam_attention_network_bit_exact_on_every_layer(seed, tmp_path,
                                                               build_root) -> None:
    """Scenario 2 (C-CBAM side paths: GAP, sigmoid gates, channel mean/max, pixel gates)."""
    widths = (stage(8, 8, 1, (4, 4, 4), projections=0), stage(8, 16, 1, (8, 4, 8)),
              stage(16, 16, 1, (8, 8, 8), projections=0),
              stage(16, 16, 1, (8, 8, 8), projections=0))
    model = qat_export("sqnxt-ccbam", SIZE, widths=widths)
    assert {op.kind for op in model.ops} >= {"mul", "sigmoid", "reduce_channels", "concat"}
    net = generate(model, tmp_path / "rtl", balanced_folding(model))
    per_image = every_layer_exact(model, net, images(model, 3, seed), "random", seed, tmp_path,
                                  build_root)
    print(f"sqnxt-ccbam random: {per_image} cycles/image, analytical {net.pipeline_cycles}")


def test_concat_lanes_hold_a_pixel(sqnxt1, tmp_path) -> None:
    net = generate(sqnxt1, tmp_path, balanced_folding(sqnxt1))
    concats = {op.name for op in sqnxt1.ops if op.kind == "concat"}
    cats = [f for f in net.fifos if f.dst in concats]
    assert cats
    for f in cats:  # one pixel of the lane's channels + 16 margin, to a power of two
        channels = sqnxt1.tensors[f.tensor].shape[-1]
        assert f.depth >= channels + 16, (f.name, f.depth, channels)


def test_join_fifo_depth_is_sized_from_the_long_path(sqnxt0, tmp_path) -> None:
    net = generate(sqnxt0, tmp_path, balanced_folding(sqnxt0))
    desc = {f["name"]: f for f in json.loads((tmp_path / "network.json").read_text())["fifos"]}
    # Block 1 (8×8×8, identity shortcut): the long path's line buffers wait for complete rows,
    # 1 (1×1) + 1 (1×1) + 2 (3×1, one padding row) + 1 (1×3) + 1 (1×1) = 6 of 8 rows, so the
    # shortcut holds 6/8 of its 512 elements; + 8 + 16 margin -> 512 entries.
    short = desc["add.in1"]
    assert (short["from"], short["required"], short["depth"]) == ("pool_first", 384, 512)
    assert "stage1_block1_conv_kx1_conv fills 2 of 8 rows" in short["why"]
    # the long path's input and every FIFO outside a join keep the default depth
    assert desc["add.in0"]["required"] == 0 and desc["add.in0"]["depth"] == 16
    assert all(f.depth >= f.required for f in net.fifos)
    done = runner.lint([net.top_file, *runner.rtl_sources(*net.modules)], top=net.top)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.slow
def test_too_small_join_fifo_deadlocks(sqnxt0, tmp_path) -> None:
    net = generate(sqnxt0, tmp_path / "rtl", balanced_folding(sqnxt0),
                   fifo_depths={"add.in1": 64})
    check = check_network(sqnxt0, net, images(sqnxt0, 2, 0), tmp_path / "sim")
    assert not check.ok and check.stream_error.startswith("timeout: 0 of 2 frames")
    assert "FIFO add.in1 holds 64 of the 384 elements its join needs: deadlock" in \
        check.stream_error


@pytest.mark.slow
def test_corrupted_rom_on_a_branch_is_localised(sqnxt0, tmp_path) -> None:
    layer = "stage2_block2_shortcut_conv"  # the projection shortcut, beside the long path
    assert layer in {f.dst for f in generate(sqnxt0, tmp_path / "plan").fifos}
    net = generate(sqnxt0, tmp_path / "rtl", balanced_folding(sqnxt0))
    rom = tmp_path / "rtl" / f"{layer}_p.mem"  # {shift, M, bias} of output channel 0
    lines = rom.read_text().splitlines()  # lines[0] is the header comment
    lines[1] = f"{int(lines[1], 16) ^ (1 << 24):0{len(lines[1])}x}"  # bias ± 2^24
    rom.write_text("\n".join(lines) + "\n")
    check = check_network(sqnxt0, net, images(sqnxt0, 3, 1), tmp_path / "sim", waves=False)
    m = check.result.first_mismatch
    assert not check.ok and m is not None, check.summary()
    assert m.layer == layer, check.summary()


def fork_join(rng: np.random.Generator) -> ir.Model:
    """The network input forked into a 3×3 conv and a 1×1 conv, added, then dense."""
    net = NetBuilder(rng, spec("image", (6, 6, 2), "uint8", 0, 1 / 255))
    layer = net.layer
    conv = {"stride": (1, 1), "cout": 3, "relu": True, "out_dtype": "uint8", "out_zero_point": 0}
    layer("conv2d", "a", ["image"], kernel=(3, 3), padding=(1, 1, 1, 1), **conv)
    layer("conv2d", "b", ["image"], kernel=(1, 1), padding=(0, 0, 0, 0), **conv)
    layer("add", "sum", ["a", "b"])
    layer("dense", "fc", ["sum"], cout=4, relu=False, out_dtype="int8")
    return net.model("fork_join", "fc")


def test_forked_network_input(rng, seed, tmp_path, build_root) -> None:
    model = fork_join(np.random.default_rng(3))
    net = generate(model, tmp_path / "rtl")
    assert [(f.src, f.outs) for f in net.forks] == [("image", ("a.in0", "b.in0"))]
    # a (3×3, pad 1) waits for 2 of 6 rows, b (1×1) for 1: b's output is 1/6 image ahead
    assert {f.name: f.required for f in net.fifos}["sum.in1"] == 6 * 6 * 3 // 6
    x = random_batch(model, rng, 4)["image"]
    want = golden.run(model, x)
    out = simulate_freerun(net, x, tmp_path / "sim", src_pause="random", sink_pause="random",
                           seed=seed, trace=True, root=build_root)
    assert out.sim.passed and not out.error, out.error or out.sim.message
    for name in ("a", "b", "sum", "fc"):
        np.testing.assert_array_equal(out.traces[name], want[name], err_msg=name)


def test_generator_refuses_unread_tensors_and_bad_overrides(tmp_path) -> None:
    model = fork_join(np.random.default_rng(3))
    dangling = ir.Model("dangling", model.tensors, model.ops, ("image",), ("a",))
    with pytest.raises(FoldingError, match="fc: its output is never read"):
        generate(dangling, tmp_path)
    with pytest.raises(FoldingError, match="FIFO override names no FIFO: sum.in2"):
        generate(model, tmp_path, fifo_depths={"sum.in2": 64})
    with pytest.raises(FoldingError, match="FIFO sum.in1: depth 24 must be a power of two"):
        generate(model, tmp_path, fifo_depths={"sum.in1": 24})
