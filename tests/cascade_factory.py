"""A small random early-exit cascade (seed 004's shape: Mid-A, Mid-B and final heads on a conv
trunk) with an exit table whose thresholds spread golden's exits over every point."""

from __future__ import annotations

import dataclasses

import numpy as np

from quant import golden, ir
from quant.export import exit_table
from tests.ir_factory import make_op, random_batch, spec


def cascade(rng: np.random.Generator, classes: int = 12, shape: tuple[int, int, int] = (6, 6, 2),
            ) -> ir.Model:
    """x → c1 → a (Mid-A); c1 → c2 → b (Mid-B); c2 → c3 → g (GWAP) → f (final); int8 logits."""
    conv = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "out_dtype": "int8"}
    tensors = {"x": spec("x", shape, "int8", -3)}
    ops = []
    for name, src, kind, params in (
            ("c1", "x", "conv2d", {**conv, "cout": 6, "relu": True}),
            ("a", "c1", "dense", {"cout": classes, "out_dtype": "int8"}),
            ("c2", "c1", "conv2d", {**conv, "stride": (2, 2), "cout": 8}),
            ("b", "c2", "dense", {"cout": classes, "out_dtype": "int8"}),
            ("c3", "c2", "conv2d", {**conv, "cout": 8}),
            ("g", "c3", "gwap", {"out_dtype": "int8"}),
            ("f", "g", "dense", {"cout": classes, "out_dtype": "int8"})):
        op, out = make_op(kind, rng, name, [tensors[src]], **params)
        ops.append(op)
        tensors[name] = out
    return ir.Model("cascade", tensors, tuple(ops), ("x",), ("a", "b", "f"))


def with_exits(model: ir.Model, rng: np.random.Generator, mid_b: str, n: int = 200
               ) -> tuple[ir.Model, np.ndarray]:
    """`model` with an exit table (`exit_table`'s LUTs) whose thresholds send about
    1/(points) of `n` random images out at each point: each tested point's T is a quantile of
    its sums `S` over the images still in; (that model, the images)."""
    x = random_batch(model, rng, n)["x"]
    model = exit_table(model, 0.5, mid_b)
    tensors = golden.run(model, x)
    left = np.ones(n, bool)
    points = list(model.exits)
    for i, point in enumerate(points[:-1]):
        sums = golden.exit_terms(tensors[point.logits[0]], point.luts[0]).sum(axis=1)
        threshold = int(np.quantile(sums[left], 1 / (len(points) - i)))
        points[i] = dataclasses.replace(point, threshold=threshold)
        left &= sums > threshold
    return dataclasses.replace(model, exits=tuple(points)), x
