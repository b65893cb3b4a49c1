"""Ship a finished tools/seeds3755.sh network into `models/`: its float checkpoint (`run/`:
model.pt, metrics.json), its int8 IR (`ir/`) and a model card (`README.md`) with the held-out
top-1 (float and the int8 golden model), parameters, int8 bytes, MACs and the commands that
made and use it. Refuses a run whose int8 golden scores are missing.

    python tools/seeds3755_ship.py OUT RUN DEST
    (e.g. runs/seeds3755 slim_x8 models/sqnxt-ccbam-3755)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from seeds3755_report import RUNS, row

from quant.export import IR_FILES

# How tools/seeds3755.sh made each run (after `float`); the knobs come from OUT/knobs.
MADE_BY = {
    "slim_x8": "BN slimming of `float`: 60 % of the channels removed, every kept width a "
               "multiple of 8 (the engine's PE lanes), one sparsity and one fine-tune epoch",
    "asfp": "ASFP (seed 000's soft filter pruning) on stage 3 of `float`, one fine-tune epoch "
            "per round, rounds accepted on validation writers of another seed",
    "float": "no pruning",
}


def checks(run: Path) -> str:
    """The bit-exact checks the run's steps left (hls4ml C-sim log, RTL result.json)."""
    lines = []
    hls = run.parent / f"{run.name}-hls.log"
    if (run.parent / "done" / f"{run.name}-hls").exists() and hls.exists():
        lines.append(f"hls4ml C-simulation: {hls.read_text().strip().splitlines()[-1]}")
    rtl = run / "rtl" / "result.json"
    if rtl.exists():
        r = json.loads(rtl.read_text())
        lines.append(f"layer-sequential RTL (free-running, board DDR model): {r['bit_exact']}/"
                     f"{r['images']} held-out images bit-exact, {r['cycles_per_image']:,.0f} "
                     f"cycles/image ({r['cycles_per_image'] / r['contract_per_image']:.3f} × "
                     "its timing contract)")
    return "".join(f"- {line}\n" for line in lines) + ("\n" if lines else "")


def card(out: Path, run: str, dest: Path) -> str:
    """The model card's Markdown."""
    label, float_top1, int8_top1, drop, params, mb, mmacs = row(out, run, dict(RUNS)[run])
    knobs = dict(k.split("=") for k in (out / "knobs").read_text().split())
    train, test = int(knobs["WRITERS"]), int(knobs["TEST_WRITERS"])
    classes, size = int(knobs["CLASSES"]), int(knobs["SIZE"])
    data = f"data{classes}"
    scales = ("power-of-two scales" if size & (size - 1) == 0 else
              "general scales (15-bit multipliers: C-CBAM's average pools are not over a "
              "power-of-two area at this size)")
    return f"""# `sqnxt-ccbam`, {classes} classes, {label}, int8

Seed 000's Scenario 2 network (SqueezeNext + C-CBAM) for the {classes} GB2312 level-1
classes at {size}×{size}, {MADE_BY[run]}; then int8 QAT with {scales} and export to the
integer IR.

| | |
|---|---|
| held-out top-1, float (`run/`) | {float_top1:.2f} % |
| held-out top-1, int8 (golden model on `ir/`) | {int8_top1:.2f} % |
| drop from int8 | {drop:.2f} points |
| parameters (weights and biases) | {params:,} |
| int8 weights + int32 biases | {mb:.2f} MB |
| MACs per character | {mmacs:.1f} M |

{checks(out / run)}**Data.** Synthetic handwriting from `hccr data synth` (seed 3755), not
CASIA-HWDB: {train} training writers per class ({train * classes:,} images) and {test}
held-out writers ({test * classes:,} images) never seen in training. The accuracies are on
those held-out writers; on real handwriting expect less.

**Made by** `tools/seeds3755.sh` with `{(out / "knobs").read_text().strip()}` (its
`float`, `{run}`, `{run}-qat` and `{run}-export` steps hold the exact commands;
docs/seeds3755.md), shipped by `tools/seeds3755_ship.py`.

**Use** (the held-out writers regenerate bit for bit in about 20 s):

```
hccr data synth --out {data} --classes {classes} --split test --test-per-class {test} --seed 3755
hccr eval --run {dest}/run --data {data}/test
hccr golden --ir {dest}/ir --data {data}/test --outputs-only --out {data}/golden.npz
hccr hls --ir {dest}/ir --out hls{classes} --csim --images 20 --data {data}/test
hccr rtl --ir {dest}/ir --out rtl{classes} --mode sequential --device xc7z020
hccr sim --rtl rtl{classes} --data {data}/test --images 20
```
"""


def ship(out: Path, run: str, dest: Path) -> None:
    """Copy the run's checkpoint and IR into `dest` and write its card."""
    source = out / run
    if not (source / "golden.npz").exists():
        sys.exit(f"error: {source}: no golden.npz yet (finish the run's -golden step first)")
    text = card(out, run, dest)
    (dest / "run").mkdir(parents=True, exist_ok=True)
    for name in ("model.pt", "metrics.json"):
        shutil.copy2(source / name, dest / "run" / name)
    (dest / "ir").mkdir(exist_ok=True)
    for name in sorted(IR_FILES):
        shutil.copy2(source / "ir" / name, dest / "ir" / name)
    (dest / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ship(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
