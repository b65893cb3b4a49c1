"""cocotb testbench of seq_vec (the engine's vector unit) with Python models of its neighbours.

The activation buffer is a bytearray: a read request in cycle c is answered in cycle c + 2
(RD_LAT) with SIMD bytes from (addr + l) mod size, a write lands its wr_len bytes. The DMA
read channel answers a command with the data block's words from `ddr_latency` cycles after it
was taken, one per cycle, with random gaps when the case asks for stalls. Everything is driven
and sampled at the falling edge (the unit's outputs come from registers).

Environment: `HCCR_VEC_CASES` a JSON list of cases (instr, batch, act_image_bytes, data,
before, stall, latency, seed: hex strings for bytes), `HCCR_VEC_RESULTS` where the final
activation bytes and the cycles of each case are written.
"""

from __future__ import annotations

import json
import os
import random
from collections import deque
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

DATA_BASE = 0x1000_0000
TIMEOUT = 100_000  # cycles


async def run_case(dut, case: dict, simd: int) -> dict:
    act = bytearray(bytes.fromhex(case["before"]))
    size = len(act)
    data = bytes.fromhex(case["data"])
    rng = random.Random(case["seed"])
    stall, latency = case["stall"], case["latency"]
    returns: deque = deque([None, None])  # read answers of the last two cycles
    words: deque = deque()  # (first cycle it may be sent, word, last)
    await FallingEdge(dut.clk)
    dut.instr_i.value = int(case["instr"], 16)
    dut.batch_i.value = case["batch"]
    dut.act_image_bytes_i.value = case["act_image_bytes"]
    dut.data_base_i.value = DATA_BASE
    dut.start_i.value = 1
    cycle = 0
    while True:
        if cycle == 1:
            dut.start_i.value = 0
        # ACT read port: answer the request of two cycles ago, take this cycle's
        answer = returns.popleft()
        dut.act_rd_valid_i.value = answer is not None
        if answer is not None:
            dut.act_rd_data_i.value = int.from_bytes(answer, "little")
        if dut.act_rd_valid_o.value:
            addr = int(dut.act_rd_addr_o.value)
            returns.append(bytes(act[(addr + lane) % size] for lane in range(simd)))
        else:
            returns.append(None)
        if dut.act_wr_valid_o.value:
            addr, n = int(dut.act_wr_addr_o.value), int(dut.act_wr_len_o.value)
            raw = int(dut.act_wr_data_o.value).to_bytes(simd, "little")
            for lane in range(n):
                act[(addr + lane) % size] = raw[lane]
        # DMA read channel
        ready = not stall or rng.random() < 0.7
        dut.rd_cmd_ready_i.value = ready
        if ready and dut.rd_cmd_valid_o.value:
            start = int(dut.rd_cmd_addr_o.value) - DATA_BASE
            count = int(dut.rd_cmd_bytes_o.value) // 8
            block = data[start:start + 8 * count].ljust(8 * count, b"\0")
            for i in range(count):
                words.append((cycle + latency + i, block[8 * i:8 * i + 8], i == count - 1))
        send = bool(words) and words[0][0] <= cycle and not (stall and rng.random() < 0.3)
        dut.s_axis_tvalid.value = send
        if send:
            dut.s_axis_tdata.value = int.from_bytes(words[0][1], "little")
            dut.s_axis_tlast.value = words[0][2]
            if dut.s_axis_tready.value:
                words.popleft()
        if dut.done_o.value and cycle > 0:
            break
        if cycle > TIMEOUT:
            raise AssertionError(f"case {case['name']}: no done_o after {TIMEOUT} cycles")
        cycle += 1
        await FallingEdge(dut.clk)
    dut.act_rd_valid_i.value = 0
    dut.s_axis_tvalid.value = 0
    for _ in range(4):  # nothing may land after done_o
        await FallingEdge(dut.clk)
        assert not dut.act_wr_valid_o.value, f"case {case['name']}: write after done_o"
    return {"name": case["name"], "cycles": cycle, "act": act.hex(), "words_left": len(words)}


@cocotb.test()
async def vector_cases(dut) -> None:
    """Run every case of HCCR_VEC_CASES in turn on one reset unit."""
    cases = json.loads(Path(os.environ["HCCR_VEC_CASES"]).read_text())
    simd = len(dut.act_rd_data_i) // 8
    for name in ("start_i", "abort_i", "act_rd_valid_i", "rd_cmd_ready_i", "s_axis_tvalid",
                 "s_axis_tlast", "batch_i", "act_image_bytes_i", "instr_i", "act_rd_data_i",
                 "s_axis_tdata", "image_first_i", "data_base_i", "input_base_i",
                 "input_bytes_i", "output_base_i", "output_bytes_i"):
        getattr(dut, name).value = 0
    dut.rst_n.value = 0
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await ClockCycles(dut.clk, 3)
    dut.rst_n.value = 1
    results = [await run_case(dut, case, simd) for case in cases]
    Path(os.environ["HCCR_VEC_RESULTS"]).write_text(json.dumps(results))
