"""Hypothesis strategies for random valid IR v1 graphs: one input, one output, every op kind.

A graph is a chain of moves on the current tensor; a move is one op (any kind) or a small
branching block: a residual add, a channel or spatial gate (sigmoid times the tensor), a
concat of two or three branches (requantised to one quantisation). Shapes are small and odd
(1..7 per side), windows are k×1 / 1×k / k×k with strides and asymmetric padding, zero points
are drawn at the range ends often, and multipliers/shifts saturate in a drawn share of
channels. Hypothesis draws the structure and every window (so failures shrink to few, simple
ops); the weights come from `ir_factory.make_op` with a NumPy generator seeded by a draw.

    @given(graphs())
    def test_x(case: Case) -> None: ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from quant import ir
from tests.ir_factory import EIGHT_BIT, make_op, random_batch, random_spec

MAX_SIDE = 7
MAX_CHANNELS = 4
# Ops whose output quantisation is free (make_op takes out_dtype / out_zero_point).
FREE_OUT = {"conv2d", "dense", "avgpool", "global_avgpool", "gwap", "add", "mul", "requant",
            "sigmoid", "prelu"}
UNARY = ("conv2d", "dense", "maxpool", "avgpool", "global_avgpool", "gwap", "reduce_channels",
         "requant", "sigmoid", "prelu", "reshape")
BLOCKS = ("residual", "channel_gate", "spatial_gate", "concat")
MOVES = UNARY + BLOCKS


@dataclass
class Case:
    """A fuzz case: the checked model, its feeds and the moves it was built from."""

    model: ir.Model
    feeds: dict[str, np.ndarray]
    moves: tuple[str, ...]

    @property
    def combo(self) -> str:
        """The op kinds used, sorted, joined by '+' (the op combination a run reports)."""
        return "+".join(sorted({op.kind for op in self.model.ops}))


class _Builder:
    """Appends random ops to a graph; hypothesis draws structure, `rng` the arrays."""

    def __init__(self, draw: Callable[[st.SearchStrategy], Any], rng: np.random.Generator,
                 corners: float, x: ir.TensorSpec) -> None:
        self.draw, self.rng, self.corners = draw, rng, corners
        self.tensors = {x.name: x}
        self.ops: list[ir.Op] = []

    def layer(self, kind: str, inputs: list[str], out_dtype: str | None = None,
              **params: Any) -> str:
        """Append one op of `kind` reading `inputs`; its output tensor's name."""
        name = f"{kind}{len(self.ops)}"
        ins = [self.tensors[t] for t in inputs]
        if kind in ("conv2d", "maxpool", "avgpool") and "kernel" not in params:
            params.update(self.window(ins[0].shape[:2], padded=kind != "avgpool"))
            if kind == "avgpool":
                del params["padding"]
        if kind in FREE_OUT:
            dtype = out_dtype or self.draw(st.sampled_from(EIGHT_BIT))
            if kind == "sigmoid":  # its LUT's dtype is drawn from out_dtype
                params["out_dtype"] = dtype
            else:
                lo, hi = ir.DTYPES[dtype]
                params.setdefault("out_zero_point", self.draw(st.sampled_from([None, lo, hi])))
                params["out_dtype"] = dtype
        if kind in ("conv2d", "dense") and "cout" not in params:
            params["cout"] = self.draw(st.integers(1, 5))
        if kind == "reduce_channels":
            params.setdefault("mode", self.draw(st.sampled_from(["max", "mean"])))
            if params["mode"] == "mean":
                params["out_dtype"] = out_dtype or self.draw(st.sampled_from(EIGHT_BIT))
        if kind == "reshape" and "shape" not in params:
            h, w, c = ins[0].shape
            n = h * w * c
            params["shape"] = self.draw(st.sampled_from([(w, h, c), (1, 1, n), (n, 1, 1)]))
        op, out = make_op(kind, self.rng, name, ins, corners=self.corners, **params)
        self.ops.append(op)
        self.tensors[name] = out
        return name

    def window(self, hw: tuple[int, ...], padded: bool, same: bool = False) -> dict[str, Any]:
        """Kernel 1..3 per side (clamped to fit), stride 1..2, padding below the kernel;
        `same`: stride 1 and padding that keeps H and W."""
        kh, kw = (self.draw(st.integers(1, 3)) for _ in range(2))
        if same:
            top, left = self.draw(st.integers(0, kh - 1)), self.draw(st.integers(0, kw - 1))
            pad = (top, kh - 1 - top, left, kw - 1 - left)
            return {"kernel": (kh, kw), "stride": (1, 1), "padding": pad}
        stride = tuple(self.draw(st.integers(1, 2)) for _ in range(2))
        pad = tuple(self.draw(st.integers(0, k - 1)) if padded else 0 for k in (kh, kh, kw, kw))
        kh = min(kh, hw[0] + pad[0] + pad[1])
        kw = min(kw, hw[1] + pad[2] + pad[3])
        pad = (min(pad[0], kh - 1), min(pad[1], kh - 1), min(pad[2], kw - 1), min(pad[3], kw - 1))
        if hw[0] + pad[0] + pad[1] < kh or hw[1] + pad[2] + pad[3] < kw:
            kh, kw = min(kh, hw[0]), min(kw, hw[1])
            pad = (0, 0, 0, 0)
        return {"kernel": (kh, kw), "stride": stride, "padding": pad}

    def keep_hw(self, cur: str, keep_c: bool = False) -> str:
        """A branch of `cur` with the same H and W (and C with `keep_c`): a 'same' conv or max
        pool, or a pixel op."""
        kind = self.draw(st.sampled_from(["conv2d", "maxpool", "requant", "prelu", "sigmoid"]))
        if kind in ("conv2d", "maxpool"):
            params = self.window(self.tensors[cur].shape[:2], True, same=True)
            if kind == "conv2d" and keep_c:
                params["cout"] = self.tensors[cur].shape[2]
            return self.layer(kind, [cur], **params)
        return self.layer(kind, [cur])

    def requant_to(self, src: str, like: ir.TensorSpec) -> str:
        """`src` requantised to `like`'s dtype, zero point and scale (a concat input)."""
        t = self.tensors[src]
        if (t.dtype, t.zero_point, t.scale) == (like.dtype, like.zero_point, like.scale):
            return src
        name = self.layer("requant", [src], out_dtype=like.dtype, out_zero_point=like.zero_point)
        self.tensors[name] = dataclasses.replace(self.tensors[name], scale=like.scale)
        return name

    def move(self, move: str, cur: str) -> str:
        """Apply one move to the current tensor; the new current tensor."""
        if move in UNARY:
            return self.layer(move, [cur])
        c = self.tensors[cur].shape[2]
        if move == "residual":
            return self.layer("add", [cur, self.keep_hw(cur, keep_c=True)])
        if move == "channel_gate":
            g = self.layer("global_avgpool", [cur])
            if self.draw(st.booleans()):
                g = self.layer("dense", [g], cout=c)
            return self.layer("mul", [cur, self.layer("sigmoid", [g])])
        if move == "spatial_gate":
            g = self.layer("reduce_channels", [cur])
            if self.draw(st.booleans()):
                g = self.layer("conv2d", [g], cout=1, **self.window(
                    self.tensors[g].shape[:2], True, same=True))
            return self.layer("mul", [cur, self.layer("sigmoid", [g])])
        n = self.draw(st.integers(2, 3))
        branches = [cur] if self.draw(st.booleans()) else []
        branches += [self.keep_hw(cur) for _ in range(n - len(branches))]
        like = self.tensors[branches[0]]
        return self.layer("concat", [self.requant_to(b, like) for b in branches])


def zero_points(dtype: str) -> st.SearchStrategy[int]:
    """Zero points of `dtype`: its ends, 0, or anything in range."""
    lo, hi = ir.DTYPES[dtype]
    return st.one_of(st.sampled_from([lo, hi, 0 if lo < 0 else lo]), st.integers(lo, hi))


@st.composite
def graphs(draw: Callable[[st.SearchStrategy], Any], max_moves: int = 4, images: int = 2,
           head_int32: bool = True) -> Case:
    """A random valid IR v1 model with one input "x" and one output, and `images` random images.

    Args:
        draw: hypothesis's draw.
        max_moves: most moves (ops or blocks) in the chain.
        images: images per feed.
        head_int32: allow a final dense or conv with an int32 output.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from(EIGHT_BIT))
    shape = (draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE)),
             draw(st.integers(1, MAX_CHANNELS)))
    x = random_spec(rng, "x", shape, dtype, draw(zero_points(dtype)))
    b = _Builder(draw, rng, draw(st.sampled_from([0.0, 0.14, 0.5])), x)
    moves = tuple(draw(st.lists(st.sampled_from(MOVES), min_size=1, max_size=max_moves)))
    cur = "x"
    for move in moves:
        cur = b.move(move, cur)
    if head_int32 and draw(st.booleans()):
        cur = b.layer(draw(st.sampled_from(["conv2d", "dense"])), [cur], out_dtype="int32")
        moves += ("head_int32",)
    model = ir.Model("fuzz", dict(b.tensors), tuple(b.ops), ("x",), (cur,))
    ir.check(model)
    return Case(model, random_batch(model, rng, images), moves)
