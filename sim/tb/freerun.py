"""cocotb testbench of the free-running harness (`hw.gen.harness`): no Python per cycle.

The harness makes its own clock and reset, feeds itself from a ROM and writes what it
receives to files; this test only waits for `done_o` (one trigger), then writes
`freerun.json` in the case directory: cycles until the last frame, frames, beats, extra beats
in the drain window, the timeout flag, wall and CPU time (the simulator runs in this process,
so CPU time is the speed on a machine shared with other jobs) and cycles per second.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge


@cocotb.test()
async def freerun(dut: object) -> None:
    """Wait for done_o, record the harness's counters."""
    where = Path(os.environ.get("HCCR_CASE_DIR", "."))
    wall, cpu = time.perf_counter(), time.process_time()
    await RisingEdge(dut.done_o)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cycles = int(dut.cycles_o.value)
    timeout = bool(int(dut.error_o.value))
    (where / "freerun.json").write_text(json.dumps({
        "cycles": cycles, "wall_s": wall, "cpu_s": cpu,
        "cycles_per_s": cycles / max(wall, 1e-9),
        "frames": int(dut.frames_o.value), "beats": int(dut.beats_o.value),
        "extra_beats": int(dut.extra_o.value), "timeout": timeout}))
    assert not timeout, f"cycle limit reached after {int(dut.frames_o.value)} frames"
