"""CPU speed of the seed networks, float PyTorch and the int8 golden model, beside the seeds'.

Every seed network at its default input size with 3755 classes: random weights; for the golden
model, BN statistics and QAT observers calibrated on random images and a power-of-two export
(`bench_hls.calibrated_ir`). Speed does not depend on the weights.
- ms per character on one thread: batch 1, `torch.set_num_threads(1)` (golden: one worker,
  BLAS on one thread), median CPU time of `REPEATS` runs after a warm-up: what seeds 002 and
  004 measure.
- images/s on all cores: a batch of `BATCH` images, torch on every core (golden: one worker
  thread per core), wall time of the best of `REPEATS` runs (on a shared machine, what the
  other jobs leave).
Printed as a Markdown table (docs/cpu_speed.md holds a measured one) with, where a seed reports
one, its ms per character and our ratio to it. The seeds' CPU is a 3.6 GHz Core i7-6700, one
thread (seed 002 with MKL BLAS; seed 004 does not say how many threads).

`python -m bench.bench_cpu ARCH[:SIZE] ...` times only the named networks.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from bench.bench_hls import calibrated_ir
from model.nets import build
from model.nets.stats import profile
from quant import golden

CLASSES = 3755
REPEATS = 5
BATCH = 16
# (arch, input side, seed figure in ms per character or None, what the figure is)
NETWORKS: tuple[tuple[str, int, float | None, str], ...] = (
    ("sqnxt-ccbam", 64, None, "seed 000: GPU timings only"),
    ("eca-resnet18", 64, None, "seed 001: none"),
    ("cnn9", 96, 21.1, "seed 002 Table 5, LU+BLAS"),
    ("cnn9-gslre", 96, 10.1, "seed 002 Table 5, LU+4X+BLAS (9.7 ms with a sparse FC)"),
    ("fire-gwap-cascade", 64, 9.21, "seed 004 Table 4, final exit (6.93 ms cascaded)"),
)
HEADERS = ("network", "input", "M MACs", "float ms/char, 1 thread",
           f"float images/s, {os.cpu_count()} cores", "int8 golden ms/char, 1 thread",
           f"int8 golden images/s, {os.cpu_count()} cores", "seed ms/char", "float / seed",
           "seed figure")


def timings(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter
            ) -> list[float]:
    """Seconds on `clock` of `REPEATS` calls after one warm-up call."""
    fn()
    seconds = []
    for _ in range(REPEATS):
        t0 = clock()
        fn()
        seconds.append(clock() - t0)
    return seconds


def ms_per_char(fn: Callable[[], object]) -> float:
    """Median CPU ms of a one-image, one-thread call (process CPU time: other jobs on a shared
    machine do not inflate it; on an idle machine it equals the wall time)."""
    return 1e3 * statistics.median(timings(fn, time.process_time))


def images_per_s(fn: Callable[[], object]) -> float:
    """Images per second (wall) of the fastest call on a `BATCH`-image batch."""
    return BATCH / min(timings(fn))


def float_speed(arch: str, size: int) -> tuple[float, float, int]:
    """Float PyTorch (eval, inference mode): ms per character on one thread, images/s on all
    cores, and MACs per character."""
    net = build(arch, CLASSES, size).eval()
    macs = sum(s.macs for s in profile(net, size))
    x = torch.rand(BATCH, 1, size, size)
    threads = torch.get_num_threads()
    try:
        with torch.inference_mode():
            torch.set_num_threads(1)
            one = ms_per_char(lambda: net(x[:1]))
            torch.set_num_threads(os.cpu_count() or 1)
            rate = images_per_s(lambda: net(x))
    finally:
        torch.set_num_threads(threads)
    return one, rate, macs


def golden_speed(arch: str, size: int) -> tuple[float, float]:
    """The int8 golden model: ms per character on one thread, images/s on all cores."""
    model = calibrated_ir(arch, size, CLASSES)
    x = np.random.default_rng(1).integers(0, 256, (BATCH, size, size, 1)).astype(np.uint8)
    one = ms_per_char(lambda: golden.run(model, x[:1], workers=1))
    return one, images_per_s(lambda: golden.run(model, x))


def row(arch: str, size: int, seed_ms: float | None, what: str) -> tuple:
    f_one, f_rate, macs = float_speed(arch, size)
    g_one, g_rate = golden_speed(arch, size)
    ratio = None if seed_ms is None else f"{f_one / seed_ms:.2f}"
    return (f"`{arch}`", f"{size}×{size}", f"{macs / 1e6:.1f}", f"{f_one:.2f}", f"{f_rate:,.0f}",
            f"{g_one:.1f}", f"{g_rate:,.0f}", seed_ms, ratio, what)


def markdown(rows: list[tuple]) -> str:
    """A Markdown table of `rows` under `HEADERS`."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join("—" if v is None else str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def main(args: list[str] | None = None) -> None:
    known = {n[0]: n for n in NETWORKS}
    chosen = NETWORKS
    if args:
        chosen = []
        for arg in args:
            arch, _, side = arg.partition(":")
            _, size, seed_ms, what = known.get(arch, (arch, 64, None, ""))
            chosen.append((arch, int(side or size), seed_ms, what))
    rows = []
    for arch, size, seed_ms, what in chosen:
        rows.append(row(arch, size, seed_ms, what))
        print(f"cpu: {arch} timed", file=sys.stderr, flush=True)
    print(f"cpu: seed networks, {CLASSES} classes, random weights, batch 1 on one thread and "
          f"batch {BATCH} on {os.cpu_count()} cores (torch {torch.__version__})")
    print(markdown(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
