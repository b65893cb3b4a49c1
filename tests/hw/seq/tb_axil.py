"""The engine's registers from a cocotb testbench: cocotbext-axi's AxiLiteMaster on the
`s_axil` ports, reads and writes by register name (`hw.gen.seq_regs.register_map()`), reset."""

from __future__ import annotations

from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiResp

from hw.gen.seq_regs import register_map


class Registers:
    """Register access to a DUT with `clk`, active-low `rst_n` and an `s_axil` slave (the
    testbench starts the clock)."""

    def __init__(self, dut: object) -> None:
        self.dut = dut
        self.regs = register_map()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst_n,
                                  reset_active_level=False)
        self.axil.write_if.log.setLevel("WARNING")
        self.axil.read_if.log.setLevel("WARNING")

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, 5)
        self.dut.rst_n.value = 1
        await ClockCycles(self.dut.clk, 2)

    async def read(self, name: str) -> int:
        resp = await self.axil.read(self.regs[name].address, 4)
        assert resp.resp == AxiResp.OKAY, (name, resp.resp)
        return int.from_bytes(resp.data, "little")

    async def write(self, name: str, value: int) -> None:
        resp = await self.axil.write(self.regs[name].address, value.to_bytes(4, "little"))
        assert resp.resp == AxiResp.OKAY, (name, resp.resp)
