"""A testbench that checks the runner itself: it fails on purpose when asked to."""

from __future__ import annotations

import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles


@cocotb.test()
async def selftest(dut: object) -> None:
    """Run a few cycles; fail with a known message when HCCR_SELFTEST_FAIL is set."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst_n.value = 0
    await ClockCycles(dut.clk, 3)
    assert not os.environ.get("HCCR_SELFTEST_FAIL"), "deliberate failure 42"
