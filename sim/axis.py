"""AXI4-Stream source and sink for cocotb testbenches: the only module importing cocotbext.axi.

One element per "byte" of the bus: a bus of `lanes` elements of `width` bits each carries
`lanes` elements per beat, HWC order (channels fastest). Pause generators insert idle cycles
on the source (tvalid low) and backpressure on the sink (tready low):

- `None` / `"none"`: never pause,
- `"1110"`: the 1-1-1-0 pattern (paused three cycles out of four),
- `"random"`: paused with probability 0.35 per cycle, from a seeded generator.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from cocotb.utils import get_sim_time, get_time_from_sim_steps
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

PAUSES = ("none", "1110", "random")


def pause_generator(kind: str | None, seed: int = 0, p: float = 0.35) -> Iterator[bool] | None:
    """An endless pause pattern (True = pause this cycle), or None for no pauses."""
    if kind in (None, "none"):
        return None
    if kind == "1110":
        return itertools.cycle([True, True, True, False])
    if kind == "random":
        rng = random.Random(seed)
        return (rng.random() < p for _ in itertools.count())
    raise ValueError(f"unknown pause pattern {kind!r} (one of {', '.join(PAUSES)})")


def pack(values: np.ndarray, width: int) -> list[int]:
    """Elements as unsigned `width`-bit integers (two's complement for negatives)."""
    return (np.asarray(values).astype(np.int64).reshape(-1) & ((1 << width) - 1)).tolist()


def unpack(raw: list[int] | bytes, width: int, signed: bool) -> np.ndarray:
    """Unsigned `width`-bit words back to int64 values."""
    v = np.asarray(list(raw), dtype=np.int64)
    if signed:
        v = np.where(v >= 1 << (width - 1), v - (1 << width), v)
    return v


def _endpoint(kind: type, dut: object, prefix: str, lanes: int, pause: str | None, seed: int
              ) -> AxiStreamSource | AxiStreamSink:
    """A cocotbext-axi source or sink (`kind`) on `<prefix>_*`, with its pause pattern."""
    bus = AxiStreamBus.from_prefix(dut, prefix)
    end = kind(bus, dut.clk, dut.rst_n, reset_active_level=False, byte_lanes=lanes)
    # cocotbext-axi logs every frame at INFO; whole images make that slow and noisy.
    end.log.setLevel(logging.WARNING)
    end.set_pause_generator(pause_generator(pause, seed))
    return end


@dataclass
class StreamSource:
    """Drives `<prefix>_tdata/tvalid/tready/tlast` with whole images."""

    dut: object
    prefix: str
    width: int
    lanes: int = 1
    pause: str | None = None
    seed: int = 0
    source: AxiStreamSource = field(init=False)

    def __post_init__(self) -> None:
        self.source = _endpoint(AxiStreamSource, self.dut, self.prefix, self.lanes, self.pause,
                                self.seed)

    def send_image(self, values: np.ndarray) -> None:
        """Queue one image (any shape, flattened in C order); tlast marks its last beat."""
        data = pack(values, self.width)
        if len(data) % self.lanes:
            raise ValueError(f"{len(data)} elements do not fill beats of {self.lanes}")
        self.source.send_nowait(AxiStreamFrame(bytes(data) if self.width == 8 else data))

    async def wait(self) -> None:
        """Until everything queued has been sent."""
        await self.source.wait()


@dataclass
class StreamSink:
    """Receives frames (ended by tlast) from `<prefix>_*`, with timing of each frame."""

    dut: object
    prefix: str
    width: int
    signed: bool
    lanes: int = 1
    pause: str | None = None
    seed: int = 1
    sink: AxiStreamSink = field(init=False)

    def __post_init__(self) -> None:
        self.sink = _endpoint(AxiStreamSink, self.dut, self.prefix, self.lanes, self.pause,
                              self.seed)

    async def recv_image(self) -> tuple[np.ndarray, int, float, float]:
        """The next frame: (values, beats, start time, end time) with times in ns."""
        frame = await self.sink.recv(compact=False)
        values = unpack(frame.tdata, self.width, self.signed)
        return (values, len(values) // self.lanes,
                float(get_time_from_sim_steps(frame.sim_time_start, "ns")),
                float(get_time_from_sim_steps(frame.sim_time_end, "ns")))

    def empty(self) -> bool:
        """No frame queued and no beat of an unfinished frame received."""
        return self.sink.empty() and not self.sink.active


def now_ns() -> float:
    """Current simulation time in ns."""
    return float(get_sim_time("ns"))
