"""cocotb testbench of seq_csr (the engine's AXI4-Lite registers), driven by AxiLiteMaster.

Addresses and field positions come from `hw.gen.seq_regs.register_map()` (the `.rdl`); the
expected values come from the register specification. The engine side is driven by hand.
Environment: `HCCR_SEQ_CONFIG` = "PE,SIMD,SEGMENTS,VERSION" as the DUT was built.
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiResp
from tb_axil import Registers

ENGINE_INPUTS = ("busy_i", "done_i", "error_i", "error_code_i", "stall_i", "image_done_i",
                 "exit_i", "exit_point_i")
BASES = {"PROGRAM_BASE": "program_base_o", "PROGRAM_BYTES": "program_bytes_o",
         "DATA_BASE": "data_base_o", "INPUT_BASE": "input_base_o",
         "OUTPUT_BASE": "output_base_o", "IMAGE_COUNT": "image_count_o"}


class TB(Registers):
    """Clock, reset, an AXI4-Lite master and the register map."""

    def __init__(self, dut: object) -> None:
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        super().__init__(dut)
        for name in ENGINE_INPUTS:
            getattr(dut, name).value = 0

    def bits(self, reg: str, **fields: int) -> int:
        """A register value with the named fields set."""
        f = self.regs[reg].fields
        return sum(v << f[k].lsb for k, v in fields.items())

    def field(self, reg: str, name: str, value: int) -> int:
        f = self.regs[reg].fields[name]
        return (value & f.mask) >> f.lsb

    async def pulse(self, name: str, cycles: int = 1) -> None:
        getattr(self.dut, name).value = 1
        await ClockCycles(self.dut.clk, cycles)
        getattr(self.dut, name).value = 0


@cocotb.test()
async def identity(dut: object) -> None:
    """ID is "HCCR"; CONFIG holds the build parameters; ID is read-only."""
    tb = TB(dut)
    await tb.reset()
    pe, simd, segments, ver = (int(v) for v in os.environ["HCCR_SEQ_CONFIG"].split(","))
    assert await tb.read("ID") == 0x48434352
    assert await tb.read("CONFIG") == pe | simd << 8 | segments << 16 | ver << 24
    await tb.axil.write(tb.regs["ID"].address, (0).to_bytes(4, "little"))
    assert await tb.read("ID") == 0x48434352


@cocotb.test()
async def bases_read_back(dut: object) -> None:
    """Every rw register reads back what was written and drives its output port; an unmapped
    offset answers SLVERR."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(7)
    for _ in range(3):
        values = {name: rng.getrandbits(32) for name in BASES}
        for name, v in values.items():
            await tb.write(name, v)
        for name, v in values.items():
            assert await tb.read(name) == v, name
            assert int(getattr(dut, BASES[name]).value) == v, name
    bad = await tb.axil.read(0x2C, 4)
    assert bad.resp == AxiResp.SLVERR


@cocotb.test()
async def start_pulses_once(dut: object) -> None:
    """Writing CTRL.START raises start_o for exactly one cycle; START reads back 0, IRQ_EN 1."""
    tb = TB(dut)
    await tb.reset()
    high = 0

    async def watch() -> None:
        nonlocal high
        while True:
            await RisingEdge(dut.clk)
            high += int(dut.start_o.value)

    cocotb.start_soon(watch())
    await tb.write("CTRL", tb.bits("CTRL", START=1, IRQ_EN=1))
    await ClockCycles(dut.clk, 10)
    assert high == 1
    assert await tb.read("CTRL") == tb.bits("CTRL", IRQ_EN=1)
    await ClockCycles(dut.clk, 10)
    assert high == 1
    await tb.write("CTRL", tb.bits("CTRL", START=1))
    await ClockCycles(dut.clk, 5)
    assert high == 2


@cocotb.test()
async def done_is_sticky(dut: object) -> None:
    """done_i sets STATUS.DONE until software writes 1 to it; irq_o follows DONE & IRQ_EN;
    BUSY, ERROR and ERROR_CODE show the engine's inputs."""
    tb = TB(dut)
    await tb.reset()
    await tb.write("CTRL", tb.bits("CTRL", IRQ_EN=1))
    assert await tb.read("STATUS") == 0
    await tb.pulse("done_i")
    await ClockCycles(dut.clk, 20)
    assert tb.field("STATUS", "DONE", await tb.read("STATUS")) == 1
    assert int(dut.irq_o.value) == 1
    await tb.write("STATUS", 0)  # writing 0 leaves it set
    assert tb.field("STATUS", "DONE", await tb.read("STATUS")) == 1
    await tb.write("STATUS", tb.bits("STATUS", DONE=1))
    assert await tb.read("STATUS") == 0
    assert int(dut.irq_o.value) == 0
    await tb.pulse("done_i")
    await tb.write("CTRL", 0)  # interrupt disabled: DONE set, line low
    await ClockCycles(dut.clk, 2)
    assert int(dut.irq_o.value) == 0
    dut.busy_i.value = 1
    dut.error_i.value = 1
    dut.error_code_i.value = 5
    await ClockCycles(dut.clk, 2)
    assert await tb.read("STATUS") == tb.bits("STATUS", BUSY=1, DONE=1, ERROR=1)
    assert await tb.read("ERROR_CODE") == 5


@cocotb.test()
async def counters_count(dut: object) -> None:
    """CYCLES counts busy cycles, STALL busy-and-stalled cycles, IMAGES_DONE image pulses,
    EXITS_n exit pulses at point n (EXITS_3 also later points); an accepted START clears
    them."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(3)
    busy = stalls = images = 0
    exits = [0] * 4
    await RisingEdge(dut.clk)
    dut.busy_i.value = 1
    for _ in range(300):
        stall, image = rng.random() < 0.4, rng.random() < 0.1
        dut.stall_i.value = int(stall)
        dut.image_done_i.value = int(image)
        point = rng.randrange(6) if rng.random() < 0.3 else None
        dut.exit_i.value = int(point is not None)
        dut.exit_point_i.value = point or 0
        await RisingEdge(dut.clk)
        if point is not None:
            exits[min(point, 3)] += 1
        busy += 1
        stalls += stall
        images += image
    dut.busy_i.value = 0
    dut.stall_i.value = 0
    dut.image_done_i.value = 0
    dut.exit_i.value = 0
    await ClockCycles(dut.clk, 2)
    assert images > 0 and stalls > 0
    assert await tb.read("CYCLES_LO") == busy
    assert await tb.read("CYCLES_HI") == 0
    assert await tb.read("STALL_LO") == stalls
    assert await tb.read("STALL_HI") == 0
    assert await tb.read("IMAGES_DONE") == images
    assert min(exits) > 0
    for i, n in enumerate(exits):
        assert await tb.read(f"EXITS_{i}") == n, i
    await tb.write("CTRL", tb.bits("CTRL", START=1))
    await ClockCycles(dut.clk, 2)
    for name in ("CYCLES_LO", "STALL_LO", "IMAGES_DONE", "EXITS_0", "EXITS_3"):
        assert await tb.read(name) == 0, name
