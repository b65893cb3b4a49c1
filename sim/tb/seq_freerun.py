"""cocotb side of the layer-sequential free-running harness (`sim.seq_freerun`): waits for
`done_o` (one trigger; the harness makes its own clock and plays its register script), then
writes `freerun.json` in the run directory: error flag, cycles to the interrupt, wall and CPU
time (the simulator runs in this process)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge


@cocotb.test()
async def freerun(dut: object) -> None:
    """Wait for done_o, record the run."""
    wall, cpu = time.perf_counter(), time.process_time()
    await RisingEdge(dut.done_o)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    Path("freerun.json").write_text(json.dumps({
        "error": bool(int(dut.error_o.value)), "irq_cycles": int(dut.cycles_o.value),
        "wall_s": wall, "cpu_s": cpu}))
