"""The dataflow estimate of a whole network against Yosys `synth_xilinx -family xc7` of the
whole generated top: the demo-size network (64×64 input, conv 16/32/64/96 + pools, dense 100;
random weights) folded as the xc7z020 plan (`hw.estimate.plan.optimise`, what `hccr rtl
--device xc7z020` and the demo generate) and as `balanced_folding` (what the demo simulated
before). Prints estimate / Yosys per resource (DSP and BRAM36 should be 1.000; LUT and FF
within the calibration's ±15 %) and Yosys's logic depth (`ltp`). Each synthesis takes several
minutes. (The balanced folding's BRAM36 was once estimated at 198.5 against Yosys's 102: a
re-folded engine's parameter ROM had lost its image, so the constant bit columns Yosys drops
were counted; `fold_spec` now keeps the generator's image.)
"""

from __future__ import annotations

import tempfile
import time

from bench.bench_rtl import random_net
from hw.devices import device
from hw.estimate import calibration
from hw.estimate.network import estimate
from hw.estimate.plan import optimise, planned_folding
from hw.gen.engines import Folding
from hw.gen.folding import balanced_folding
from hw.gen.network import generate
from hw.synth import SynthResult, synth_xilinx
from quant import ir

DEVICE = "xc7z020"


def bram36(result: SynthResult) -> float:
    """RAMB36E1 + RAMB18E1 / 2 of a synthesis run."""
    return result.cells.get("RAMB36E1", 0) + result.cells.get("RAMB18E1", 0) / 2


def compare(model: ir.Model, folding: dict[str, Folding], label: str) -> None:
    """Synthesise `model` folded as `folding` and print estimate vs Yosys per resource."""
    est = estimate(model, device(DEVICE), folding, calibration.load()).total
    with tempfile.TemporaryDirectory() as tmp:
        net = generate(model, tmp, folding)
        t0 = time.perf_counter()
        got = synth_xilinx(net.top, [*net.modules, net.top_file], {}, tmp, ltp=True)
        seconds = time.perf_counter() - t0
    ff = sum(n for c, n in got.cells.items() if c.startswith("FD"))
    rows = [("DSP", est.dsp, got.dsps), ("BRAM36", est.bram36, bram36(got)),
            ("LUT", est.lut, got.luts), ("FF", est.ff, ff)]
    print(f"whole network, {label} ({len(net.engines)} engines, Yosys {seconds:.0f} s, longest "
          f"register-to-register path {got.ltp} cells): "
          + "; ".join(f"{name} estimate {e:,.1f} / Yosys {y:,.1f} = {e / y:.3f}" if y else
                      f"{name} estimate {e:,.1f} / Yosys 0" for name, e, y in rows))


def main() -> None:
    model = random_net(64, (16, 32, 64, 96), 100)
    plan = optimise(model, device(DEVICE), calibration.load())
    compare(model, planned_folding(plan), f"{DEVICE} plan")
    compare(model, balanced_folding(model), "balanced folding")


if __name__ == "__main__":
    main()
