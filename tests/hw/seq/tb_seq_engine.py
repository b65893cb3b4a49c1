"""cocotb testbench of seq_engine (the whole layer-sequential engine): cocotbext-axi's AxiRam as
DDR with random R/AR pauses, AxiLiteMaster on the registers.

The test (test_seq_engine.py) writes into the run directory `program.bin`, `data.bin`,
`inputs.bin` and `run.json` ({"images", "pause", "seed", "max_cycles", optional "fail_read" /
"fail_write": [lo, hi) of DDR addresses answered "resp" (SLVERR unless DECERR),
"program_bytes": PROGRAM_BYTES instead of the program's size, "restart": write START again
while busy, "again": run a second time on the data block `data2.bin`); the testbench lays them
out in DDR as the driver does (data after the program, 64-byte aligned; records 4 KB aligned),
starts the engine, waits for the interrupt, and writes back `outputs.bin` (the output records)
and `result.json` (STATUS, ERROR_CODE, CYCLES, STALL, IMAGES_DONE, EXITS_0..3, the cycles to
the interrupt); the second run's records go to `outputs2.bin`.
"""

from __future__ import annotations

import json
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiRam, AxiResp
from tb_axil import Registers
from tb_seq_dma import fail_at

from sim.axis import pause_generator

PROGRAM_BASE = 0x1000


def _up(n: int, align: int) -> int:
    return -(-n // align) * align


class TB(Registers):
    """Clock, reset, DDR, the register master and the run's files."""

    def __init__(self, dut: object) -> None:
        self.run = json.loads(Path("run.json").read_text())
        self.program = Path("program.bin").read_bytes()
        self.data = Path("data.bin").read_bytes()
        self.inputs = Path("inputs.bin").read_bytes()
        self.data_base = PROGRAM_BASE + _up(len(self.program), 64)
        self.input_base = _up(self.data_base + len(self.data) + 1, 4096)
        self.output_base = _up(self.input_base + len(self.inputs) + 1, 4096)
        self.output_bytes = int(self.run["output_bytes"]) * int(self.run["images"])
        size = 1 << (self.output_base + self.output_bytes + 4096).bit_length()
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst_n,
                          reset_active_level=False, size=size)
        for obj in (self.ram.read_if, self.ram.write_if):
            obj.log.setLevel("WARNING")
        pause, seed = self.run.get("pause", "none"), int(self.run.get("seed", 1))
        self.ram.read_if.r_channel.set_pause_generator(pause_generator(pause, seed))
        self.ram.read_if.ar_channel.set_pause_generator(pause_generator(pause, seed + 1))
        self.ram.write_if.w_channel.set_pause_generator(pause_generator(pause, seed + 2))
        self.ram.write_if.b_channel.set_pause_generator(pause_generator(pause, seed + 3))
        for key, port, method in (("fail_read", self.ram.read_if, "_read"),
                                  ("fail_write", self.ram.write_if, "_write")):
            if key in self.run:
                fail_at(port, method, range(*self.run[key]),
                        AxiResp[self.run.get("resp", "SLVERR")])
        super().__init__(dut)

    def bit(self, reg: str, name: str) -> int:
        return self.regs[reg].fields[name].mask


@cocotb.test()
async def run_program(dut: object) -> None:
    """Load, start, wait for the interrupt (never longer than max_cycles), read back."""
    tb = TB(dut)
    await tb.reset()
    tb.ram.write(PROGRAM_BASE, tb.program)
    tb.ram.write(tb.data_base, tb.data)
    tb.ram.write(tb.input_base, tb.inputs)
    tb.ram.write(tb.output_base, bytes(tb.output_bytes))
    for reg, value in (("PROGRAM_BASE", PROGRAM_BASE),
                       ("PROGRAM_BYTES", tb.run.get("program_bytes", len(tb.program))),
                       ("DATA_BASE", tb.data_base), ("INPUT_BASE", tb.input_base),
                       ("OUTPUT_BASE", tb.output_base), ("IMAGE_COUNT", tb.run["images"])):
        await tb.write(reg, value)
    cycles = await _start_and_wait(tb, dut)
    result = {"irq_cycles": cycles, "status": await tb.read("STATUS"),
              "error_code": await tb.read("ERROR_CODE"),
              "cycles": await tb.read("CYCLES_LO") | await tb.read("CYCLES_HI") << 32,
              "stall": await tb.read("STALL_LO") | await tb.read("STALL_HI") << 32,
              "images_done": await tb.read("IMAGES_DONE"),
              "exits": [await tb.read(f"EXITS_{i}") for i in range(4)]}
    Path("outputs.bin").write_bytes(tb.ram.read(tb.output_base, tb.output_bytes))
    Path("result.json").write_text(json.dumps(result))
    if tb.run.get("again"):
        await tb.write("STATUS", tb.bit("STATUS", "DONE"))
        tb.ram.write(tb.data_base, Path("data2.bin").read_bytes())
        tb.ram.write(tb.output_base, bytes(tb.output_bytes))
        await _start_and_wait(tb, dut)
        Path("outputs2.bin").write_bytes(tb.ram.read(tb.output_base, tb.output_bytes))


async def _start_and_wait(tb: TB, dut: object) -> int:
    """Write START (twice with "restart"); the cycles until the interrupt."""
    await tb.write("CTRL", tb.bit("CTRL", "IRQ_EN") | tb.bit("CTRL", "START"))
    cycles = 0
    if tb.run.get("restart"):
        await ClockCycles(dut.clk, 20)
        assert await tb.read("STATUS") & tb.bit("STATUS", "BUSY"), "not busy after START"
        await tb.write("CTRL", tb.bit("CTRL", "IRQ_EN") | tb.bit("CTRL", "START"))
    while not int(dut.irq_o.value):
        await RisingEdge(dut.clk)
        cycles += 1
        assert cycles < int(tb.run["max_cycles"]), f"no interrupt within {cycles} cycles"
    return cycles
