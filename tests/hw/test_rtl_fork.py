"""broadcast.sv (the fork of a tensor read by several engines): every output receives every
beat exactly once, in order, with tlast, while each output stalls on its own random pattern;
one beat per cycle when nothing stalls. Also the cocotb test module (one `TB` class)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hw.synth import synth_xilinx
from sim import runner
from sim.axis import pause_generator

pytestmark = pytest.mark.rtl


class TB:
    """Drives the fork's input with idle cycles and each output's tready with its pattern."""

    def __init__(self, dut: object, case: dict) -> None:
        self.dut, self.n, self.width = dut, int(case["n"]), int(case["width"])
        seed = int(case["seed"])
        self.src = pause_generator(case["src_pause"], seed)
        self.sinks = [pause_generator(p, seed + 1 + i) for i, p in enumerate(case["sink_pauses"])]
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        self.dut.s_axis_tvalid.value = 0
        self.dut.m_axis_tready.value = 0
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst_n.value = 1

    @staticmethod
    def _paused(gen: object) -> bool:
        return gen is not None and next(gen)

    async def run(self, data: list[int], lasts: list[int], limit: int
                  ) -> tuple[list[list[tuple[int, int]]], int]:
        """Send every beat; returns each output's (tdata, tlast) beats and the cycles used."""
        dut, mask = self.dut, (1 << self.width) - 1
        got: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        sent, cycles = 0, 0
        while cycles < limit and (sent < len(data) or any(len(g) < len(data) for g in got)):
            await RisingEdge(dut.clk)
            cycles += 1
            offer = sent < len(data) and not self._paused(self.src)
            dut.s_axis_tvalid.value = int(offer)
            if offer:
                dut.s_axis_tdata.value = data[sent]
                dut.s_axis_tlast.value = lasts[sent]
            ready = sum((not self._paused(g)) << i for i, g in enumerate(self.sinks))
            dut.m_axis_tready.value = ready
            await ReadOnly()
            valid = int(dut.m_axis_tvalid.value)
            tdata, tlast = int(dut.m_axis_tdata.value), int(dut.m_axis_tlast.value)
            for i in range(self.n):
                if (valid >> i) & (ready >> i) & 1:
                    got[i].append(((tdata >> (i * self.width)) & mask, (tlast >> i) & 1))
            if offer and int(dut.s_axis_tready.value):
                sent += 1
        return got, cycles


@cocotb.test()
async def broadcast_stream(dut: object) -> None:
    """Every output gets the input sequence exactly once; nothing extra afterwards."""
    where = Path(os.environ["HCCR_CASE_DIR"])
    case = json.loads((where / "case.json").read_text())
    data, lasts = case["data"], case["lasts"]
    tb = TB(dut, case)
    await tb.reset()
    got, cycles = await tb.run(data, lasts, 50 * len(data) + 100)
    for i, beats in enumerate(got):
        assert [d for d, _ in beats] == data, f"output {i}: data differ or beats lost"
        assert [t for _, t in beats] == lasts, f"output {i}: tlast differs"
    await RisingEdge(dut.clk)
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = (1 << tb.n) - 1
    for _ in range(20):
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.m_axis_tvalid.value) == 0, "a beat was duplicated"
    (where / "result.json").write_text(json.dumps({"cycles": cycles}))


SINKS = {"none": ["none", "none", "none"], "random": ["random", "random", "random"],
         "mixed": ["1110", "none", "random"]}


@pytest.mark.parametrize("width", [8, 32])
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize(("src", "sinks"), [("none", "none"), ("random", "random"),
                                            ("none", "mixed"), ("1110", "random")])
def test_broadcast_delivers_every_beat_once(n: int, width: int, src: str, sinks: str, seed: int,
                                            rng: np.random.Generator, tmp_path,
                                            build_root) -> None:
    built = runner.build("broadcast", ["broadcast"], {"DATA_W": width, "N": n},
                         root=build_root)
    beats = 300
    data = rng.integers(0, 1 << width, beats, dtype=np.uint64).tolist()
    lasts = (rng.random(beats) < 0.1).astype(int).tolist()
    (tmp_path / "case.json").write_text(json.dumps({
        "n": n, "width": width, "seed": seed, "src_pause": src,
        "sink_pauses": SINKS[sinks][:n], "data": data, "lasts": lasts}))
    out = runner.run(built, "test_rtl_fork", tmp_path, env={"HCCR_CASE_DIR": str(tmp_path)})
    assert out.passed, out.message
    cycles = json.loads((tmp_path / "result.json").read_text())["cycles"]
    if src == sinks == "none":
        assert cycles == beats  # one beat per cycle, no bubble


@pytest.mark.parametrize(("params", "message"), [({"N": 1}, "N=1 must be >= 2"),
                                                 ({"DATA_W": 0}, "DATA_W=0 must be >= 1")])
def test_broadcast_rejects_bad_parameters(params: dict, message: str, build_root) -> None:
    with pytest.raises(runner.SimError, match=message):
        runner.build("broadcast", ["broadcast"], params, root=build_root)


@pytest.mark.synth
@pytest.mark.slow
def test_broadcast_synthesises(tmp_path) -> None:
    result = synth_xilinx("broadcast", ["broadcast"], {"DATA_W": 8, "N": 3}, tmp_path)
    assert result.luts > 0, result.cells
