"""cocotb testbench of seq_act_buf: random unaligned reads and writes, wrapping at the end,
against a Python bytearray. Environment: `HCCR_ACT_CONFIG` = "SIMD,ACT_BYTES" as built,
`HCCR_ACT_SEED`."""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

RD_LAT = 2


class TB:
    """Clock, reset, the reference memory and the expected reads in flight."""

    def __init__(self, dut: object) -> None:
        self.dut = dut
        self.simd, self.size = (int(v) for v in os.environ["HCCR_ACT_CONFIG"].split(","))
        self.rng = random.Random(int(os.environ.get("HCCR_ACT_SEED", "1")))
        self.mem = bytearray(self.size)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rd_valid_i.value = 0
        dut.wr_valid_i.value = 0

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst_n.value = 1
        await ClockCycles(self.dut.clk, 1)

    def expect(self, addr: int) -> int:
        data = bytes(self.mem[(addr + i) % self.size] for i in range(self.simd))
        return int.from_bytes(data, "little")

    def pick(self, near_end: bool) -> int:
        """A random address, or one of the last 2·SIMD (reads and writes that wrap)."""
        return (self.size - self.rng.randrange(1, 2 * self.simd + 1) if near_end
                else self.rng.randrange(self.size))

    def write(self, addr: int, data: bytes) -> None:
        for i, v in enumerate(data):
            self.mem[(addr + i) % self.size] = v


@cocotb.test()
async def random_access(dut: object) -> None:
    """Every read returns the bytes the reference holds; reads and writes at any address and
    length, both in one cycle, back to back and with idle cycles, near the wrap point."""
    tb = TB(dut)
    await tb.reset()
    for addr in range(0, tb.size, tb.simd):  # known contents first
        data = bytes(tb.rng.randrange(256) for _ in range(tb.simd))
        dut.wr_valid_i.value, dut.wr_addr_i.value = 1, addr
        dut.wr_data_i.value, dut.wr_len_i.value = int.from_bytes(data, "little"), tb.simd
        tb.write(addr, data)
        await RisingEdge(dut.clk)
    dut.wr_valid_i.value = 0
    pending: list[int | None] = [None] * (RD_LAT - 1)  # sampled at the edge before
    checked = 0
    for _ in range(3000):
        near_end = tb.rng.random() < 0.2
        rd = tb.rng.random() < 0.7
        wr = tb.rng.random() < 0.5
        rd_addr, wr_addr = tb.pick(near_end), tb.pick(near_end)
        dut.rd_valid_i.value, dut.rd_addr_i.value = int(rd), rd_addr
        expected = tb.expect(rd_addr) if rd else None  # before this cycle's write
        if wr:
            n = tb.rng.randint(1, tb.simd)
            data = bytes(tb.rng.randrange(256) for _ in range(tb.simd))
            dut.wr_addr_i.value, dut.wr_len_i.value = wr_addr, n
            dut.wr_data_i.value = int.from_bytes(data, "little")
            tb.write(wr_addr, data[:n])
        dut.wr_valid_i.value = int(wr)
        await RisingEdge(dut.clk)
        pending.append(expected)
        want = pending.pop(0)
        await cocotb.triggers.ReadOnly()
        assert int(dut.rd_valid_o.value) == (want is not None)
        if want is not None:
            got = int(dut.rd_data_o.value)
            assert got == want, f"read: {got:#x} != {want:#x}"
            checked += 1
        await cocotb.triggers.NextTimeStep()
    assert checked > 1500
