"""Early exit on the layer-sequential engine's RTL: a trained `fire-gwap-cascade` (100 classes)
from its QAT checkpoint through the IR (v2, exit table) and golden to the free-running RTL
(`sim.seq_freerun`: SV DDR model at the board's latency and rate), xc7z020's PE 16 × SIMD 16
(shift-only when the IR is power-of-two) on PYNQ-Z2's DDR, batch 1.

Per image of the held-out set's first `--images`: (class, exit point) from the RTL's output
record against golden's exit rule, and the logits of every point it reached
(`np.array_equal`); measured cycles per character with early
exit against always-full (the same network without its exit table, measured on 2 images: its
cycles do not depend on the image), the speed-up, MACs per character, images/s at 200 MHz, and
the timing contract's prediction of both. Results go to `build/bench/exit.json`.

The cascade is the one docs/early_exit.md measures (`tools/cascade100.sh`: staged training,
power-of-two QAT into `runs/cascade100/qat`); without it the bench says how to make it and
skips. `python -m bench.bench_exit [--qat Q] [--data D] [--threshold T ...] [--mid-b M]
[--images N]` (default: thresholds 0.98 and 0.5, Mid-B an exit, 100 images).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from base.paths import ROOT
from hw.boards import board
from hw.gen.seq import exits
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import DEFAULT_ARRAY, board_config, shift_only
from hw.gen.seq.cycles import batch_cycles, image_cycles
from hw.gen.seq.records import pack_inputs, unpack_outputs
from model.data.dataset import load_images
from quant import golden
from quant.export import exit_table, export
from quant.quantize import load_qat
from sim.seq_freerun import bit_exact_images, simulate_seq

RUN = ROOT / "runs" / "cascade100"
OUT = ROOT / "build" / "bench" / "exit"
RESULTS = ROOT / "build" / "bench" / "exit.json"
BOARD, FULL_IMAGES = "pynq-z2", 2


def measure(qat: Path, data: Path, threshold: float, mid_b: str, images: int) -> dict:
    """QAT → IR → golden → RTL on the first `images` held-out images (module doc)."""
    qnet, classes, _ = load_qat(qat)
    test, _ = load_images(data, qnet.input_size).restrict(classes)
    base = export(qnet, "cascade")
    model = exit_table(base, threshold, mid_b)
    x = test.images[:images, ..., None]
    tensors = golden.run(model, x)
    want_cls, want_points = golden.exit_decide(model, tensors)
    macs = np.asarray(golden.exit_macs(model))[want_points]
    cfg = board_config(board(BOARD), *DEFAULT_ARRAY, unit_m=shift_only(model))
    program = compile_model(model, cfg, 1)
    run = simulate_seq(program, pack_inputs(program, x), images, OUT / "exits")
    result = run.result
    got_cls, got_points = exits.unpack_results(
        run.outputs, program.header.output_bytes, exits.result_offset(program.instructions),
        images)
    logits = unpack_outputs(program, run.outputs, images)
    written = [all(np.array_equal(logits[t][i], tensors[t][i])
                   for e in model.exits[:want_points[i] + 1] for t in e.logits)
               for i in range(images)]  # the logits of the points an image reached
    full = compile_model(dataclasses.replace(base, exits=()), cfg, 1)
    full_run = simulate_seq(full, pack_inputs(full, x[:FULL_IMAGES]), FULL_IMAGES, OUT / "full")
    full_cycles = full_run.result["cycles"] / FULL_IMAGES
    exit_cycles = result["cycles"] / images
    contract = np.mean([batch_cycles(program.instructions, cfg, [p]) for p in want_points])
    points = len(model.exits)
    return {
        "threshold": threshold, "mid_b": mid_b, "images": images,
        "config": f"PE {cfg.pe} x SIMD {cfg.simd}{' shift-only' if cfg.unit_m else ''}, "
        f"{BOARD} DDR, batch 1", "error_code": result["error_code"],
        "exit_histogram": np.bincount(want_points, minlength=points).tolist(),
        "rtl_exit_histogram": np.bincount(got_points, minlength=points).tolist(),
        "bit_exact": int(np.sum((got_cls == want_cls) & (got_points == want_points))),
        "logits_bit_exact": int(np.sum(written)),
        "top1": float(np.mean(want_cls == test.labels[:images])),
        "cycles_per_char": exit_cycles, "full_cycles_per_char": full_cycles,
        "speedup": full_cycles / exit_cycles,
        "contract_cycles_per_char": float(contract), "contract_full": image_cycles(full),
        "macs_per_char": float(macs.mean()), "full_macs": golden.exit_macs(model)[-1],
        "images_per_s": cfg.clock_mhz * 1e6 / exit_cycles,
        "full_images_per_s": cfg.clock_mhz * 1e6 / full_cycles,
        "full_bit_exact": bit_exact_images(base, full, x[:FULL_IMAGES], full_run.outputs),
        "full_images": FULL_IMAGES, "sim_cycles_per_cpu_s": run.cycles_per_cpu_s,
        "sim_cpu_s": run.cpu_s + full_run.cpu_s,
    }


def report(row: dict) -> str:
    return (f"fire-gwap-cascade 100 classes, threshold {row['threshold']}, Mid-B "
            f"{row['mid_b']}, {row['config']}: {row['bit_exact']}/{row['images']} images "
            f"(class, exit) bit-exact RTL vs golden ({row['logits_bit_exact']} with every "
            f"logit up to the exit), exits {row['exit_histogram']}; "
            f"{row['cycles_per_char']:,.0f} cycles/char with early exit vs "
            f"{row['full_cycles_per_char']:,.0f} always-full = {row['speedup']:.3f}x "
            f"(contract {row['contract_full'] / row['contract_cycles_per_char']:.3f}x); "
            f"{row['macs_per_char'] / 1e6:.1f} M vs {row['full_macs'] / 1e6:.1f} M MACs/char; "
            f"{row['images_per_s']:,.0f} vs {row['full_images_per_s']:,.0f} images/s at 200 MHz; "
            f"always-full logits bit-exact on {row['full_bit_exact']}/{row['full_images']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qat", type=Path, default=RUN / "qat")
    parser.add_argument("--data", type=Path, default=RUN / "data" / "test")
    parser.add_argument("--threshold", type=float, action="append",
                        help="repeatable (default: seed 004's 0.98, and 0.5)")
    parser.add_argument("--mid-b", default="exit")
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args(argv or [])
    if not (args.qat / "qat.pt").exists() or not args.data.exists():
        print(f"skipped: no QAT cascade at {args.qat} or held-out data at {args.data} (make them "
              "with tools/cascade100.sh)")
        return
    for threshold in args.threshold or (0.98, 0.5):
        row = measure(args.qat, args.data, threshold, args.mid_b, args.images)
        print(report(row), flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
        RESULTS.write_text(json.dumps([*rows, row], indent=1))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
