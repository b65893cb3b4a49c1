"""Cycle-by-cycle vector testbench for pipelines without handshakes (requantiser, mac_array).

`vectors.json` in the simulation directory gives `inputs` (port name -> one unsigned value per
cycle), `outputs` (port names) and `strobe` (the output that marks a result, e.g. valid_o).
Inputs are driven after each falling edge; outputs are sampled after each rising edge where the
strobe is 1, and written to `outputs.json` (port name -> list of unsigned values).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge


class TB:
    """Clock and reset; drives and samples whole ports as unsigned integers."""

    def __init__(self, dut: object) -> None:
        self.dut = dut
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())

    async def reset(self, names: list[str]) -> None:
        for name in names:
            getattr(self.dut, name).value = 0
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, 3)
        await FallingEdge(self.dut.clk)
        self.dut.rst_n.value = 1


@cocotb.test()
async def vectors(dut: object) -> None:
    """Drive every input vector, one per cycle, then idle until the pipeline drained."""
    where = Path(os.environ.get("HCCR_CASE_DIR", "."))
    spec = json.loads((where / "vectors.json").read_text())
    inputs: dict[str, list[int]] = spec["inputs"]
    n = max(len(v) for v in inputs.values())
    drain = int(spec.get("drain", 16))
    strobe = getattr(dut, spec["strobe"])
    outs = {name: getattr(dut, name) for name in spec["outputs"]}
    got: dict[str, list[int]] = {name: [] for name in outs}
    tb = TB(dut)
    await tb.reset(list(inputs))
    ports = {name: getattr(dut, name) for name in inputs}
    for t in range(n + drain):
        await FallingEdge(dut.clk)
        for name, port in ports.items():
            values = inputs[name]
            port.value = values[t] if t < len(values) else 0
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(strobe.value):
            for name, port in outs.items():
                got[name].append(int(port.value))
    (where / "outputs.json").write_text(json.dumps(got))
