"""The table of tools/seeds3755.sh, laid out like seed 000's Table 6: per model (unpruned,
ASFP-pruned on stage 3, slimmed ×8) float and int8 top-1, the drop, parameters (weights and
biases), their bytes in the IR (int8 weights, int32 biases) and MACs per character, from the
run folders, the exported IRs and the golden model's held-out outputs; seed 000's own row
beside them, then the slimmed network's bit-exact checks (hls4ml C-sim, layer-sequential RTL).

    python tools/seeds3755_report.py [runs/seeds3755]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from hw.estimate.network import op_macs
from model.data.dataset import load_images
from model.nets.stats import render_table
from quant import ir
from quant.export import read_labels

RUNS = [("float", "unpruned"), ("asfp", "ASFP (stage 3)"),
        ("slim_x8", "slimming 0.6, widths × 8")]
# Seed 000 (SqueezeNext + C-CBAM, CASIA-HWDB1.1 + ICDAR-2013), its Table 6: pruned + int8.
SEED_ROW = ("seed 000 (paper): pruned 50.79 % + int8", None, 97.36, None, None, 1.06, None)


def golden_top1(run: Path, test: Path) -> float | None:
    """Top-1 of the int8 golden model's saved outputs against the held-out labels."""
    if not (run / "golden.npz").exists():
        return None
    model = ir.load(run / "ir")
    logits = np.load(run / "golden.npz")[model.outputs[0]]
    classes = read_labels(run / "ir", logits[0].size)
    labels = load_images(test, model.tensors[model.inputs[0]].shape[0]).labels
    return float(np.mean(classes[logits.reshape(len(logits), -1).argmax(1)] == labels))


def row(out: Path, name: str, label: str) -> tuple | None:
    """One table row, or None while the run has not reached its float metrics."""
    run = out / name
    if not (run / "metrics.json").exists():
        return None
    top1 = json.loads((run / "metrics.json").read_text())["top1"]
    int8 = golden_top1(run, out / "data" / "test")
    if not (run / "ir" / "model.json").exists():
        return (label, 100 * top1, None, None, None, None, None)
    model = ir.load(run / "ir")
    with np.load(run / "ir" / "weights.npz") as arrays:
        learned = [arrays[k] for k in arrays.files if k.endswith((".weight", ".bias"))]
    macs = sum(op_macs(op, model) for op in model.ops)
    weights, size = sum(a.size for a in learned), sum(a.nbytes for a in learned)
    return (label, 100 * top1, None if int8 is None else 100 * int8,
            None if int8 is None else 100 * (top1 - int8), weights, size / 2**20, macs / 1e6)


def main(out: Path) -> None:
    """Print the table (rows for the steps that have finished)."""
    rows = [r for name, label in RUNS if (r := row(out, name, label)) is not None]
    print(render_table(["model", "float top-1 %", "int8 top-1 %", "drop (points)",
                        "parameters", "int8 MB", "M MACs/char"], [*rows, SEED_ROW]))
    hls = out / "done" / "slim_x8-hls"
    rtl = out / "slim_x8" / "rtl" / "result.json"
    if hls.exists():
        print("\nslimmed int8: hls4ml C-sim bit-exact against golden (log: slim_x8-hls.log)")
    if rtl.exists():
        r = json.loads(rtl.read_text())
        print(f"slimmed int8: layer-sequential RTL {r['bit_exact']}/{r['images']} held-out "
              f"images bit-exact, {r['cycles_per_image']:,.0f} cycles/image "
              f"({r['cycles_per_image'] / r['contract_per_image']:.3f} × contract)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/seeds3755"))
