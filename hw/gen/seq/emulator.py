"""A register-level model of the layer-sequential engine: a back end for the board driver
(hw/seq_driver.py) with no FPGA.

The interface is all a back end needs (the cocotb RTL simulation is to offer the same):
- `read(offset) -> int`, `write(offset, value)`: 32-bit AXI4-Lite accesses at byte offsets of
  the register map (hw/rtl/seq/regs.rdl), as PYNQ's `MMIO`;
- `allocate(shape, dtype) -> DdrBuffer`: DDR memory as `pynq.allocate` gives it, a NumPy
  array with `physical_address`, `flush()` and `invalidate()`.

The CPU side is not coherent, as on a Zynq without ACP: a buffer is the CPU's copy, `flush()`
writes it to DDR and `invalidate()` reads DDR back, so a driver that forgets either gets
stale data. On START the engine runs the program at PROGRAM_BASE with the NumPy program model
(hw/gen/seq/executor.py) and counts cycles with the timing contract (hw/gen/seq/cycles.py);
time passes only while the host polls: the run ends (outputs in DDR, DONE, counters) after
`run_polls` reads of STATUS. Errors end a run with DONE and ERROR set and no output written.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hw.gen.seq import exits
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import batch_cycles
from hw.gen.seq.executor import execute
from hw.gen.seq.isa import MAGIC, RECORD_BYTES, VERSION, Header, Instruction, Opcode
from hw.gen.seq_regs import error_codes, register_map

ENGINE_ID = 0x48434352
DDR_BASE = 0x1000_0000
ALIGN = 64  # allocation alignment (a cache line)


class DdrBuffer(np.ndarray):
    """The CPU's copy of a DDR buffer (what `pynq.allocate` returns)."""

    physical_address: int
    _ddr: np.ndarray | None

    def __array_finalize__(self, obj: object) -> None:
        self.physical_address = getattr(obj, "physical_address", 0)
        self._ddr = getattr(obj, "_ddr", None)

    def flush(self) -> None:
        """Write the CPU's copy to DDR."""
        self._ddr[:] = np.ascontiguousarray(self).reshape(-1).view(np.uint8)

    def invalidate(self) -> None:
        """Read DDR into the CPU's copy."""
        self.reshape(-1).view(np.uint8)[:] = self._ddr


class _RunError(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


class Emulator:
    """The engine's registers and its DDR (module doc).

    Args:
        config: the engine's configuration (CONFIG register, checks, cycle model).
        ddr_bytes: DDR size; it starts at `ddr_base`.
        run_polls: STATUS reads while a run is busy before it ends.
        segments: CONFIG.SEGMENTS (parts the adder tree can be cut into).
    """

    def __init__(self, config: EngineConfig, ddr_bytes: int = 64 << 20,
                 ddr_base: int = DDR_BASE, run_polls: int = 2, segments: int = 1) -> None:
        self.config, self.ddr_base, self.run_polls = config, ddr_base, run_polls
        self.ddr = np.zeros(ddr_bytes, np.uint8)
        self._free = 0
        self._map = register_map()
        self._codes = error_codes()
        self._regs = {name: 0 for name in self._map}
        self._regs["ID"] = ENGINE_ID
        self._regs["CONFIG"] = self._pack("CONFIG", PE=config.pe, SIMD=config.simd,
                                          SEGMENTS=segments, VERSION=VERSION)
        self._polls_left = 0
        self._result: tuple[str, bytes, int, int, int, list[int]] | None = None

    # --- memory -------------------------------------------------------------------------
    def allocate(self, shape: int | tuple[int, ...], dtype: object = np.uint8) -> DdrBuffer:
        """A zeroed buffer in DDR (a bump allocator: nothing is freed)."""
        buf = np.zeros(shape, dtype).view(DdrBuffer)
        start = self._free
        if start + buf.nbytes > self.ddr.size:
            raise MemoryError(f"{buf.nbytes} bytes do not fit the emulator's "
                              f"{self.ddr.size}-byte DDR ({start} used)")
        self._free = -(-(start + buf.nbytes) // ALIGN) * ALIGN
        buf.physical_address = self.ddr_base + start
        buf._ddr = self.ddr[start:start + buf.nbytes]
        return buf

    def _span(self, address: int, nbytes: int, code: str) -> np.ndarray:
        start = address - self.ddr_base
        if start < 0 or start + nbytes > self.ddr.size:
            raise _RunError(code)
        return self.ddr[start:start + nbytes]

    # --- registers ----------------------------------------------------------------------
    def _pack(self, reg: str, **values: int) -> int:
        word = 0
        for name, v in values.items():
            f = self._map[reg].fields[name]
            word |= (v << f.lsb) & f.mask
        return word

    def _bit(self, reg: str, name: str) -> int:
        return self._map[reg].fields[name].mask

    @property
    def irq(self) -> bool:
        """The interrupt line: DONE while CTRL.IRQ_EN."""
        return bool(self._regs["CTRL"] & self._bit("CTRL", "IRQ_EN")
                    and self._regs["STATUS"] & self._bit("STATUS", "DONE"))

    def _name(self, offset: int) -> str:
        for name, reg in self._map.items():
            if reg.address == offset:
                return name
        raise ValueError(f"no register at offset 0x{offset:02X}")

    def read(self, offset: int) -> int:
        """A 32-bit register read; reading STATUS lets a busy run progress."""
        name = self._name(offset)
        if name == "STATUS" and self._result is not None:
            self._polls_left -= 1
            if self._polls_left <= 0:
                self._finish()
        return self._regs[name]

    def write(self, offset: int, value: int) -> None:
        """A 32-bit register write (read-only registers ignore it)."""
        name = self._name(offset)
        reg = self._map[name]
        if name == "STATUS":
            self._regs[name] &= ~(value & self._bit("STATUS", "DONE"))
            return
        writable = sum(f.mask for f in reg.fields.values() if f.writable)
        self._regs[name] = (self._regs[name] & ~writable) | (value & writable)
        if name == "CTRL" and value & self._bit("CTRL", "START"):
            self._regs[name] &= ~self._bit("CTRL", "START")  # a pulse: reads 0
            self._start()

    # --- a run --------------------------------------------------------------------------
    def _set_error(self, code: str) -> None:
        self._regs["ERROR_CODE"] = self._codes[code]
        self._regs["STATUS"] |= self._bit("STATUS", "ERROR")

    def _start(self) -> None:
        busy = self._bit("STATUS", "BUSY")
        if self._regs["STATUS"] & busy:
            self._set_error("START_WHILE_BUSY")
            return
        self._regs["STATUS"] = (self._regs["STATUS"] | busy) & ~self._bit("STATUS", "ERROR")
        for reg in ("ERROR_CODE", "CYCLES_LO", "CYCLES_HI", "STALL_LO", "STALL_HI",
                    "IMAGES_DONE", *(f"EXITS_{i}" for i in range(4))):  # as seq_csr does
            self._regs[reg] = 0
        try:
            self._result = ("NONE", *self._run())
        except _RunError as exc:
            self._result = (exc.code, b"", 0, 0, 0, [0] * 4)
        self._polls_left = self.run_polls

    def _program(self) -> tuple[Header, list[Instruction]]:
        """Fetch and check the program as the controller does, up to its END."""
        size, base = self._regs["PROGRAM_BYTES"], self._regs["PROGRAM_BASE"]
        if size < RECORD_BYTES:
            raise _RunError("PROGRAM_OVERRUN")
        header = Header.decode(self._span(base, RECORD_BYTES, "AXI_READ").tobytes())
        cfg = self.config
        if (header.magic, header.version, header.pe, header.simd) != (
                MAGIC, VERSION, cfg.pe, cfg.simd) or header.act_bytes > cfg.act_bytes:
            raise _RunError("BAD_INSTRUCTION")
        body = []
        for i in range(1, min(size // RECORD_BYTES - 1, header.instructions) + 1):
            raw = self._span(base + i * RECORD_BYTES, RECORD_BYTES, "AXI_READ").tobytes()
            try:
                body.append(Instruction.decode(raw))
            except ValueError:  # an opcode the engine does not have
                raise _RunError("BAD_INSTRUCTION") from None
            if body[-1].opcode == Opcode.END:
                return dataclasses.replace(header, instructions=len(body)), body
        raise _RunError("PROGRAM_OVERRUN")

    def _run(self) -> tuple[bytes, int, int, int, list[int]]:
        """Outputs, cycles, stall cycles, images and images per exit point (EXITS_0..3) of a
        run (raises `_RunError`)."""
        header, body = self._program()
        images = self._regs["IMAGE_COUNT"]
        program = header.encode() + b"".join(ins.encode() for ins in body)
        data = self._span(self._regs["DATA_BASE"], header.data_bytes, "AXI_READ").tobytes()
        inputs = self._span(self._regs["INPUT_BASE"], images * header.input_bytes,
                            "AXI_READ").tobytes()
        self._span(self._regs["OUTPUT_BASE"], images * header.output_bytes, "AXI_WRITE")
        out = execute(program, data, inputs, images, self.config.act_bytes)
        ideal = dataclasses.replace(self.config, ddr_latency=0, ddr_bytes_per_cycle=math.inf)
        offset = exits.result_offset(body)
        points = (np.full(images, -1) if offset is None else
                  exits.unpack_results(out, header.output_bytes, offset, images)[1])
        cycles = stall = 0
        for first in range(0, images, header.batch):
            batch = points[first:first + header.batch].tolist()
            real = batch_cycles(body, self.config, batch)
            cycles += real
            stall += real - batch_cycles(body, ideal, batch)
        counts = np.bincount(np.minimum(points[points >= 0], 3), minlength=4)
        return out, cycles, stall, images, counts.tolist()

    def _finish(self) -> None:
        code, out, cycles, stall, images, counts = self._result
        self._result = None
        if code != "NONE":
            self._set_error(code)
        else:
            self._span(self._regs["OUTPUT_BASE"], len(out), "AXI_WRITE")[:] = np.frombuffer(
                out, np.uint8)
        for reg, value in (("CYCLES", cycles), ("STALL", stall)):
            self._regs[f"{reg}_LO"], self._regs[f"{reg}_HI"] = value & 0xFFFF_FFFF, value >> 32
        self._regs["IMAGES_DONE"] = images
        for i, n in enumerate(counts):
            self._regs[f"EXITS_{i}"] = n
        self._regs["STATUS"] = (self._regs["STATUS"] & ~self._bit("STATUS", "BUSY")) | self._bit(
            "STATUS", "DONE")
