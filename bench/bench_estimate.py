"""The estimator against Verilator, and the SqNxt + C-CBAM plans against the roofline.

- Estimated cycles per image (`hw.estimate.network.estimate` of the folding the RTL uses) vs
  cycles per image measured free-running in Verilator, on the demo-size network and on a
  16×16 `sqnxt0` (seed 000 Scenario 0, residual adds and forks). Target: within 10 %.
- The layer-sequential engine's plans (`hw.estimate.sequential`: the largest array within
  the cap on the device's board, cycles from the compiled program's timing contract) of int8
  SqNxt + C-CBAM, 3755 classes, 64×64, at 200 MHz on xc7z020 (pynq-z2) and xc7z045 (zc706),
  caps 80 % and 100 %: engine, images/s, DSP, BRAM36, share of the device DSP roofline
  (target ≥ 80 %), array efficiency, DDR bytes per image and bandwidth, and the ratio to the
  seed papers' CPU figures (seed 002: 9.7 ms, seed 004: 6.93 ms).
- The same for the pruned widths in `data/sqnxt_ccbam_slim_x8_shapes.json` (the `shapes.json`
  of the 500-class benchmark's slimming 0.6 run slimmed again by 0.1 with widths rounded to
  multiples of 8, `tools/prune500.sh`), rebuilt at 64×64 and 3755 classes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from bench.bench_hls import calibrated_ir
from bench.bench_rtl import random_net
from hw.devices import device
from hw.estimate.calibration import load
from hw.estimate.network import estimate
from hw.estimate.sequential import plan_sequential
from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from quant import golden, ir
from sim.freerun import simulate_freerun

PRUNED = Path(__file__).parent / "data" / "sqnxt_ccbam_slim_x8_shapes.json"
CPU_IMAGES_PER_S = {"seed 002 CPU": 1 / 9.7e-3, "seed 004 CPU": 1 / 6.93e-3}
TARGET_RATIO = 0.10
TARGET_ROOFLINE = 0.80


def measured_vs_estimated(label: str, model: ir.Model, images: int, directory: Path) -> None:
    """Print Verilator's cycles per image beside the estimate's, and bit-exactness."""
    folding = balanced_folding(model)
    net = generate(model, directory / "rtl", folding)
    spec = model.tensors[model.inputs[0]]
    x = np.random.default_rng(1).integers(0, 256, (images, *spec.shape)).astype(np.uint8)
    free = simulate_freerun(net, x, directory / "sim")
    want = golden.run(model, x)[model.outputs[0]].reshape(images, -1)
    exact = not free.error and np.array_equal(np.stack(free.frames), want)
    est = estimate(model, device("xc7z020"), folding, load(), 200).cycles
    ratio = est / free.cycles_per_image
    print(f"estimate {label} ({len(net.engines)} engines, {images} images, "
          f"{'bit-exact' if exact else 'MISMATCH'}): estimated {est:,} vs measured "
          f"{free.cycles_per_image:,.0f} cycles/image, ratio {ratio:.4f} "
          f"({'within' if abs(ratio - 1) <= TARGET_RATIO else 'OUTSIDE'} ±10 %)")


def plans(label: str, model: ir.Model) -> None:
    """Print the layer-sequential engine's plans of a full-size (3755 classes, 64×64)
    network on each board's device."""
    for name in ("xc7z020", "xc7z045"):
        for cap in (0.8, 1.0):
            seq = plan_sequential(model, device(name), 200, cap)
            cfg = seq.config
            share = seq.images_per_s / seq.roofline
            cpu = ", ".join(f"{seq.images_per_s / v:.1f}× {k}" for k, v in
                            CPU_IMAGES_PER_S.items())
            print(f"estimate {label} 3755/64×64 ({seq.macs / 1e6:.1f} M MACs) on {name} "
                  f"({seq.board.name}), cap {cap:.0%}: engine {cfg.pe}×{cfg.simd}, "
                  f"{cfg.act_bytes // 1024} KiB activations, {seq.cost.dsp} DSP, "
                  f"{seq.cost.bram36:g} BRAM36, {seq.cost.lut:,.0f} LUT; "
                  f"{seq.images_per_s:,.0f} images/s (timing contract, batch {seq.batch}) = "
                  f"{share:.1%} of the {seq.roofline:,.0f} images/s DSP roofline (ratio to "
                  f"the 80 % target {share / TARGET_ROOFLINE:.3f}), array "
                  f"{seq.array_efficiency:.1%} busy, DDR "
                  f"{seq.choice.ddr_bytes_per_image / 1e6:.2f} MB/image, "
                  f"{seq.choice.ddr_gb_s:.2f} of {seq.board.ddr_gb_s:.2f} GB/s; {cpu}"
                  + ("" if not seq.overflows() else f"; does NOT fit: {seq.overflows()}"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hccr_bench_estimate_") as tmp:
        tmp = Path(tmp)
        measured_vs_estimated("demo-size network", random_net(64, (16, 32, 64, 96), 100), 4,
                              tmp / "demo")
        measured_vs_estimated("sqnxt0 16×16", calibrated_ir("sqnxt0", 16, 10), 4,
                              tmp / "sqnxt0")
    plans("sqnxt-ccbam", calibrated_ir("sqnxt-ccbam", 64, 3755))
    shapes = json.loads(PRUNED.read_text())
    plans("sqnxt-ccbam pruned", calibrated_ir("sqnxt-ccbam", 64, 3755, shapes=shapes))


if __name__ == "__main__":
    main()
