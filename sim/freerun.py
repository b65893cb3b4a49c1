"""Free-running simulation of a generated network: images from a ROM, no Python per cycle.

`simulate_freerun` writes the harness (`hw.gen.harness`) and the input ROM image beside the
network's `.mem` files, builds harness + top + engines once (cached by content; the image
count, pause patterns, seed and trace flag are read at start-up, so every run shares one
build), runs `sim.tb.freerun`, and reads back the frames, their end cycles and (with `trace`)
every engine's output stream. The cocotbext-axi path (`sim.network`) stays for tests that
want Python-controlled backpressure.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hw.gen.harness import MODES, harness_top, write_harness
from hw.gen.network import Network
from sim import runner

# The harness's own clock (`#5ns`) needs --timing (C++20 coroutines); -O2 instead of
# Verilator's default -Os makes the model ~15 % faster for a little more compile time.
TIMING = ("--timing", "-CFLAGS", "-fcoroutines", "-CFLAGS", "-O2")
_OUTPUTS = ("harness_y.txt", "harness_frames.txt", "freerun.json", "results.xml")


@dataclass
class FreeRun:
    """What one free-running simulation produced.

    Attributes:
        sim: the cocotb result.
        frames: output frames (flat int64), one per tlast, at most one per image.
        beats: beats of each frame.
        end_cycles: cycle (from reset release) of each frame's last beat.
        cycles: cycles until the last frame; `wall_s` and `cpu_s` their wall and CPU time.
        extra_beats: beats that arrived after the last expected frame.
        traces: with `trace`, each engine's output `[N, *shape]` by layer (output tensor) name.
        waves: the waveform file, when written.
        error: '' or what went wrong (timeout, lost or extra beats).
    """

    sim: runner.SimResult
    frames: list[np.ndarray] = field(default_factory=list)
    beats: list[int] = field(default_factory=list)
    end_cycles: list[int] = field(default_factory=list)
    cycles: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    extra_beats: int = 0
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    waves: Path | None = None
    error: str = ""

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / max(self.wall_s, 1e-9)

    @property
    def cycles_per_cpu_s(self) -> float:
        """Speed per second of CPU time (unaffected by other jobs on the machine)."""
        return self.cycles / max(self.cpu_s, 1e-9)

    @property
    def intervals(self) -> list[int]:
        """Cycles between successive frame ends (steady-state cycles per image)."""
        return [b - a for a, b in zip(self.end_cycles, self.end_cycles[1:], strict=False)]

    @property
    def cycles_per_image(self) -> float:
        """Mean steady-state interval (the first frame's end when only one image ran)."""
        gaps = self.intervals
        return float(np.mean(gaps)) if gaps else float(self.end_cycles[0] if self.end_cycles
                                                       else 0)


def max_images(n: int) -> int:
    """Input ROM depth in images for `n` images: a power of two >= 32 (few distinct builds)."""
    return max(32, 1 << max(n - 1, 0).bit_length())


def build_harness(net: Network, directory: Path, n_images: int, *, waves: bool = False,
                  root: Path | None = None) -> runner.Build:
    """Write the harness into `directory` and compile it with the network (cached)."""
    harness = write_harness(net, directory)
    return runner.build(harness_top(net), [harness, net.top_file,
                                           *runner.rtl_sources(*net.modules)],
                        {"MAX_IMAGES": max_images(n_images)}, waves=waves, root=root,
                        options=TIMING, public=False)


def _read_ints(path: Path) -> np.ndarray:
    if not path.exists() or path.stat().st_size == 0:
        return np.zeros(0, np.int64)
    return np.loadtxt(path, dtype=np.int64, ndmin=1)


def simulate_freerun(net: Network, x: np.ndarray, directory: str | Path, *,
                     src_pause: str | None = None, sink_pause: str | None = None,
                     seed: int = 1, trace: bool = False, waves: bool = False,
                     root: Path | None = None) -> FreeRun:
    """Run images `x [N, H, W, C]` through the network, free-running.

    Args:
        net: the generated network (its `.mem` files are copied into `directory`).
        x: input images in the network input's dtype range.
        directory: simulation directory (harness outputs there are replaced).
        src_pause, sink_pause: `none`, `1110` or `random` (see `hw.gen.harness`).
        seed: LFSR seed of the random patterns.
        trace: also record every engine's output stream.
        waves: write a waveform (`dump.fst`, or `dump.vcd` without lz4).
        root: Verilator build root.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [*_OUTPUTS, *(p.name for p in directory.glob("harness_trace_*.txt"))]:
        (directory / stale).unlink(missing_ok=True)
    for mem in net.mem_files:
        if mem.parent.resolve() != directory:
            shutil.copy(mem, directory / mem.name)
    n = len(x)
    in_elems = math.prod(net.in_spec.shape)
    flat = np.asarray(x).astype(np.int64).reshape(n, -1)
    if flat.shape[1] != in_elems:
        raise ValueError(f"images have {flat.shape[1]} elements, the network reads {in_elems}")
    (directory / "harness_x.mem").write_text("".join(f"{v:02x}\n" for v in
                                                     (flat.reshape(-1) & 0xFF).tolist()))
    modes = {}
    for side, kind in (("source", src_pause), ("sink", sink_pause)):
        if (kind or "none") not in MODES:
            raise ValueError(f"unknown {side} pause pattern {kind!r} (one of "
                             f"{', '.join(MODES)})")
        modes[side] = MODES[kind or "none"]
    limit = 8 * (n + 2) * net.pipeline_cycles + 8 * sum(e.bound_cycles for e in net.engines) \
        + 10_000
    cfg = [n, seed & 0xFFFFFFFF, limit, modes["source"], modes["sink"], int(trace)]
    (directory / "harness_cfg.mem").write_text("".join(f"{v:08x}\n" for v in cfg))
    built = build_harness(net, directory, n, waves=waves, root=root)
    sim = runner.run(built, "sim.tb.freerun", directory, env={"HCCR_CASE_DIR": str(directory)},
                     waves=waves)
    out = FreeRun(sim)
    if waves and (directory / built.waves_file).exists():
        out.waves = directory / built.waves_file
    info_path = directory / "freerun.json"
    if not info_path.exists():
        out.error = sim.message or "the simulation wrote no freerun.json"
        return out
    info = json.loads(info_path.read_text())
    out.cycles, out.wall_s = int(info["cycles"]), float(info["wall_s"])
    out.cpu_s = float(info.get("cpu_s", out.wall_s))
    out_elems = math.prod(net.out_spec.shape)
    values = _read_ints(directory / "harness_y.txt")
    frames = _read_ints(directory / "harness_frames.txt").reshape(-1, 2)
    out.end_cycles = frames[:, 0].tolist()
    out.beats = frames[:, 1].tolist()
    starts = np.concatenate([[0], np.cumsum(out.beats)])
    out.frames = [values[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    out.extra_beats = int(info["extra_beats"])
    if info["timeout"]:
        out.error = (f"timeout: {info['frames']} of {n} frames within {limit} cycles")
    elif out.beats != [out_elems] * n:
        out.error = (f"frames of {sorted(set(out.beats))} beats, expected {n} of {out_elems} "
                     "(an image lost or split)")
    elif out.extra_beats > 0:
        out.error = f"{out.extra_beats} beats after the last frame (an image duplicated?)"
    if trace:
        for eng in net.engines:
            v = _read_ints(directory / f"harness_trace_{eng.name}.txt")
            per = math.prod(eng.out_spec.shape)
            k = len(v) // per
            out.traces[eng.out_spec.name] = v[:k * per].reshape(k, *eng.out_spec.shape)
    return out
