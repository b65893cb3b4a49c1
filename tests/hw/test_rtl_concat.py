"""concat.sv vs quant.golden, bit for bit: N inputs on one packed port, each input lane with
its own idle pattern, sink backpressure, beats and tlast per image, nothing extra afterwards.
Also the cocotb test module (one `TB` class: a per-cycle driver of the packed lanes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, with_timeout
from hw_helpers import PAUSE_PAIRS, check_cycles
from ir_factory import random_batch, single_op

from hw.gen.engines import Folding, FoldingError, engine_for
from quant import golden
from quant.compare import first_mismatch
from sim import runner
from sim.axis import StreamSink, now_ns, pack, pause_generator
from sim.engine import build_engine
from sim.stream import StreamRun

pytestmark = pytest.mark.rtl


class TB:
    """Clock, reset, the packed N-lane source (a per-cycle loop) and the output sink."""

    def __init__(self, dut: object, case: dict) -> None:
        self.dut, self.case = dut, case
        seed = int(case["seed"])
        self.pauses = [pause_generator(case["src_pause"], seed + 2 + i)
                       for i in range(len(case["lanes"]))]
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.sink = StreamSink(dut, "m_axis", 8, case["signed"], 1, case["sink_pause"],
                               seed + 1)

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        self.dut.s_axis_tvalid.value = 0
        await ClockCycles(self.dut.clk, 5)
        self.dut.rst_n.value = 1
        await RisingEdge(self.dut.clk)

    async def drive(self) -> None:
        """Offer every lane's beats (AXI: a beat offered stays until taken), tlast on each
        image's last beat of that lane."""
        dut, lanes, per_image = self.dut, self.case["lanes"], self.case["beats_per_image"]
        pos = [0] * len(lanes)
        offered = [False] * len(lanes)
        while any(p < len(lane) for p, lane in zip(pos, lanes, strict=True)):
            valid = data = last = 0
            for i, lane in enumerate(lanes):
                if pos[i] < len(lane) and not offered[i]:
                    offered[i] = self.pauses[i] is None or not next(self.pauses[i])
                if offered[i]:
                    valid |= 1 << i
                    data |= lane[pos[i]] << (8 * i)
                    last |= int(pos[i] % per_image[i] == per_image[i] - 1) << i
            dut.s_axis_tvalid.value = valid
            dut.s_axis_tdata.value = data
            dut.s_axis_tlast.value = last
            await ReadOnly()
            taken = valid & int(dut.s_axis_tready.value)
            for i in range(len(lanes)):
                if taken >> i & 1:
                    pos[i] += 1
                    offered[i] = False
            await RisingEdge(dut.clk)
        dut.s_axis_tvalid.value = 0


@cocotb.test()
async def concat_stream(dut: object) -> None:
    """Every image's frame out, then silence; frames and their end cycles to the case dir."""
    where = Path(os.environ["HCCR_CASE_DIR"])
    case = json.loads((where / "case.json").read_text())
    tb = TB(dut, case)
    await tb.reset()
    t0 = now_ns()
    cocotb.start_soon(tb.drive())
    frames, ends = [], []
    for _ in range(case["images"]):
        values, _, _, end = await with_timeout(tb.sink.recv_image(), case["timeout_ns"], "ns")
        frames.append(values.tolist())
        ends.append((end - t0) / 10)
    await ClockCycles(dut.clk, 50)
    (where / "result.json").write_text(json.dumps({"frames": frames, "end_cycles": ends}))
    assert tb.sink.empty(), "extra beats after the last expected frame"


# id: channels per input, HW; the dtype and zero point are drawn per case
CASES = {"2in-4x3": ((3, 1), (4, 3)), "3in-3x3": ((2, 1, 3), (3, 3)),
         "4in-1x2": ((1, 1, 2, 1), (1, 2))}


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_concat_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                          build_root) -> None:
    channels, hw = CASES[case]
    model = single_op("concat", rng, shape=(*hw, channels[0]), channels=channels)
    feeds = random_batch(model, rng, 4)
    want = golden.run(model, feeds)["y"]
    eng = engine_for(model.ops[0], model)
    built = build_engine(eng, build_root)
    xs = [feeds[t].reshape(len(want), -1) for t in model.inputs]
    (tmp_path / "case.json").write_text(json.dumps({
        "lanes": [pack(x, 8) for x in xs], "beats_per_image": [x.shape[1] for x in xs],
        "signed": eng.out_spec.dtype == "int8", "images": len(want), "seed": seed,
        "src_pause": src, "sink_pause": sink, "timeout_ns": 10 * 20 * eng.out_beats + 5000}))
    sim = runner.run(built, "test_rtl_concat", tmp_path, env={"HCCR_CASE_DIR": str(tmp_path)})
    assert sim.passed, sim.message
    result = json.loads((tmp_path / "result.json").read_text())
    frames = [np.array(f) for f in result["frames"]]
    assert [len(f) for f in frames] == [eng.out_beats] * len(want), "beats lost or duplicated"
    problem = first_mismatch(want, frames, name=f"concat {case}")
    assert problem is None, problem
    if src == sink == "none":
        # The driver offers the first beat before the first edge after the time origin.
        check_cycles(case, eng, StreamRun(sim, frames, end_cycles=result["end_cycles"]),
                     first_take=1)


def test_concat_inputs_and_folding_are_checked(rng) -> None:
    model = single_op("concat", rng, shape=(2, 2, 1), channels=[1] * 9)
    with pytest.raises(FoldingError, match="concat.sv takes 2..8 inputs, got 9"):
        engine_for(model.ops[0], model)
    model = single_op("concat", rng, shape=(2, 2, 1), channels=[1, 2])
    with pytest.raises(FoldingError, match="concat takes no folding"):
        engine_for(model.ops[0], model, Folding(1, 2))
