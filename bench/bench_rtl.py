"""RTL simulation speed (cycles/s) in both modes, and the RTL/analytical cycle ratio.

- per-cycle Python: cocotbext-axi source/sink (`sim.network`), what the per-engine tests use;
- free-running: the generated harness (`sim.freerun`), ROM-fed, LFSR stalls, cocotb waits on
  `done` only. Target: >= 1 M cycles/s.
Both on a small demo-shaped network (12×12 input, two conv + pool, dense; random weights):
the free-running speed falls with the design's size (Verilator evaluates every engine every
cycle), so a larger network is slower; then the demo-size network (64×64 input,
conv 16/32/64/96 + pools + dense 100, balanced folding) free-running with random backpressure:
cycles/image measured vs the analytical formula, bit-exact vs golden.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from quant import golden, ir
from sim.check import check_network
from sim.freerun import simulate_freerun
from sim.network import simulate_network

TARGET_CYCLES_PER_S = 1e6


def random_net(size: int, widths: tuple[int, ...], classes: int, seed: int = 0) -> ir.Model:
    """Demo-shaped network with random weights: per width conv 3×3 (pad 1, ReLU) + 2×2 max
    pool, then dense to int8 logits; requantisers scaled to keep activations in range."""
    rng = np.random.default_rng(seed)
    tensors = {"input": ir.TensorSpec("input", (size, size, 1), "uint8", 1 / 255, 0)}
    ops: list[ir.Op] = []

    def rq(taps: int, n: int) -> dict[str, np.ndarray]:
        acc = math.sqrt(taps) * 40 * 64  # typical |acc| for |w| ~ 40, |x - zx| ~ 64
        shift = int(round(math.log2(acc * 2**14))) - 6
        return {"bias": rng.integers(-2000, 2000, n).astype(np.int32),
                "multiplier": np.full(n, 2**14, np.int32), "shift": np.full(n, shift, np.int32)}

    prev = "input"
    for i, width in enumerate(widths, 1):
        h, _, cin = tensors[prev].shape
        weight = rng.integers(-64, 64, (3, 3, cin, width)).astype(np.int8)
        ops.append(ir.Conv2d(name=f"conv{i}", inputs=(prev,), output=f"conv{i}", kernel=(3, 3),
                             stride=(1, 1), padding=(1, 1, 1, 1), weight=weight, relu=True,
                             **rq(9 * cin, width)))
        tensors[f"conv{i}"] = ir.TensorSpec(f"conv{i}", (h, h, width), "int8", 0.05, -128)
        ops.append(ir.MaxPool(name=f"pool{i}", inputs=(f"conv{i}",), output=f"pool{i}",
                              kernel=(2, 2), stride=(2, 2), padding=(0, 0, 0, 0)))
        tensors[f"pool{i}"] = ir.TensorSpec(f"pool{i}", (h // 2, h // 2, width), "int8", 0.05,
                                            -128)
        prev = f"pool{i}"
    n_in = math.prod(tensors[prev].shape)
    ops.append(ir.Dense(name="fc", inputs=(prev,), output="fc",
                        weight=rng.integers(-64, 64, (n_in, classes)).astype(np.int8),
                        **rq(n_in, classes)))
    tensors["fc"] = ir.TensorSpec("fc", (1, 1, classes), "int8", 0.1, 7)
    model = ir.Model(f"bench_{size}", tensors, tuple(ops), ("input",), ("fc",))
    ir.check(model)
    return model


def _images(model: ir.Model, n: int) -> np.ndarray:
    spec = model.tensors["input"]
    return np.random.default_rng(1).integers(0, 256, (n, *spec.shape)).astype(np.uint8)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hccr_bench_rtl_") as tmp:
        tmp = Path(tmp)
        small = random_net(12, (4, 8), 10)
        net = generate(small, tmp / "small", balanced_folding(small))
        x = _images(small, 256)
        want = golden.run(small, x)["fc"].reshape(len(x), -1)
        simulate_freerun(net, x[:1], tmp / "warm")  # builds outside the timings
        free = simulate_freerun(net, x, tmp / "free")
        axi = simulate_network(net, x[:4], tmp / "axi")
        ok = (not free.error and np.array_equal(np.stack(free.frames), want)
              and axi.sim.passed)
        print(f"rtl sim speed, small network ({net.pipeline_cycles} cycles/image, "
              f"{len(net.engines)} engines, {free.cycles} cycles): per-cycle Python "
              f"(cocotbext-axi) {axi.cycles_per_s / 1e3:.0f} k cycles/s; free-running "
              f"{free.cycles_per_s / 1e6:.2f} M cycles/s wall, "
              f"{free.cycles_per_cpu_s / 1e6:.2f} M per CPU second; ratio to the 1 M target: "
              f"{free.cycles_per_cpu_s / TARGET_CYCLES_PER_S:.2f} (CPU), "
              f"{free.cycles_per_s / TARGET_CYCLES_PER_S:.2f} (wall); "
              f"{'bit-exact' if ok else 'MISMATCH'}")

        demo = random_net(64, (16, 32, 64, 96), 100)
        net = generate(demo, tmp / "demo", balanced_folding(demo))
        check = check_network(demo, net, _images(demo, 8), tmp / "demo_sim",
                              backpressure="random")
        print(f"rtl demo-size network ({len(net.engines)} engines, random backpressure, 8 "
              f"images): {check.summary()}")
        print(f"rtl demo-size {check.cycles_line()}; RTL/analytical cycle ratio "
              f"{check.ratio:.3f}")


if __name__ == "__main__":
    main()
