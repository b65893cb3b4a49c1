"""Helpers shared by the RTL tests: pause pairs, the cycle-count check and the checks of one
engine run."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import make_op, random_batch, single_op, spec

from hw.gen.engines import EngineSpec, Folding, FoldingError, engine_for
from hw.gen.network import Network
from quant import golden, ir
from quant.compare import first_mismatch
from sim.engine import EngineRun, simulate_op
from sim.stream import StreamRun

# (source pause, sink pause) pairs every streaming test runs with: none (cycle counts), then
# idle cycles and backpressure on both sides; the mirrored pair only in the slow run.
PAUSE_PAIRS = [("none", "none"), ("1110", "random"),
               pytest.param("random", "1110", marks=pytest.mark.slow)]


# Engines behind the line buffer (window.sv): their cycles per image vary by the refill.
WINDOWED = ("conv2d", "dense", "maxpool", "avgpool")


def refill_cycles(eng: EngineSpec) -> int:
    """What a windowed engine may lose per image: the next image's first KH rows, of which
    the line buffer (KH + SH rows) takes SH while the last windows are read; the other
    KH - SH rows arrive after them, one beat a cycle, while the window frees the image's last
    rows (one a cycle, at most KH) and restarts; an input without slack (formula = input
    beats) waits that long again, the full line buffer refusing it while those rows are
    freed. dense is a 1x1 window of one pixel."""
    p = eng.params
    kh, sh, w, c = ((1, 1, 1, p["N_IN"]) if eng.module == "dense" else
                    (p["KH"], p["SH"], p["W"], p.get("IC", p.get("C"))))
    return max(kh - sh, 0) * w * c + 2 * (kh + 1)


# Edges from an engine taking an image's last element to the sink taking its last result:
# rq_tail's DELAY (prelu, mul, gwap register their product or ROM word first), the
# requantiser's 4 stages, the result FIFO's write, the sink; sigmoid writes its LUT word into
# the FIFO as it takes the element; concat passes the beat on in the edge it takes it.
RESULT_LATENCY = {"requant": 5, "add": 5, "global_avgpool": 5, "reduce_channels": 5,
                  "prelu": 6, "mul": 6, "gwap": 6, "sigmoid": 1, "concat": 0}
# The stream testbench's source has its first beat taken at the second edge after the time
# origin of `end_cycles` (the edge that ends reset).
FIRST_TAKE = 2
# Edges an engine's result may lag its last take in a network: RESULT_LATENCY's largest, the
# FIFO after it, the take itself.
PIPE_SLACK = max(RESULT_LATENCY.values()) + 2 + FIRST_TAKE


def check_cycles(case: str, eng: EngineSpec, out: StreamRun, first_take: int = FIRST_TAKE
                 ) -> None:
    """Steady-state cycles per image (between the last two images' ends) vs the formula.

    An engine that takes one element a cycle, its results never stalling (rq_tail's credits),
    takes exactly the slowest of its formula, input and output beats, and its first image
    ends `RESULT_LATENCY` after its last element is taken (the first at edge `first_take`);
    a windowed engine takes at least that and at most `refill_cycles` more.
    """
    per_image = out.intervals[-1]
    print(f"{case}: {per_image:.0f} cycles/image, formula {eng.cycles}, in {eng.in_beats}, "
          f"out {eng.out_beats} beats, first image out after {out.end_cycles[0]:.0f}, "
          f"{out.cycles_per_s:.0f} cycles/s")
    if eng.module in WINDOWED:
        refill = refill_cycles(eng)
        assert eng.bound_cycles <= per_image <= eng.bound_cycles + refill, (
            per_image, eng.bound_cycles, refill)
    else:
        assert per_image == eng.bound_cycles, (per_image, eng.bound_cycles)
        last_take = first_take + eng.cycles - 1
        assert out.end_cycles[0] == last_take + RESULT_LATENCY[eng.module], (
            out.end_cycles[0], last_take)


def check_network_cycles(label: str, net: Network, per_image: float, first: float | None = None
                         ) -> None:
    """Steady-state cycles per image of a network without pauses: the slowest engine's
    formula at least, and no more than the largest engine bound (a windowed engine's with its
    refill): each engine keeps its own pace and the network runs at the slowest one's.
    `first`: the first image's last result (cycles from reset), at least the most input beats
    of one engine (it takes one a cycle) and at most every engine's bound in turn (the
    estimator's latency bound) plus `PIPE_SLACK` each for its pipeline and FIFO."""
    bounds = [e.bound_cycles + (refill_cycles(e) if e.module in WINDOWED else 0)
              for e in net.engines]
    high = max(bounds)
    print(f"{label}: {per_image:.0f} cycles/image, analytical {net.pipeline_cycles} (slowest "
          f"engine), at most {high}; first image after {first}, at most "
          f"{sum(bounds) + PIPE_SLACK * len(bounds)}")
    assert net.pipeline_cycles <= per_image <= high, (per_image, net.pipeline_cycles, high)
    if first is not None:
        low = max(e.in_beats for e in net.engines)
        assert low <= first <= sum(bounds) + PIPE_SLACK * len(bounds), (first, low, bounds)


class NetBuilder:
    """A test network from `image` on, one `make_op` layer (no corner draws) at a time."""

    def __init__(self, rng: np.random.Generator, image: ir.TensorSpec) -> None:
        self.rng, self.image = rng, image.name
        self.tensors: dict[str, ir.TensorSpec] = {image.name: image}
        self.ops: list[ir.Op] = []

    def layer(self, kind: str, name: str, inputs: list[str], **params: object) -> None:
        op, out = make_op(kind, self.rng, name, [self.tensors[t] for t in inputs], corners=0.0,
                          **params)
        self.ops.append(op)
        self.tensors[name] = out

    def model(self, name: str, output: str) -> ir.Model:
        """The checked model of every layer so far, from the image to `output`."""
        model = ir.Model(name, self.tensors, tuple(self.ops), (self.image,), (output,))
        ir.check(model)
        return model


def demo_shaped_net(rng, size: int = 64, widths=(16, 32, 64, 96), classes: int = 100):
    """The demo's network shape with random weights: `size`² uint8 input, per width a conv 3×3
    (pad 1, ReLU) and a 2×2 max pool, then dense to int8 logits with a nonzero zero point."""
    net = NetBuilder(rng, spec("input", (size, size, 1), "uint8", 0, 1 / 255))
    prev = "input"
    for i, width in enumerate(widths, 1):
        net.layer("conv2d", f"conv{i}", [prev], kernel=(3, 3), stride=(1, 1),
                  padding=(1, 1, 1, 1), cout=width, relu=True, out_dtype="int8",
                  out_zero_point=-128)
        net.layer("maxpool", f"pool{i}", [f"conv{i}"], kernel=(2, 2), stride=(2, 2),
                  padding=(0, 0, 0, 0))
        prev = f"pool{i}"
    net.layer("dense", "fc", [prev], cout=classes, relu=False, out_dtype="int8",
              out_zero_point=7)
    return net.model("demo_shaped", "fc")


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
             tmp_path, build_root, fold: Folding | None = None,
             feeds: dict[str, np.ndarray] | None = None) -> EngineRun:
    """Simulate the engine of `model`'s one op on `feeds` (default: `images` random images; a
    second input, `x2`, too) with the given pauses, and check it against golden as
    `check_engine_run` does."""
    feeds = random_batch(model, rng, images) if feeds is None else feeds
    want = golden.run(model, feeds)["y"]
    res = simulate_op(model, feeds["x"], tmp_path, fold, src_pause=src, sink_pause=sink,
                      seed=seed, root=build_root, x2=feeds.get("x2"))
    check_engine_run(res, want, f"{model.ops[0].kind} {case}", case,
                     timed=src == sink == "none")
    return res


def unfolded_bit_exact(kind: str, cases: dict, images: int):
    """The bit-exact test of an unfolded engine (assign it to `test_<kind>_bit_exact`): per
    case id and pause pair, `check_op` on `kind`'s single-op model for `cases[id]` = (input
    HWC, input dtype, input zero point, output dtype, output zero point), a requantiser
    without corner draws, so that no case is all saturated or shifted to zero."""
    @pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
    @pytest.mark.parametrize("case", list(cases))
    def test(case: str, src: str, sink: str, rng, seed, tmp_path, build_root) -> None:
        shape, dtype, zp, out_dtype, out_zp = cases[case]
        model = single_op(kind, rng, shape=shape, in_dtype=dtype, in_zero_point=zp,
                          out_dtype=out_dtype, out_zero_point=out_zp, corners=0.0)
        check_op(model, images, case, src, sink, rng, seed, tmp_path, build_root)
    return test


def check_takes_no_folding(kind: str, rng, pe: int = 2, simd: int = 1) -> None:
    """An unfolded engine refuses PE/SIMD > 1, naming the op kind."""
    model = single_op(kind, rng, shape=(2, 2, 4))
    with pytest.raises(FoldingError, match=f"{kind} takes no folding"):
        engine_for(model.ops[0], model, Folding(pe, simd))
