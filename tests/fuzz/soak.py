"""AXI soak of a generated dataflow network: random valid/ready on every engine boundary.

`soak` generates the network, swaps every top-level FIFO for `soak_fifo.sv` (random stalls on
both sides, beat/tlast counters, an AXI hold check on the producer), runs the free-running
harness (random source and sink stalls too) with every engine's output stream traced, and
checks: every stream's beats and tlasts (pushed = popped = images × elements, images tlasts),
no protocol violation, every engine's output bit-exact against golden, no lost, split or
extra output frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hw.gen.engines import Folding
from hw.gen.network import generate
from quant import golden, ir
from sim import runner
from sim.freerun import simulate_freerun
from tests.ir_factory import make_op, random_batch, spec

SOAK_FIFO = Path(__file__).with_name("soak_fifo.sv")


@dataclass
class Soak:
    """What a soak run measured (its cycles and wall time) and counted: beats and tlasts over
    every stream, the fewest stalled cycles on any stream's side, and every problem found."""

    images: int
    cycles: int
    wall_s: float
    streams: int = 0
    beats: int = 0
    tlasts: int = 0
    least_stalls: int = 0
    problems: list[str] = field(default_factory=list)


def branching_net(rng: np.random.Generator) -> ir.Model:
    """conv → concat(conv, max pool) → conv → residual add (prelu) → spatial gate → channel gate
    (dense) → conv 3×1 stride 2 → dense: forks, concat, add and mul joins, one input."""
    tensors = {"image": spec("image", (9, 7, 2), "uint8", 0, 1 / 255)}
    ops: list[ir.Op] = []

    def layer(kind: str, name: str, inputs: Sequence[str], **params: Any) -> None:
        op, out = make_op(kind, rng, name, [tensors[t] for t in inputs], corners=0.0, **params)
        ops.append(op)
        tensors[name] = out

    same = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1)}
    layer("conv2d", "conv1", ["image"], cout=4, relu=True, out_dtype="int8", **same)
    layer("maxpool", "pool", ["conv1"], **same)
    layer("concat", "cat", ["conv1", "pool"])
    layer("conv2d", "conv2", ["cat"], kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0),
          cout=4, out_dtype="int8")
    layer("prelu", "act", ["conv2"], out_dtype="int8")
    layer("add", "res", ["conv2", "act"], out_dtype="int8")
    layer("reduce_channels", "s_max", ["res"], mode="max")
    layer("sigmoid", "s_att", ["s_max"], out_dtype="uint8")
    layer("mul", "x_s", ["res", "s_att"], out_dtype="int8")
    layer("global_avgpool", "gap", ["x_s"], out_dtype="int8")
    layer("dense", "fc_att", ["gap"], cout=4, out_dtype="int8")
    layer("sigmoid", "c_att", ["fc_att"], out_dtype="uint8")
    layer("mul", "x_c", ["x_s", "c_att"], out_dtype="int8")
    layer("conv2d", "conv3", ["x_c"], kernel=(3, 1), stride=(2, 1), padding=(1, 0, 0, 0),
          cout=3, out_dtype="uint8")
    layer("dense", "fc", ["conv3"], cout=5, out_dtype="int8")
    model = ir.Model("soak", tensors, tuple(ops), ("image",), ("fc",))
    ir.check(model)
    return model


FOLDING = {"conv1": Folding(2, 1), "conv2": Folding(1, 4, True), "conv3": Folding(3, 2),
           "fc": Folding(5, 3)}


def soak(model: ir.Model, images: int, directory: Path, folding: dict[str, Folding],
         seed: int = 1, drop: int = 0, stalls: bool = True) -> Soak:
    """Run `images` random images through the soaked network (module doc); `drop` plants a
    lost beat (the push number, 1-based, in every FIFO); `stalls` off: the FIFOs never stall."""
    net = generate(model, directory / "rtl", folding)
    top = net.top_file.read_text()
    assert top.count("\n  fifo #(") == len(net.fifos), "the top's FIFO instances changed form"
    net.top_file.write_text(top.replace("\n  fifo #(", "\n  soak_fifo #(")
                            + SOAK_FIFO.read_text())
    sim = directory / "sim"
    sim.mkdir(parents=True, exist_ok=True)
    (sim / "soak_cfg.mem").write_text(f"{int(stalls):08x}\n{drop:08x}\n")
    (sim / "soak_counts.txt").unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    x = random_batch(model, rng, images)[model.inputs[0]]
    out = simulate_freerun(net, x, sim, src_pause="random", sink_pause="random", seed=seed,
                           trace=True, root=runner.build_root())
    result = Soak(images, cycles=out.cycles, wall_s=out.wall_s)
    if out.error or not out.sim.passed:
        result.problems.append(out.error or out.sim.message)
    want = golden.run(model, x)
    for name, got in out.traces.items():
        if got.shape != want[name].shape or not np.array_equal(got, want[name]):
            result.problems.append(f"engine {name}: output stream differs from golden")
    fifos = {f"q_{f.name.replace('.', '_')}": f for f in net.fifos}
    counts = sim / "soak_counts.txt"
    lines = counts.read_text().splitlines() if counts.exists() else []
    seen = set()
    for line in lines:
        path, *numbers = line.split()
        name = path.rsplit(".", 1)[-1].removeprefix("u_")
        pushed, push_lasts, popped, pop_lasts, violations, *stalls = map(int, numbers)
        elems = images * math.prod(model.tensors[fifos[name].tensor].shape)
        seen.add(name)
        result.least_stalls = min(stalls) if not result.streams else min(result.least_stalls,
                                                                            *stalls)
        result.streams += 1
        result.beats += pushed
        result.tlasts += push_lasts
        if (pushed, popped, push_lasts, pop_lasts) != (elems, elems, images, images):
            result.problems.append(
                f"stream {name}: {pushed} beats in, {popped} out, {push_lasts}/{pop_lasts} "
                f"tlasts, expected {elems} beats and {images} tlasts")
        if violations:
            result.problems.append(f"stream {name}: {violations} beats changed or withdrawn "
                                   "before they were taken")
    if seen != set(fifos):
        result.problems.append(f"no counts from {sorted(set(fifos) - seen)}")
    return result
