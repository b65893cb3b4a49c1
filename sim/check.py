"""Golden vs the RTL network on whole images: bit-exact count, cycles, first mismatching layer.

`check_network` runs the free-running simulation (`sim.freerun`), compares the output with the
golden model, and on a mismatch runs the images up to the first bad one again with every
engine's output stream traced and a waveform written, so the result names the first layer (in
topological order, branches included) and element that differ. A timeout names the FIFOs
smaller than their join needs, if any (a deadlock; then there is no second run). `hccr sim`
and the demo's rtl stage both call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.gen.network import Network
from quant import golden, ir
from quant.compare import CompareResult, compare_tensors
from sim.freerun import FreeRun, simulate_freerun

BACKEND = "rtl"


@dataclass
class NetworkCheck:
    """Outcome of `check_network`.

    Attributes:
        result: the comparison (over the output; over every engine's output when localised).
        run: the simulation of all images.
        analytical: cycles per image of the slowest engine (the pipeline's formula).
        stream_error: lost, split or duplicated images, or a timeout ('' when none).
        waves: waveform of the localising run (only on a mismatch or a stream error).
    """

    result: CompareResult
    run: FreeRun
    analytical: int
    stream_error: str = ""
    waves: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.stream_error and self.result.bit_exact == self.result.images

    @property
    def cycles_per_image(self) -> float:
        return self.run.cycles_per_image

    @property
    def ratio(self) -> float:
        """Measured steady-state cycles per image over the analytical estimate."""
        return self.cycles_per_image / self.analytical

    def summary(self, waves: bool = True) -> str:
        """One line: the comparison, or the stream problem, and the waveform on a mismatch.

        Args:
            waves: name the waveform (False where its folder does not outlive the run).
        """
        line = (f"{BACKEND}: {self.stream_error}" if self.stream_error else
                self.result.summary())
        return line + (f"; waveform {self.waves}" if waves and self.waves else "")

    def cycles_line(self) -> str:
        """Measured cycles per image beside the formula, latency and simulation speed."""
        r = self.run
        first = r.end_cycles[0] if r.end_cycles else 0
        return (f"cycles/image: measured {self.cycles_per_image:.0f}, analytical "
                f"{self.analytical} (ratio {self.ratio:.3f}); first image after {first} "
                f"cycles; {r.cycles} cycles simulated in {r.wall_s:.2f} s = "
                f"{r.cycles_per_s / 1e6:.2f} M cycles/s ({r.cycles_per_cpu_s / 1e6:.2f} per "
                "CPU second)")

    def as_json(self) -> dict:
        r = self.run
        return {**self.result.as_json(), "stream_error": self.stream_error or None,
                "cycles_per_image": round(self.cycles_per_image, 1),
                "analytical_cycles": self.analytical, "ratio": round(self.ratio, 4),
                "end_cycles": r.end_cycles, "cycles": r.cycles, "wall_s": round(r.wall_s, 3),
                "cycles_per_s": round(r.cycles_per_s),
                "cycles_per_cpu_s": round(r.cycles_per_cpu_s),
                "waves": str(self.waves) if self.waves else None}


def _deadlock_hint(net: Network) -> str:
    """FIFOs smaller than their join needs (network.json says why), the likely deadlock."""
    small = [f for f in net.fifos if f.depth < f.required]
    return "".join(f"; FIFO {f.name} holds {f.depth} of the {f.required} elements its join "
                   "needs: deadlock" for f in small)


def _stack(frames: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    return np.stack([f.reshape(shape) for f in frames]) if frames else np.zeros((0, *shape))


def check_network(model: ir.Model, net: Network, x: np.ndarray, directory: str | Path, *,
                  backpressure: str = "random", seed: int = 1, waves: bool = True
                  ) -> NetworkCheck:
    """Simulate images `x [N, H, W, C]` with `backpressure` on both sides, compare with golden.

    Args:
        model: the IR the network was generated from.
        net: the generated network.
        x: input images.
        directory: simulation folder (`debug/` beneath it holds the localising run).
        backpressure: `none`, `1110` or `random` (source idles and sink stalls).
        seed: seed of the random patterns.
        waves: write a waveform in the localising run (its build takes longer).
    """
    directory = Path(directory)
    expected = golden.run(model, x)
    out_name = net.out_spec.name
    run = simulate_freerun(net, x, directory, src_pause=backpressure, sink_pause=backpressure,
                           seed=seed)
    if run.error:  # lost, split or extra beats, or a timeout: record it for a look
        empty = CompareResult(BACKEND, len(x), 0, (out_name,), None)
        hint = _deadlock_hint(net)
        if hint:  # the cause is known: no second run
            return NetworkCheck(empty, run, net.pipeline_cycles, run.error + hint)
        debug = simulate_freerun(net, x, directory / "debug", src_pause=backpressure,
                                 sink_pause=backpressure, seed=seed, trace=True, waves=waves)
        return NetworkCheck(empty, run, net.pipeline_cycles, run.error, debug.waves)
    got = {out_name: _stack(run.frames, net.out_spec.shape)}
    result = compare_tensors(BACKEND, expected, got, [out_name])
    check = NetworkCheck(result, run, net.pipeline_cycles)
    if result.first_mismatch is None:
        return check
    k = result.first_mismatch.image + 1
    debug = simulate_freerun(net, x[:k], directory / "debug", src_pause=backpressure,
                             sink_pause=backpressure, seed=seed, trace=True, waves=waves)
    layers = [e.out_spec.name for e in net.engines
              if len(debug.traces.get(e.out_spec.name, ())) == k]
    if layers:
        part = {t: expected[t][:k] for t in layers}
        local = compare_tensors(BACKEND, part, debug.traces, layers)
        if local.first_mismatch is not None:  # the same images; bit-exact counts stay global
            result = CompareResult(BACKEND, result.images, result.bit_exact, tuple(layers),
                                   local.first_mismatch)
    check.result, check.waves = result, debug.waves
    return check

