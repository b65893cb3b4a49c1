"""Run whole images through a streaming RTL design (`sim.tb.stream`) and collect the frames."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.runner import Build, SimResult, run


@dataclass(frozen=True)
class Port:
    """An AXI-Stream port: name prefix, element width and signedness, elements per beat."""

    prefix: str
    width: int
    signed: bool
    lanes: int = 1

    def as_dict(self) -> dict:
        return {"prefix": self.prefix, "width": self.width, "signed": self.signed,
                "lanes": self.lanes}


def dtype_port(prefix: str, dtype: str) -> Port:
    """A one-element-per-beat port for an IR dtype (int8, uint8, int32)."""
    return Port(prefix, 32 if dtype == "int32" else 8, dtype != "uint8")


@dataclass
class StreamRun:
    """What came out of one simulation.

    Attributes:
        sim: the cocotb result (fails on a timeout or extra beats).
        frames: received frames (flat int64), one per tlast.
        beats: beats per frame.
        end_cycles: cycle of each frame's last beat, from the end of reset.
        cycles: cycles simulated; `cycles_per_s` the simulation speed.
        error: the testbench's own complaint ('' if none).
    """

    sim: SimResult
    frames: list[np.ndarray] = field(default_factory=list)
    beats: list[int] = field(default_factory=list)
    end_cycles: list[float] = field(default_factory=list)
    cycles: float = 0.0
    cycles_per_s: float = 0.0
    error: str = ""

    @property
    def intervals(self) -> list[float]:
        """Cycles between successive frame ends (steady-state cycles per image)."""
        return [b - a for a, b in zip(self.end_cycles, self.end_cycles[1:], strict=False)]


def run_stream(built: Build, directory: str | Path, x: np.ndarray, in_port: Port,
               out_port: Port, out_elems: int, *, src_pause: str | None = None,
               sink_pause: str | None = None, seed: int = 0, timeout_cycles: int = 200_000,
               waves: bool = False, second: tuple[np.ndarray, Port] | None = None
               ) -> StreamRun:
    """Send the images `x [N, ...]` back to back and receive N frames.

    Args:
        built: the compiled design (its `s_axis`/`m_axis` ports named by the ports).
        directory: simulation directory (holds any `.mem` files the design reads).
        x: input images, flattened per image in C order (HWC).
        in_port, out_port: the stream ports.
        out_elems: elements per output image.
        src_pause, sink_pause: pause patterns (see `sim.axis.PAUSES`).
        seed: seed of the random pause patterns.
        timeout_cycles: cycles allowed per output frame.
        waves: write `dump.fst`.
        second: images and port of a second input stream (two-input engines such as add),
            sent alongside the first with its own pause pattern.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    x = np.asarray(x).reshape(len(x), -1).astype(np.int64)
    for stale in ("y.npz", "result.json"):
        (directory / stale).unlink(missing_ok=True)
    np.save(directory / "x.npy", x)
    (directory / "x2.npy").unlink(missing_ok=True)
    extra = {}
    if second is not None:
        x2, port2 = second
        np.save(directory / "x2.npy", np.asarray(x2).reshape(len(x2), -1).astype(np.int64))
        extra["in2"] = port2.as_dict()
    (directory / "case.json").write_text(json.dumps({
        **extra, "in": in_port.as_dict(), "out": out_port.as_dict(), "out_elems": out_elems,
        "n_images": len(x), "src_pause": src_pause, "sink_pause": sink_pause, "seed": seed,
        "clock_ns": 10, "timeout_cycles": timeout_cycles, "drain_cycles": 200}))
    sim = run(built, "sim.tb.stream", directory, env={"HCCR_CASE_DIR": str(directory)},
              waves=waves)
    out = StreamRun(sim)
    result = directory / "result.json"
    if result.exists():
        info = json.loads(result.read_text())
        with np.load(directory / "y.npz") as y:
            out.frames = [y[f"arr_{i}"] for i in range(len(y.files))]
        out.beats = info["beats"]
        out.end_cycles = info["end_cycles"]
        out.cycles = info["cycles"]
        out.cycles_per_s = info["cycles_per_s"]
        out.error = info["error"]
    return out
