"""cocotb testbench of axi_dma (the engine's AXI4 master): cocotbext-axi's AxiRam as DDR.

Read commands stream words out of the RAM, write commands put streamed words into it; every
word is checked against the RAM, every AR/AW against the AXI rules the DMA promises (INCR,
8-byte beats, at most MAX_BURST beats, no 4 KB crossing, WSTRB all ones) and the bursts in
flight are counted. Error responses are injected by making the RAM's read or write port fail
for an address range (cocotbext-axi then answers SLVERR).
Environment: `HCCR_DMA_CONFIG` = "MAX_BURST,OUTSTANDING" as built, `HCCR_DMA_PAUSE` = a
sim.axis pause pattern for the RAM's R/W channels and the streams, `HCCR_DMA_SEED`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiBus, AxiRam, AxiResp

from sim.axis import StreamSink, StreamSource, pause_generator

MEM_BYTES = 1 << 20
PAGE = 4096


def config() -> tuple[int, int, str, int]:
    burst, outstanding = (int(v) for v in os.environ["HCCR_DMA_CONFIG"].split(","))
    return burst, outstanding, os.environ.get("HCCR_DMA_PAUSE", "none"), int(
        os.environ.get("HCCR_DMA_SEED", "1"))


def random_commands(rng: random.Random, n: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """`n` (address, bytes) commands inside [lo, hi): 8-byte aligned, 8..6000 bytes, every
    third one placed to cross a 4 KB boundary."""
    cmds = []
    for i in range(n):
        nbytes = 8 * rng.randint(1, 750)
        if i % 3 == 0:
            page = rng.randrange(lo // PAGE + 1, (hi - nbytes) // PAGE)
            addr = page * PAGE - 8 * rng.randint(1, min(nbytes // 8, 64))
        else:
            addr = 8 * rng.randrange(lo // 8, (hi - nbytes) // 8)
        cmds.append((addr, nbytes))
    return cmds


def fail_at(port: object, method: str, bad: range, resp: AxiResp = AxiResp.SLVERR) -> None:
    """Make the RAM's `port` (read_if/_read or write_if/_write) raise for addresses in `bad`,
    which cocotbext-axi answers with SLVERR; `resp` other than SLVERR: that answer instead
    (its R or B channel rewrites every SLVERR)."""
    inner = getattr(port, method)

    async def faulty(address: int, *args: object) -> object:
        if address in bad:
            raise OSError(f"injected fault at 0x{address:x}")
        return await inner(address, *args)

    setattr(port, method, faulty)
    channel, field = (port.r_channel, "rresp") if method == "_read" else (port.b_channel,
                                                                         "bresp")
    send = channel.send

    async def answer(txn: object) -> None:
        if getattr(txn, field) == AxiResp.SLVERR:
            setattr(txn, field, resp)
        await send(txn)

    channel.send = answer


class TB:
    """Clock, reset, the RAM, the read output sink and write input source, the AXI monitor."""

    def __init__(self, dut: object, pause: str | None = None) -> None:
        self.dut = dut
        self.max_burst, self.outstanding, default_pause, seed = config()
        pause = default_pause if pause is None else pause
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst_n,
                          reset_active_level=False, size=MEM_BYTES)
        for obj in (self.ram.read_if, self.ram.write_if):
            obj.log.setLevel("WARNING")
        self.ram.read_if.r_channel.set_pause_generator(pause_generator(pause, seed))
        self.ram.read_if.ar_channel.set_pause_generator(pause_generator(pause, seed + 1))
        self.ram.write_if.w_channel.set_pause_generator(pause_generator(pause, seed + 2))
        self.ram.write_if.b_channel.set_pause_generator(pause_generator(pause, seed + 3))
        self.sink = StreamSink(dut, "m_axis", 8, False, 8, pause, seed + 4)
        self.source = StreamSource(dut, "s_axis", 8, 8, pause, seed + 5)
        self.rng = random.Random(seed)
        for name in ("clear_i", "rd_cmd_valid_i", "wr_cmd_valid_i"):
            getattr(dut, name).value = 0
        self.ar = self.aw = 0                 # bursts issued
        self.rd_flight = self.wr_flight = 0   # bursts issued, last R / B not yet seen
        self.max_rd_flight = self.max_wr_flight = 0
        self.ar_starts_after_error = self.aw_starts_after_error = 0
        self.wr_done = 0
        self.cycles = 0
        self.problems: list[str] = []

    async def reset(self) -> None:
        self.dut.rst_n.value = 0
        await ClockCycles(self.dut.clk, 5)
        self.dut.rst_n.value = 1
        await ClockCycles(self.dut.clk, 2)
        cocotb.start_soon(self._monitor())

    def _check_burst(self, kind: str, addr: int, length: int, size: int, burst: int) -> None:
        beats = length + 1
        if beats > self.max_burst or size != 3 or burst != 1 or addr % 8:
            self.problems.append(f"{kind} 0x{addr:x} len {length} size {size} burst {burst}")
        if addr // PAGE != (addr + 8 * beats - 1) // PAGE:
            self.problems.append(f"{kind} 0x{addr:x} of {beats} beats crosses 4 KB")

    async def _monitor(self) -> None:
        d = self.dut
        ar_prev = aw_prev = False  # valid held from the previous cycle without handshake
        w_beats = 0
        while True:
            await RisingEdge(d.clk)
            self.cycles += 1
            err = int(d.error_o.value)
            arv, arr = int(d.m_axi_arvalid.value), int(d.m_axi_arready.value)
            if arv and not ar_prev and err & 1:
                self.ar_starts_after_error += 1
            if arv and arr:
                self.ar += 1
                self.rd_flight += 1
                self._check_burst("AR", int(d.m_axi_araddr.value), int(d.m_axi_arlen.value),
                                  int(d.m_axi_arsize.value), int(d.m_axi_arburst.value))
            ar_prev = bool(arv and not arr)
            if int(d.m_axi_rvalid.value) and int(d.m_axi_rready.value) and int(
                    d.m_axi_rlast.value):
                self.rd_flight -= 1
            awv, awr = int(d.m_axi_awvalid.value), int(d.m_axi_awready.value)
            if awv and not aw_prev and err & 2:
                self.aw_starts_after_error += 1
            if awv and awr:
                self.aw += 1
                self.wr_flight += 1
                self._check_burst("AW", int(d.m_axi_awaddr.value), int(d.m_axi_awlen.value),
                                  int(d.m_axi_awsize.value), int(d.m_axi_awburst.value))
            aw_prev = bool(awv and not awr)
            if int(d.m_axi_wvalid.value) and int(d.m_axi_wready.value):
                w_beats += 1
                if int(d.m_axi_wstrb.value) != 0xFF:
                    self.problems.append(f"WSTRB 0x{int(d.m_axi_wstrb.value):x}")
                if int(d.m_axi_wlast.value):
                    w_beats = 0
                elif w_beats > self.max_burst:
                    self.problems.append("W burst longer than MAX_BURST without WLAST")
            if int(d.m_axi_bvalid.value) and int(d.m_axi_bready.value):
                self.wr_flight -= 1
            self.wr_done += int(d.wr_done_o.value)
            self.max_rd_flight = max(self.max_rd_flight, self.rd_flight)
            self.max_wr_flight = max(self.max_wr_flight, self.wr_flight)

    async def command(self, side: str, addr: int, nbytes: int) -> None:
        """Hand one command to the read (`rd`) or write (`wr`) side."""
        d = self.dut
        getattr(d, f"{side}_cmd_addr_i").value = addr
        getattr(d, f"{side}_cmd_bytes_i").value = nbytes
        getattr(d, f"{side}_cmd_valid_i").value = 1
        while True:
            await RisingEdge(d.clk)
            if int(getattr(d, f"{side}_cmd_ready_o").value):
                break
        getattr(d, f"{side}_cmd_valid_i").value = 0
        for _ in range(self.rng.choice([0, 0, 1, 3])):
            await RisingEdge(d.clk)

    async def commands(self, side: str, cmds: list[tuple[int, int]]) -> None:
        for addr, nbytes in cmds:
            await self.command(side, addr, nbytes)

    async def until(self, what: str, cond: Callable[[], object], limit: int = 20000) -> None:
        """Until `cond()` holds at a clock edge (fails after `limit` cycles: a hang)."""
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if cond():
                return
        raise AssertionError(f"{what} not reached after {limit} cycles")

    async def until_idle(self) -> None:
        await self.until("busy_o low", lambda: not int(self.dut.busy_o.value))

    def check_rules(self) -> None:
        assert not self.problems, self.problems[:5]
        assert self.max_rd_flight <= self.outstanding and self.max_wr_flight <= self.outstanding


def fill(tb: TB, lo: int, hi: int) -> None:
    tb.ram.write(lo, bytes(tb.rng.getrandbits(8) for _ in range(hi - lo)))


@cocotb.test()
async def reads(dut: object) -> None:
    """Random read commands (4 KB crossings included): every word equals the RAM, tlast ends
    each command, more than one burst is in flight when OUTSTANDING > 1."""
    tb = TB(dut)
    await tb.reset()
    fill(tb, 0, 1 << 18)
    cmds = random_commands(tb.rng, 24, 0, 1 << 18)
    cocotb.start_soon(tb.commands("rd", cmds))
    for i, (addr, nbytes) in enumerate(cmds):
        got, beats, _, _ = await with_timeout(tb.sink.recv_image(), 2, "ms")
        want = np.frombuffer(tb.ram.read(addr, nbytes), dtype=np.uint8)
        assert beats == nbytes // 8, f"command {i}: {beats} words, want {nbytes // 8}"
        assert np.array_equal(got, want), f"command {i} (0x{addr:x}, {nbytes} B) differs"
    await tb.until_idle()
    await ClockCycles(dut.clk, 20)
    assert tb.sink.empty(), "words after the last command"
    tb.check_rules()
    assert int(dut.error_o.value) == 0
    assert tb.ar >= sum((n // 8 + tb.max_burst - 1) // tb.max_burst for _, n in cmds)
    assert tb.max_rd_flight == tb.outstanding if tb.outstanding > 1 else tb.max_rd_flight == 1
    dut._log.info("reads: %d ARs, %d in flight at most", tb.ar, tb.max_rd_flight)


@cocotb.test()
async def writes(dut: object) -> None:
    """Random write commands: the RAM holds the streamed words at each command's range and
    nothing else changed; wr_done_o pulses once per command."""
    tb = TB(dut)
    await tb.reset()
    fill(tb, 0, 1 << 18)
    want = bytearray(tb.ram.read(0, 1 << 18))
    cmds = random_commands(tb.rng, 16, 0, 1 << 18)
    for addr, nbytes in cmds:
        data = bytes(tb.rng.getrandbits(8) for _ in range(nbytes))
        want[addr:addr + nbytes] = data
        tb.source.send_image(np.frombuffer(data, dtype=np.uint8))
    await tb.commands("wr", cmds)
    await with_timeout(tb.source.wait(), 2, "ms")
    await tb.until_idle()
    await ClockCycles(dut.clk, 5)
    assert tb.wr_done == len(cmds)
    assert tb.ram.read(0, 1 << 18) == bytes(want), "RAM differs from the expected writes"
    tb.check_rules()
    assert int(dut.error_o.value) == 0
    assert tb.max_wr_flight > 1 if tb.outstanding > 1 else tb.max_wr_flight == 1
    dut._log.info("writes: %d AWs, %d in flight at most", tb.aw, tb.max_wr_flight)


@cocotb.test()
async def read_error(dut: object) -> None:
    """An SLVERR in the middle of a read: error_o[0] rises, no AR is issued after it, the DMA
    goes idle with later commands accepted and dropped; after clear_i a read works again."""
    tb = TB(dut)
    await tb.reset()
    fill(tb, 0, 1 << 16)
    bad = range(0x3000, 0x3008)
    fail_at(tb.ram.read_if, "_read", bad)
    cmds = [(0x1000, 256), (0x2F00, 1024), (0x5000, 2048), (0x8000, 512)]
    cocotb.start_soon(tb.commands("rd", cmds))
    got, beats, _, _ = await with_timeout(tb.sink.recv_image(), 1, "ms")
    assert np.array_equal(got, np.frombuffer(tb.ram.read(0x1000, 256), dtype=np.uint8))
    await tb.until("read error", lambda: int(dut.error_o.value) & 1)
    await ClockCycles(dut.clk, 100)
    await tb.until_idle()
    assert int(dut.error_o.value) == 1 and int(dut.rd_cmd_ready_o.value) == 1
    assert tb.ar_starts_after_error == 0
    assert tb.rd_flight == 0
    dut.clear_i.value = 1
    await RisingEdge(dut.clk)
    dut.clear_i.value = 0
    await RisingEdge(dut.clk)
    assert int(dut.error_o.value) == 0
    await tb.command("rd", 0x4000, 512)
    got, beats, _, _ = await with_timeout(tb.sink.recv_image(), 1, "ms")
    # The words of the failed command sent before the error open this frame (no tlast).
    head = len(got) - 512
    assert 0 <= head <= bad.start - 0x2F00
    assert np.array_equal(got[:head], np.frombuffer(tb.ram.read(0x2F00, head), np.uint8))
    assert np.array_equal(got[head:], np.frombuffer(tb.ram.read(0x4000, 512), np.uint8))
    tb.check_rules()


@cocotb.test()
async def write_error(dut: object) -> None:
    """An SLVERR on a write burst: error_o[1] rises, no AW after it, the W beats of issued
    bursts still go out, the DMA goes idle while taking and dropping words; after clear_i a
    write works again."""
    tb = TB(dut)
    await tb.reset()
    bad = range(0x2100, 0x2108)
    fail_at(tb.ram.write_if, "_write", bad)
    cmds = [(0x1000, 512), (0x2000, 2048), (0x6000, 1024)]
    for _, nbytes in cmds:
        tb.source.send_image(np.zeros(nbytes, dtype=np.uint8))
    cocotb.start_soon(tb.commands("wr", cmds))
    await tb.until("write error", lambda: int(dut.error_o.value) & 2)
    await with_timeout(tb.source.wait(), 1, "ms")  # the rest of the words are taken
    await tb.until_idle()
    assert int(dut.error_o.value) == 2
    assert tb.aw_starts_after_error == 0 and tb.wr_flight == 0
    assert tb.wr_done == 1  # only the first command was acknowledged
    dut.clear_i.value = 1
    await RisingEdge(dut.clk)
    dut.clear_i.value = 0
    await RisingEdge(dut.clk)
    data = bytes(tb.rng.getrandbits(8) for _ in range(256))
    tb.source.send_image(np.frombuffer(data, dtype=np.uint8))
    await tb.command("wr", 0x9000, 256)
    await tb.until_idle()
    assert tb.ram.read(0x9000, 256) == data and int(dut.error_o.value) == 0
    tb.check_rules()


@cocotb.test()
async def read_rate(dut: object) -> None:
    """Without pauses a long read streams close to one word per cycle (with OUTSTANDING > 1:
    one burst at a time waits a round trip per burst)."""
    tb = TB(dut, pause="none")
    await tb.reset()
    nbytes = 16384
    await tb.command("rd", 0x10000, nbytes)
    start = tb.cycles
    await with_timeout(tb.sink.recv_image(), 1, "ms")
    rate = nbytes // 8 / (tb.cycles - start)
    dut._log.info("read rate: %.3f words/cycle", rate)
    assert rate >= 0.9 or tb.outstanding == 1, rate


@cocotb.test()
async def write_rate(dut: object) -> None:
    """Without pauses a long write streams close to one word per cycle (OUTSTANDING > 1)."""
    tb = TB(dut, pause="none")
    await tb.reset()
    nbytes = 16384
    tb.source.send_image(np.zeros(nbytes, dtype=np.uint8))
    await tb.command("wr", 0x20000, nbytes)
    start = tb.cycles
    await tb.until("write done", lambda: tb.wr_done == 1)
    rate = nbytes // 8 / (tb.cycles - start)
    dut._log.info("write rate: %.3f words/cycle", rate)
    assert rate >= 0.9 or tb.outstanding == 1, rate
