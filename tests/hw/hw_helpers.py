"""Helpers shared by the RTL tests: pause pairs and the cycle-count check."""

from __future__ import annotations

import pytest

from hw.gen.engines import EngineSpec
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
