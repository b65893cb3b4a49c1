"""The custom hls4ml layers (sigmoid LUT, broadcast mul, reshape, channel max, overlapping max
pool) in C-simulation, bit for bit against golden."""

from __future__ import annotations

import pytest
from csim_check import assert_bit_exact
from hls_graphs import GraphBuilder, attention
from ir_factory import single_op, spec

pytestmark = [pytest.mark.hls, pytest.mark.slow]

IMAGES = 200


def _exact(model, rng, tmp_path):
    return assert_bit_exact(model, rng, tmp_path, IMAGES)


@pytest.mark.parametrize("power_of_two", [False, True], ids=["general", "pot"])
def test_attention_graph(rng, tmp_path, power_of_two):
    _exact(attention(rng, power_of_two), rng, tmp_path)


@pytest.mark.parametrize(("gate", "out_dtype"), [("global_avgpool", "uint8"),
                                                  ("reduce_channels", "int8")])
def test_mul_broadcasts_its_gate(rng, tmp_path, gate, out_dtype):
    """x · gate(x): a `[1, 1, C]` gate read before x, or an `[H, W, 1]` one per pixel."""
    g = GraphBuilder(rng, spec("x", (5, 3, 4), "int8", -6), power_of_two=False)
    g.layer(gate, "g", ["x"], out_dtype="int8", out_zero_point=9,
            **({"mode": "mean"} if gate == "reduce_channels" else {}))
    g.layer("mul", "y", ["x", "g"], out_dtype=out_dtype, out_zero_point=3)
    project = _exact(g.model("gated", ["y"]), rng, tmp_path)
    assert project.lowered.depths == {"y": 15}


@pytest.mark.parametrize(("kind", "params"), [
    ("sigmoid", {"shape": (3, 3, 5), "in_dtype": "int8", "out_dtype": "uint8"}),
    ("sigmoid", {"shape": (1, 1, 7), "in_dtype": "uint8", "out_dtype": "int8"}),
    ("reshape", {"shape": (1, 1, 6), "to": (1, 6, 1)}),
    ("reshape", {"shape": (2, 3, 4), "to": (4, 3, 2)}),
    ("reduce_channels", {"shape": (4, 5, 6), "mode": "max"}),
    ("maxpool", {"shape": (7, 6, 2), "kernel": (3, 3), "stride": (2, 2),
                 "padding": (1, 1, 1, 1)}),
    ("maxpool", {"shape": (8, 7, 3), "kernel": (2, 3), "stride": (3, 1),
                 "padding": (0, 1, 2, 0)}),
], ids=["sigmoid-int8", "sigmoid-uint8", "reshape-eca",
        "reshape-hwc", "channel-max", "pool-3x3s2-pad", "pool-2x3-gapped"])
def test_single_custom_op(rng, tmp_path, kind, params):
    _exact(single_op(kind, rng, **params), rng, tmp_path)
