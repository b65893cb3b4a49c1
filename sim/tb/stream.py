"""Generic cocotb testbench for a streaming engine or network: images in, frames out.

The case is described by `case.json` and `x.npy` in the simulation directory (written by
`sim.stream.run_stream`); the received frames and their timing go to `y.npz` and
`result.json` there, even when the test fails, so the Python side compares them with the golden
model and names the first mismatching element.

`case.json` keys: `in` and `out` ({prefix, width, lanes, signed}), optionally `in2` (a second
input, images in `x2.npy`), `out_elems` (elements per
output image), `n_images`, `src_pause`, `sink_pause`, `seed`, `clock_ns`, `timeout_cycles`,
`drain_cycles`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout

from sim.axis import StreamSink, StreamSource, now_ns


class TB:
    """Clock, reset, one AXI-Stream source and one sink around the DUT."""

    def __init__(self, dut: object, case: dict) -> None:
        self.dut = dut
        self.case = case
        self.period = float(case.get("clock_ns", 10))
        cocotb.start_soon(Clock(dut.clk, self.period, unit="ns").start())
        i, o = case["in"], case["out"]
        seed = int(case.get("seed", 0))
        self.source = StreamSource(dut, i["prefix"], i["width"], i.get("lanes", 1),
                                   case.get("src_pause"), seed)
        self.source2 = None
        if "in2" in case:  # a second input (two-input engines), its own pause pattern
            i2 = case["in2"]
            self.source2 = StreamSource(dut, i2["prefix"], i2["width"], i2.get("lanes", 1),
                                        case.get("src_pause"), seed + 2)
        self.sink = StreamSink(dut, o["prefix"], o["width"], o["signed"], o.get("lanes", 1),
                               case.get("sink_pause"), seed + 1)

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, 5)
        self.dut.rst_n.value = 1
        await RisingEdge(self.dut.clk)


@cocotb.test()
async def stream(dut: object) -> None:
    """Send every image back to back, receive one frame per image, then expect silence."""
    where = Path(os.environ.get("HCCR_CASE_DIR", "."))
    case = json.loads((where / "case.json").read_text())
    x = np.load(where / "x.npy")
    tb = TB(dut, case)
    await tb.reset()
    t0 = now_ns()
    wall = time.perf_counter()
    for image in x:
        tb.source.send_image(image)
    if tb.source2 is not None:
        for image in np.load(where / "x2.npy"):
            tb.source2.send_image(image)
    frames: list[np.ndarray] = []
    beats: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    error = ""
    try:
        for _ in range(len(x)):
            values, n, start, end = await with_timeout(
                tb.sink.recv_image(), int(case["timeout_cycles"] * tb.period), "ns")
            frames.append(values)
            beats.append(n)
            starts.append(start)
            ends.append(end)
        await ClockCycles(dut.clk, int(case.get("drain_cycles", 200)))
        if not tb.sink.empty():
            error = "extra beats after the last expected frame (an image was duplicated?)"
    except cocotb.triggers.SimTimeoutError:
        error = (f"timeout: got {len(frames)} of {len(x)} frames within "
                 f"{case['timeout_cycles']} cycles per frame")
    finally:
        wall = time.perf_counter() - wall
        cycles = (now_ns() - t0) / tb.period
        np.savez(where / "y.npz", *frames)
        (where / "result.json").write_text(json.dumps({
            "frames": len(frames), "beats": beats,
            "start_cycles": [(s - t0) / tb.period for s in starts],
            "end_cycles": [(e - t0) / tb.period for e in ends],
            "cycles": cycles, "wall_s": wall, "cycles_per_s": cycles / max(wall, 1e-9),
            "error": error}))
    assert not error, error
