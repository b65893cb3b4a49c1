"""The layer-sequential engine's programs on the full-size seed networks (3755 classes).

For each network: the compiled program on the NumPy program model against golden on every
tensor (images bit-exact), the timing contract's cycles per image (`hw/gen/seq/cycles.py`)
at the batch chosen for the board's DDR (and how many instructions of a split program run
image by image), images/s at 200 MHz and against the 2,000 images/s target, DDR bytes per image and
bandwidth, and the share of xc7z020's DSP roofline (220 DSP × 2 int8 MACs per cycle). The
engine configuration is PE 6 × SIMD 64 (192 DSPs in the packed MAC array; with the
requantiser lanes and vector unit the engine counts ~414 DSP and ~177 RAMB36, more than xc7z020
has: docs/measurements.md), with the activation buffer `board_config` gives (90 % of the block RAM
less two 64 KiB weight tiles).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from base.errors import HccrError
from bench.bench_hls import calibrated_ir
from hw.boards import board
from hw.estimate.network import op_macs
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.check import check_program
from hw.gen.seq.config import board_config

PRUNED = Path(__file__).parent / "data" / "sqnxt_ccbam_slim_x8_shapes.json"
NETWORKS = [("sqnxt-ccbam pruned", "sqnxt-ccbam", 64, True), ("sqnxt-ccbam", "sqnxt-ccbam", 64,
                                                              False),
            ("cnn9", "cnn9", 96, False), ("fire-gwap-cascade", "fire-gwap-cascade", 64, False),
            ("eca-resnet18", "eca-resnet18", 64, False)]
IMAGES = 5  # two batches at batch 4 (the last one short)
DSP = 220
TARGET = 2000  # images/s the plan asks of the pruned network


def main() -> None:
    shapes = json.loads(PRUNED.read_text())
    for label, arch, size, pruned in NETWORKS:
        model = calibrated_ir(arch, size, 3755, shapes=shapes if pruned else None)
        macs = sum(op_macs(op, model) for op in model.ops)
        roofline = DSP * 2 * 200e6 / macs
        for name in ("pynq-z2", "zedboard"):
            b = board(name)
            cfg = board_config(b, 6, 64)
            try:
                choice = choose_batch(model, cfg)
            except HccrError as exc:
                print(f"seq {label} on {name}: does not compile: {exc}")
                continue
            x = np.random.default_rng(0).integers(
                0, 256, (IMAGES, *model.tensors[model.inputs[0]].shape)).astype(np.uint8)
            start = time.perf_counter()
            result = check_program(model, choice.program, x)
            seconds = time.perf_counter() - start
            program = choice.program
            head = sum(ins["once"] for ins in program.instructions) // program.header.batch
            print(f"seq {label} ({macs / 1e6:.1f} M MACs) on {name}: program model "
                  f"{result.bit_exact}/{IMAGES} images bit-exact on {len(result.layers)} "
                  f"tensors ({seconds / IMAGES:.2f} s/image with golden); batch "
                  f"{program.header.batch} ({head} of "
                  f"{len(program.instructions) - head * (program.header.batch - 1)} "
                  f"instructions image by image), {choice.cycles_per_image:,.0f} cycles/image "
                  f"= {choice.images_per_s:,.0f} images/s at 200 MHz "
                  f"({choice.images_per_s / TARGET:.0%} of the {TARGET:,} target), "
                  f"{choice.images_per_s / roofline:.1%} of the {roofline:,.0f} images/s DSP "
                  f"roofline; DDR {choice.ddr_bytes_per_image / 1e6:.2f} MB/image, "
                  f"{choice.ddr_gb_s:.2f} of {b.ddr_gb_s:.2f} GB/s")


if __name__ == "__main__":
    main()
