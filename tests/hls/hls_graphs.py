"""Multi-layer IR graphs for the hls4ml tests: several layer shapes share one g++ compile."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from ir_factory import make_op, spec

from quant import ir


def pot(op: ir.Op) -> ir.Op:
    """The op with every multiplier 1 and shifts lowered to keep `M / 2^s` about the same."""
    m = op.multiplier.astype(np.int64)
    bits = np.floor(np.log2(m)).astype(np.int64)
    shift = np.maximum(op.shift - bits, 0).astype(np.int32)
    return dataclasses.replace(op, multiplier=np.ones_like(op.multiplier), shift=shift)


class GraphBuilder:
    """Builds a model layer by layer with `ir_factory.make_op` (random weights and rq)."""

    def __init__(self, rng: np.random.Generator, x: ir.TensorSpec, power_of_two: bool) -> None:
        self.rng, self.power_of_two = rng, power_of_two
        self.tensors = {x.name: x}
        self.ops: list[ir.Op] = []

    def layer(self, kind: str, name: str, inputs: Sequence[str], **params: Any) -> ir.TensorSpec:
        """Append one op; `scale` fixes the output's scale (concat inputs must share it)."""
        scale = params.pop("scale", None)
        op, out = make_op(kind, self.rng, name, [self.tensors[t] for t in inputs], **params)
        if self.power_of_two and kind in ("conv2d", "dense"):
            op = pot(op)
        elif self.power_of_two and kind == "prelu":
            op = dataclasses.replace(op, multiplier_pos=1 << (op.multiplier_pos.bit_length() - 1))
        self.ops.append(op)
        self.tensors[name] = out if scale is None else dataclasses.replace(out, scale=scale)
        return self.tensors[name]

    def model(self, name: str, outputs: Sequence[str]) -> ir.Model:
        """The checked model."""
        first = next(iter(self.tensors))
        model = ir.Model(name, dict(self.tensors), tuple(self.ops), (first,), tuple(outputs))
        ir.check(model)
        return model


def conv_chain(rng: np.random.Generator, power_of_two: bool, in_dtype: str, in_zero_point: int
               ) -> ir.Model:
    """k×1 (unpadded, any input zero point), 1×k padded, 1×1, 3×3 stride 2 padded, 2×2 pool
    dropping a column, dense: relu and plain outputs, int8 and uint8, zero points at both ends."""
    g = GraphBuilder(rng, spec("x", (8, 7, 3), in_dtype, in_zero_point), power_of_two)
    g.layer("conv2d", "c31", ["x"], kernel=(3, 1), stride=(1, 1), padding=(0, 0, 0, 0), cout=4,
            relu=True, out_dtype="uint8", out_zero_point=0)
    g.layer("conv2d", "c13", ["c31"], kernel=(1, 3), stride=(1, 1), padding=(0, 0, 1, 1),
            cout=5, relu=False, out_dtype="int8", out_zero_point=0)
    g.layer("conv2d", "c11", ["c13"], kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0),
            cout=3, relu=True, out_dtype="int8", out_zero_point=-128)
    g.layer("conv2d", "c33s2", ["c11"], kernel=(3, 3), stride=(2, 2), padding=(1, 1, 1, 1),
            cout=4, relu=False, out_dtype="uint8", out_zero_point=37)
    g.layer("maxpool", "pool", ["c33s2"], kernel=(2, 2), stride=(2, 2), padding=(0, 0, 0, 0))
    g.layer("dense", "fc", ["pool"], cout=6, relu=False, out_dtype="int8", out_zero_point=-50)
    return g.model("conv_chain", ["fc"])


def branches(rng: np.random.Generator) -> ir.Model:
    """Fan-out into three convolutions, a three-input concat, a padded 2×2/2 max pool, dense,
    a dense on `[1, 1, C]` (pointwise), and a second output that is also read by the concat."""
    g = GraphBuilder(rng, spec("image", (6, 6, 2), "uint8", 0), power_of_two=False)
    same = {"stride": (1, 1), "out_dtype": "uint8", "out_zero_point": 0, "scale": 0.125}
    g.layer("conv2d", "a", ["image"], kernel=(3, 3), padding=(1, 1, 1, 1), cout=3, relu=True,
            **same)
    g.layer("conv2d", "b", ["image"], kernel=(1, 1), padding=(0, 0, 0, 0), cout=2, relu=True,
            **same)
    g.layer("conv2d", "c", ["image"], kernel=(2, 2), padding=(0, 1, 0, 1), cout=2, relu=False,
            **same)
    g.layer("concat", "cat", ["a", "b", "c"])
    g.layer("maxpool", "pool", ["cat"], kernel=(2, 2), stride=(2, 2), padding=(1, 1, 1, 1))
    g.layer("dense", "fc1", ["pool"], cout=5, relu=True, out_dtype="int8", out_zero_point=-128)
    g.layer("dense", "fc2", ["fc1"], cout=4, relu=False, out_dtype="int32", out_zero_point=0)
    return g.model("branches", ["fc2", "a"])


def pools(rng: np.random.Generator) -> ir.Model:
    """Average pool (2×3, stride 2×1), requant, padded conv, channel mean, gwap and global
    average pool (a 6×6 divisor, not a power of two), general multipliers, three outputs."""
    g = GraphBuilder(rng, spec("x", (6, 6, 3), "int8", -7), power_of_two=False)
    g.layer("avgpool", "ap", ["x"], kernel=(2, 3), stride=(2, 1), out_dtype="int8",
            out_zero_point=0)
    g.layer("requant", "rq", ["ap"], out_dtype="uint8", out_zero_point=0)
    g.layer("conv2d", "c", ["rq"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=4,
            relu=True, out_dtype="uint8", out_zero_point=0)
    g.layer("reduce_channels", "mean", ["c"], mode="mean", out_dtype="int8", out_zero_point=3)
    g.layer("gwap", "gw", ["c"], out_dtype="int8", out_zero_point=-5)
    g.layer("global_avgpool", "gap", ["c"], out_dtype="int8", out_zero_point=2)
    return g.model("pools", ["gw", "gap", "mean"])


def residual(rng: np.random.Generator) -> ir.Model:
    """Two residual adds (general multipliers, asymmetric zero points), one reading a tensor
    twice, then a global average pool and dense."""
    g = GraphBuilder(rng, spec("x", (5, 5, 3), "uint8", 0), power_of_two=False)
    g.layer("conv2d", "a", ["x"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=3,
            relu=True, out_dtype="uint8", out_zero_point=0)
    g.layer("conv2d", "b", ["a"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=3,
            relu=False, out_dtype="int8", out_zero_point=6)
    g.layer("add", "res", ["a", "b"], out_dtype="int8", out_zero_point=-9)
    g.layer("add", "twice", ["res", "res"], out_dtype="uint8", out_zero_point=0)
    g.layer("global_avgpool", "gap", ["twice"], out_dtype="int8", out_zero_point=1)
    g.layer("dense", "fc", ["gap"], cout=4, relu=False, out_dtype="int8", out_zero_point=-20)
    return g.model("residual", ["fc"])


def prelus(rng: np.random.Generator) -> ir.Model:
    """CNN9-style conv + PReLU (power-of-two M_pos, per-channel M_neg); a padded pool and a
    padded conv that want different storage of the same tensor (one reads a re-centred copy),
    a max pool and dense."""
    g = GraphBuilder(rng, spec("x", (6, 6, 2), "uint8", 0), power_of_two=True)
    g.layer("conv2d", "c1", ["x"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=3,
            relu=False, out_dtype="int8", out_zero_point=-4)
    g.layer("prelu", "p1", ["c1"], out_dtype="int8", out_zero_point=-96)
    g.layer("maxpool", "pool1", ["p1"], kernel=(2, 2), stride=(2, 2), padding=(1, 1, 1, 1))
    g.layer("conv2d", "c2", ["pool1"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
            cout=4, relu=False, out_dtype="int8", out_zero_point=-128)
    g.layer("prelu", "p2", ["c2"], out_dtype="uint8", out_zero_point=77)
    g.layer("maxpool", "pool", ["p2"], kernel=(2, 2), stride=(2, 2), padding=(0, 0, 0, 0))
    g.layer("dense", "fc", ["pool"], cout=5, relu=False, out_dtype="int8", out_zero_point=9)
    return g.model("prelus", ["fc"])


def attention(rng: np.random.Generator, power_of_two: bool) -> ir.Model:
    """C-CBAM/ECA-style: overlapping 3×3/2 padded max pool, channel gate (global pool, ECA
    reshape to `[1, C, 1]`, padded (3,1) conv, reshape back, sigmoid LUT, `[1,1,C]` mul), spatial
    gate (channel max and mean, concat, 3×3 conv, sigmoid, `[H,W,1]` mul), a 3×3/1 pool, dense."""
    g = GraphBuilder(rng, spec("x", (9, 8, 2), "uint8", 0), power_of_two)
    g.layer("conv2d", "c1", ["x"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=4,
            relu=False, out_dtype="int8", out_zero_point=-11)
    g.layer("maxpool", "pool1", ["c1"], kernel=(3, 3), stride=(2, 2), padding=(1, 1, 1, 1))
    g.layer("global_avgpool", "gap", ["pool1"], out_dtype="int8", out_zero_point=3)
    g.layer("reshape", "gap_t", ["gap"], shape=(1, 4, 1))
    g.layer("conv2d", "eca", ["gap_t"], kernel=(3, 1), stride=(1, 1), padding=(1, 1, 0, 0),
            cout=1, relu=False, out_dtype="int8", out_zero_point=-2)
    g.layer("reshape", "eca_c", ["eca"], shape=(1, 1, 4))
    g.layer("sigmoid", "att_c", ["eca_c"], out_dtype="uint8")
    x_c = g.layer("mul", "x_c", ["pool1", "att_c"], out_dtype="int8", out_zero_point=-5)
    g.layer("reduce_channels", "c_max", ["x_c"], mode="max")
    g.layer("reduce_channels", "c_mean", ["x_c"], mode="mean", out_dtype="int8",
            out_zero_point=x_c.zero_point, scale=x_c.scale)
    g.layer("concat", "c_cat", ["c_max", "c_mean"])
    g.layer("conv2d", "att_s_logit", ["c_cat"], kernel=(3, 3), stride=(1, 1),
            padding=(1, 1, 1, 1), cout=1, relu=False, out_dtype="int8", out_zero_point=4)
    g.layer("sigmoid", "att_s", ["att_s_logit"], out_dtype="int8")
    g.layer("mul", "x_s", ["x_c", "att_s"], out_dtype="uint8", out_zero_point=100)
    g.layer("maxpool", "pool2", ["x_s"], kernel=(3, 3), stride=(1, 1), padding=(0, 0, 0, 0))
    g.layer("dense", "fc", ["pool2"], cout=5, relu=False, out_dtype="int8", out_zero_point=7)
    return g.model("attention", ["fc", "att_c"])
