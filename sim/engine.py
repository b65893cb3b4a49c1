"""Simulate one IR op on its RTL engine: build (cached), write ROM images, stream images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.gen.engines import EngineSpec, Folding, engine_for
from quant import ir
from sim import runner
from sim.stream import StreamRun, dtype_port, run_stream


@dataclass
class EngineRun:
    """An engine, its build and what one simulation of it produced."""

    engine: EngineSpec
    built: runner.Build
    run: StreamRun


def build_engine(engine: EngineSpec, root: Path | None = None, waves: bool = False
                 ) -> runner.Build:
    """Compile the engine's module with its parameters (cached by parameters)."""
    return runner.build(engine.module, list(engine.sources), engine.params, root=root,
                        waves=waves)


def simulate_op(model: ir.Model, x: np.ndarray, directory: str | Path,
                fold: Folding | None = None, *, op_index: int = 0, src_pause: str | None = None,
                sink_pause: str | None = None, seed: int = 0, root: Path | None = None,
                fifo_depth: int = 16, mems: bool = True, x2: np.ndarray | None = None
                ) -> EngineRun:
    """Run images `x [N, H, W, C]` through the engine of `model.ops[op_index]`.

    Args:
        mems: write the ROM images (False keeps files already in `directory`, e.g. a test's
            deliberately corrupted ones).
        x2: images of the second input of a two-input op (add).
    """
    op = model.ops[op_index]
    engine = engine_for(op, model, fold, fifo_depth=fifo_depth)
    directory = Path(directory)
    if mems:
        engine.write_mems(directory)
    built = build_engine(engine, root)
    timeout = 20 * engine.bound_cycles + 5000
    first, second = "s_axis", None
    if engine.in2_spec is not None:
        if x2 is None:
            raise ValueError(f"{op.name}: a two-input engine needs x2")
        first, second = "s0_axis", (x2, dtype_port("s1_axis", engine.in2_spec.dtype))
    out = run_stream(built, directory, x, dtype_port(first, engine.in_spec.dtype),
                     dtype_port("m_axis", engine.out_spec.dtype), engine.out_beats,
                     src_pause=src_pause, sink_pause=sink_pause, seed=seed,
                     timeout_cycles=timeout, second=second)
    return EngineRun(engine, built, out)
