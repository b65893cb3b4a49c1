"""The board driver of the layer-sequential engine, in PYNQ's conventions.

`SeqEngine` drives the engine's AXI4-Lite registers (docs/seq_registers.md) through an
MMIO-like object (`read(offset) -> int`, `write(offset, value)`) and puts the program, the data
block and the image records in DDR through an allocator (`allocate(shape, dtype)` returning a
NumPy array with `physical_address`, `flush()`, `invalidate()`, as `pynq.allocate` does). On a
board:

    engine = SeqEngine.from_overlay(pynq.Overlay("overlay/hccr_seq.bit"))
    engine.load("build/rtl/program")        # the folder `hccr rtl` wrote
    scores = engine.run(images)["fc"]       # images: [N, H, W, C]
    print(engine.stats.images_per_s)

A program with early exits (IR v2, docs/early_exit.md) also returns, per image, the class and
the exit point it left at under `EXIT_CLASS` and `EXIT_POINT` (its later outputs are then not
written), and `stats.exits` counts the images per exit point.

Without a board, `hw.gen.seq.emulator.Emulator` is both the MMIO and the allocator.
`pynq` is imported only by `from_overlay`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from base.errors import HccrError
from hw.gen.seq import exits
from hw.gen.seq.compiler import Program
from hw.gen.seq.config import IP_INSTANCE
from hw.gen.seq.files import load_program
from hw.gen.seq.records import pack_inputs, unpack_outputs
from hw.gen.seq_regs import error_codes, register_map

ENGINE_ID = 0x48434352  # the ID register: ASCII "HCCR"
DATA_ALIGN = 64  # the data block's offset after the program in the program buffer
EXIT_CLASS, EXIT_POINT = exits.EXIT_CLASS, exits.EXIT_POINT  # run()'s keys (never IR names)


class Mmio(Protocol):
    """32-bit register access at byte offsets (pynq.MMIO)."""

    def read(self, offset: int) -> int: ...

    def write(self, offset: int, value: int) -> None: ...


Allocate = Callable[..., Any]  # allocate(shape, dtype) -> buffer (pynq.allocate)


class SeqError(HccrError):
    """The engine ended a run with an error; `code` and `name` are its ERROR_CODE."""

    def __init__(self, code: int, name: str, detail: str = "") -> None:
        self.code, self.name = code, name
        super().__init__(f"layer-sequential engine: ERROR_CODE {code} ({name})"
                         + (f": {detail}" if detail else ""))


class SeqTimeout(HccrError):
    """The engine did not set DONE in time."""


@dataclass(frozen=True)
class RunStats:
    """Counters of the last run, read from the engine."""

    images: int
    cycles: int
    stall_cycles: int
    clock_mhz: float
    exits: tuple[int, ...] = ()  # images per early-exit point (EXITS_0..3; 3: 3 or later)

    @property
    def cycles_per_image(self) -> float:
        return self.cycles / self.images if self.images else 0.0

    @property
    def images_per_s(self) -> float:
        return self.clock_mhz * 1e6 * self.images / self.cycles if self.cycles else 0.0

    @property
    def stall_fraction(self) -> float:
        return self.stall_cycles / self.cycles if self.cycles else 0.0


class SeqEngine:
    """One engine behind an MMIO window and an allocator (module doc).

    Args:
        mmio: the engine's AXI4-Lite window.
        allocate: DDR buffers the engine can reach.
        timeout_s: how long `run` waits for DONE.
        poll_s: sleep between two STATUS reads.

    Raises:
        HccrError: the ID register does not read "HCCR" (no engine at this address).
    """

    def __init__(self, mmio: Mmio, allocate: Allocate, timeout_s: float = 10.0,
                 poll_s: float = 0.0) -> None:
        self.mmio, self.allocate = mmio, allocate
        self.timeout_s, self.poll_s = timeout_s, poll_s
        self._map = register_map()
        self._codes = {v: k for k, v in error_codes().items()}
        ident = self._read("ID")
        if ident != ENGINE_ID:
            raise HccrError(f"no layer-sequential engine here: ID reads 0x{ident:08X}, "
                            f"expected 0x{ENGINE_ID:08X}")
        self.program: Program | None = None
        self.stats: RunStats | None = None
        self._buffers: dict[str, Any] = {}

    @classmethod
    def from_overlay(cls, overlay: Any, ip: str = IP_INSTANCE, **kwargs: Any) -> SeqEngine:
        """The engine `ip` of a loaded `pynq.Overlay` (needs pynq, on the board)."""
        import pynq

        return cls(getattr(overlay, ip).mmio, pynq.allocate, **kwargs)

    # --- registers ----------------------------------------------------------------------
    def _read(self, reg: str) -> int:
        return self.mmio.read(self._map[reg].address)

    def _write(self, reg: str, value: int) -> None:
        self.mmio.write(self._map[reg].address, value)

    def _field(self, reg: str, name: str, word: int) -> int:
        f = self._map[reg].fields[name]
        return (word & f.mask) >> f.lsb

    def _bit(self, reg: str, name: str) -> int:
        return self._map[reg].fields[name].mask

    def _read64(self, reg: str) -> int:
        """A 64-bit counter as HI, LO, HI again (LO may wrap between reads)."""
        while True:
            hi = self._read(f"{reg}_HI")
            lo = self._read(f"{reg}_LO")
            if self._read(f"{reg}_HI") == hi:
                return hi << 32 | lo

    def config(self) -> dict[str, int]:
        """The CONFIG register's fields (PE, SIMD, SEGMENTS, VERSION)."""
        word = self._read("CONFIG")
        return {name: self._field("CONFIG", name, word) for name in self._map["CONFIG"].fields}

    # --- memory -------------------------------------------------------------------------
    def _buffer(self, name: str, nbytes: int) -> Any:
        """A byte buffer of at least `nbytes`, reused while it is large enough."""
        buf = self._buffers.get(name)
        if buf is None or buf.nbytes < nbytes:
            buf = self._buffers[name] = self.allocate((max(nbytes, 8),), np.uint8)
        return buf

    def load(self, program: Program | str | Path) -> None:
        """Put a program and its data block in DDR and point the engine at them.

        Args:
            program: a compiled `Program`, or the folder `save_program`/`hccr rtl` wrote.
        """
        if not isinstance(program, Program):
            program = load_program(Path(program))
        code = program.encode()
        offset = -(-len(code) // DATA_ALIGN) * DATA_ALIGN
        buf = self._buffer("program", offset + len(program.data))
        buf[:len(code)] = np.frombuffer(code, np.uint8)
        buf[offset:offset + len(program.data)] = np.frombuffer(program.data, np.uint8)
        buf.flush()
        self._write("PROGRAM_BASE", buf.physical_address)
        self._write("PROGRAM_BYTES", len(code))
        self._write("DATA_BASE", buf.physical_address + offset)
        self.program = program

    # --- a run --------------------------------------------------------------------------
    def run(self, x: np.ndarray | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run a batch of images; returns every graph output `[N, *shape]` by name, and for a
        program with early exits `EXIT_CLASS` and `EXIT_POINT` (`[N]` int64).

        Args:
            x: `[N, H, W, C]` for a single-input network, or a batch per input name.

        Raises:
            SeqError: the engine reported an error (its code and name).
            SeqTimeout: DONE did not come within `timeout_s`.
        """
        if self.program is None:
            raise HccrError("SeqEngine.run: load a program first")
        header = self.program.header
        records = pack_inputs(self.program, x)
        images = len(records) // header.input_bytes
        src = self._buffer("inputs", len(records))
        dst = self._buffer("outputs", images * header.output_bytes)
        src[:len(records)] = np.frombuffer(records, np.uint8)
        src.flush()
        self._write("INPUT_BASE", src.physical_address)
        self._write("OUTPUT_BASE", dst.physical_address)
        self._write("IMAGE_COUNT", images)
        self._write("STATUS", self._bit("STATUS", "DONE"))  # clear the last run's DONE
        ctrl = self._read("CTRL") & self._bit("CTRL", "IRQ_EN")
        self._write("CTRL", ctrl | self._bit("CTRL", "START"))
        self._wait()
        self.stats = RunStats(self._read("IMAGES_DONE"), self._read64("CYCLES"),
                              self._read64("STALL"), self.program.config.clock_mhz,
                              tuple(self._read(f"EXITS_{i}") for i in range(4)))
        dst.invalidate()
        raw = dst[:images * header.output_bytes].tobytes()
        out = unpack_outputs(self.program, raw, images)
        offset = exits.result_offset(self.program.instructions)
        if offset is not None:
            out[EXIT_CLASS], out[EXIT_POINT] = exits.unpack_results(
                raw, header.output_bytes, offset, images)
        return out

    def _wait(self) -> None:
        """Poll STATUS until DONE or ERROR; raise the engine's error if there is one."""
        deadline = time.monotonic() + self.timeout_s
        ended = self._bit("STATUS", "DONE") | self._bit("STATUS", "ERROR")
        while not (status := self._read("STATUS")) & ended:
            if time.monotonic() > deadline:
                raise SeqTimeout(f"layer-sequential engine: no DONE within {self.timeout_s} s "
                                 f"(STATUS 0x{status:08X})")
            time.sleep(self.poll_s)
        code = self._read("ERROR_CODE")
        if status & self._bit("STATUS", "ERROR") or code:
            raise SeqError(code, self._codes.get(code, "unknown"), self._detail(code))

    def _detail(self, code: int) -> str:
        """What the host knows about an error code (the registers it wrote)."""
        name = self._codes.get(code)
        if name == "BAD_INSTRUCTION":
            cfg, hdr = self.config(), self.program.header
            return (f"the engine has PE {cfg['PE']}, SIMD {cfg['SIMD']}, version "
                    f"{cfg['VERSION']}; the program was compiled for PE {hdr.pe}, SIMD "
                    f"{hdr.simd}, version {hdr.version} (magic 0x{hdr.magic:08X})")
        if name in ("AXI_READ", "AXI_WRITE"):
            bases = ", ".join(f"{r} 0x{self._read(r):08X}" for r in (
                "PROGRAM_BASE", "DATA_BASE", "INPUT_BASE", "OUTPUT_BASE"))
            return f"DDR refused an access ({bases})"
        if name == "PROGRAM_OVERRUN":
            return f"no END within PROGRAM_BYTES = {self._read('PROGRAM_BYTES')}"
        if name == "START_WHILE_BUSY":
            return "another run was in progress; START was ignored"
        return ""
