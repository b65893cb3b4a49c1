"""A SqNxt-style concat block through the generator: parallel K×1 / 1×K branches concatenated
with the block input on concat's one packed port, bit-exact on every layer under stalls."""

from __future__ import annotations

import dataclasses

import numpy as np
from hw_helpers import NetBuilder, check_network_cycles
from ir_factory import random_batch, spec

from hw.gen.network import generate
from quant import golden, ir
from sim.freerun import simulate_freerun


def concat_block(rng: np.random.Generator) -> ir.Model:
    """stem 3×3 → 1×1 → (3×1 ‖ 1×3) → concat with stem → 1×1 fuse."""
    net = NetBuilder(rng, spec("image", (6, 6, 1), "uint8", 0, 1 / 255))
    layer, tensors = net.layer, net.tensors
    relu = {"stride": (1, 1), "cout": 2, "relu": True, "out_dtype": "uint8", "out_zero_point": 0}
    layer("conv2d", "stem", ["image"], kernel=(3, 3), padding=(1, 1, 1, 1), **(relu | {"cout": 3}))
    layer("conv2d", "b1", ["stem"], kernel=(1, 1), padding=(0, 0, 0, 0), **relu)
    layer("conv2d", "kx1", ["b1"], kernel=(3, 1), padding=(1, 1, 0, 0), **relu)
    layer("conv2d", "onexk", ["b1"], kernel=(1, 3), padding=(0, 0, 1, 1), **relu)
    for name in ("kx1", "onexk"):  # concat inputs share the output's quantisation
        tensors[name] = dataclasses.replace(tensors["stem"], name=name, shape=tensors[name].shape)
    layer("concat", "cat", ["kx1", "onexk", "stem"])
    layer("conv2d", "fuse", ["cat"], kernel=(1, 1), padding=(0, 0, 0, 0), stride=(1, 1), cout=3,
          relu=False, out_dtype="int8", out_zero_point=5)
    return net.model("concat_block", "fuse")


def test_concat_block_bit_exact_on_every_layer(rng, seed, tmp_path, build_root) -> None:
    model = concat_block(np.random.default_rng(3))
    net = generate(model, tmp_path / "rtl")
    assert "concat" in {e.module for e in net.engines}
    x = random_batch(model, rng, 6)["image"]
    want = golden.run(model, x)
    for pause in ("none", "random"):
        out = simulate_freerun(net, x, tmp_path / f"sim-{pause}", src_pause=pause,
                               sink_pause=pause, seed=seed, trace=True, root=build_root)
        assert out.sim.passed and not out.error, out.error or out.sim.message
        assert out.beats == [6 * 6 * 3] * len(x) and out.extra_beats == 0, "image lost or doubled"
        for op in model.ops:
            np.testing.assert_array_equal(out.traces[op.output], want[op.output],
                                          err_msg=op.name)
        if pause == "none":
            check_network_cycles("concat block", net, out.intervals[-1], out.end_cycles[0])
