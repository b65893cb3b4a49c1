"""Helpers shared by the RTL tests: pause pairs, the cycle-count check and the checks of one
engine run."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import random_batch, single_op

from hw.gen.engines import EngineSpec, Folding, FoldingError, engine_for
from quant import golden, ir
from quant.compare import first_mismatch
from sim.engine import EngineRun, simulate_op
from sim.stream import StreamRun

# (source pause, sink pause) pairs every streaming test runs with: none (cycle counts), then
# idle cycles and backpressure on both sides; the mirrored pair only in the slow run.
PAUSE_PAIRS = [("none", "none"), ("1110", "random"),
               pytest.param("random", "1110", marks=pytest.mark.slow)]


def check_cycles(case: str, eng: EngineSpec, out: StreamRun) -> None:
    """Steady-state cycles per image (between the last two images' ends) vs the formula.

    Compute-bound engines (formula >= 1.2x the input and output beats) must be within 10 % of
    (OC/PE)*(IC*KH*KW/SIMD)*HO*WO; the others within 20 % of the slowest stream, the line
    buffer's fill overlapping the previous image only partly when rates are close.
    """
    per_image = out.intervals[-1]
    print(f"{case}: {per_image:.0f} cycles/image, formula {eng.cycles}, in {eng.in_beats}, "
          f"out {eng.out_beats} beats, {out.cycles_per_s:.0f} cycles/s")
    if eng.cycles >= 1.2 * max(eng.in_beats, eng.out_beats):
        assert abs(per_image / eng.cycles - 1) <= 0.10, (per_image, eng.cycles)
    else:
        assert eng.bound_cycles <= per_image <= 1.2 * eng.bound_cycles, (per_image,
                                                                         eng.bound_cycles)


def demo_shaped_net(rng, size: int = 64, widths=(16, 32, 64, 96), classes: int = 100):
    """The demo's network shape with random weights: `size`² uint8 input, per width a conv 3×3
    (pad 1, ReLU) and a 2×2 max pool, then dense to int8 logits with a nonzero zero point."""
    from ir_factory import make_op, spec

    from quant import ir

    tensors = {"input": spec("input", (size, size, 1), "uint8", 0, 1 / 255)}
    ops = []
    prev = "input"
    for i, width in enumerate(widths, 1):
        for kind, name, params in (
                ("conv2d", f"conv{i}", {"kernel": (3, 3), "stride": (1, 1),
                                        "padding": (1, 1, 1, 1), "cout": width, "relu": True,
                                        "out_dtype": "int8", "out_zero_point": -128}),
                ("maxpool", f"pool{i}", {"kernel": (2, 2), "stride": (2, 2),
                                         "padding": (0, 0, 0, 0)})):
            op, out = make_op(kind, rng, name, [tensors[prev]], corners=0.0, **params)
            ops.append(op)
            tensors[name] = out
            prev = name
    op, out = make_op("dense", rng, "fc", [tensors[prev]], corners=0.0, cout=classes,
                      relu=False, out_dtype="int8", out_zero_point=7)
    ops.append(op)
    tensors["fc"] = out
    model = ir.Model("demo_shaped", tensors, tuple(ops), ("input",), ("fc",))
    ir.check(model)
    return model


def check_engine_run(res: EngineRun, want: np.ndarray, name: str, case: str,
                     timed: bool) -> None:
    """What every engine test asserts: the simulation passed, each image came out whole and
    once, every element equals golden's `want`, and (`timed`: no pauses) cycles per image."""
    out, eng = res.run, res.engine
    assert out.sim.passed, out.sim.message or out.error
    assert out.beats == [eng.out_beats] * len(want), "an image was lost, split or duplicated"
    problem = first_mismatch(want, out.frames, name=name)
    assert problem is None, problem
    if timed:
        check_cycles(case, eng, out)


def check_op(model: ir.Model, images: int, case: str, src: str, sink: str, rng, seed: int,
             tmp_path, build_root, fold: Folding | None = None) -> EngineRun:
    """Simulate the engine of `model`'s one op on random images (a second input, `x2`, too)
    with the given pauses, and check it against golden as `check_engine_run` does."""
    feeds = random_batch(model, rng, images)
    want = golden.run(model, feeds)["y"]
    res = simulate_op(model, feeds["x"], tmp_path, fold, src_pause=src, sink_pause=sink,
                      seed=seed, root=build_root, x2=feeds.get("x2"))
    check_engine_run(res, want, f"{model.ops[0].kind} {case}", case,
                     timed=src == sink == "none")
    return res


def check_takes_no_folding(kind: str, rng, pe: int = 2, simd: int = 1) -> None:
    """An unfolded engine refuses PE/SIMD > 1, naming the op kind."""
    model = single_op(kind, rng, shape=(2, 2, 4))
    with pytest.raises(FoldingError, match=f"{kind} takes no folding"):
        engine_for(model.ops[0], model, Folding(pe, simd))
