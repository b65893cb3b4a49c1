"""Print the steps of `tools/seed_chains.sh` beside the seed papers' numbers, as Markdown.

    python tools/seed_chains_report.py [OUT]      (default OUT = runs/seed_chains)

Per step: held-out top-1, nonzero parameters, storage as seed 002 counts it (float32 values, sparse
layers as values + relative index, clustered layers as codebook indices; `hccr compress
size`) and its ratio to the step the chain started from. A step not run yet shows "—". Ours
is the synthetic 500-class benchmark at 48×48; the papers' are CASIA-HWDB / ICDAR-2013 (seed
002, 001 on MiniHWDB's 16 classes, 003 on text lines as CER): compare ratios and differences
between rows, not levels.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from model.prune.codebook import INDEX_BITS, compressed_bytes
from model.train import load_trained

# (step, what it is, the step its size is compared with, the paper's figure)
ROWS = [
    ("s002-cnn9", "seed 002: CNN9Layer", None, "97.30 %, 41.5 MB (Table 4)"),
    ("s002-gslre", "seed 002: + GSLRE 4×", "s002-cnn9", "97.27 %, 31.2 MB (Table 4)"),
    ("s002-direct", "seed 002: the expanded network trained directly", "s002-cnn9",
     "97.10 % (Table 1)"),
    ("s002-adw", "seed 002: + ADW + CRA", "s002-gslre", "26.2 % of the parameters (Table 3)"),
    ("s002-cluster", "seed 002: + k-means clustering (5 bits)", "s002-cnn9",
     "97.09 %, 2.3 MB (Table 4; 7.2 % of the bits, Table 3)"),
    ("s001-teacher", "seed 001: ECA-ResNet56 (teacher)", None, "99.21 %, 25.56 M"),
    ("s001-student", "seed 001: ECA-ResNet18", None, "95.82 %, 11.69 M"),
    ("s001-slim-0.4", "seed 001: ECA-ResNet18 slimmed 0.4", "s001-student", "—"),
    ("s001-slim-0.6", "seed 001: ECA-ResNet18 slimmed 0.6", "s001-student", "—"),
    ("s001-kd-0.4", "seed 001: slimmed 0.4, distilled", "s001-student", "97.53 %, 9.74 M"),
    ("s001-kd-0.6", "seed 001: slimmed 0.6, distilled", "s001-student", "96.99 %, 8.70 M"),
    ("s003-b50", "seed 003: cnn9 with an FC bottleneck of 50", "s002-cnn9",
     "CER 9.01 % (500: 9.17 %; Table III)"),
    ("s003-kd", "seed 003: the same, distilled from cnn9 (KL)", "s002-cnn9",
     "CER 10.44 → 9.79 % (Table V, ParCNN ω 0.5)"),
    ("s003-kd-sp", "seed 003: distilled with KL + SP loss", "s002-cnn9",
     "CER 9.68 % (Table V; SP alone 9.94 %)"),
]


def measure(run: Path) -> dict | None:
    """Top-1, nonzero parameters and storage (MB) of a finished step, or None."""
    path = run / "metrics.json"
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    model = load_trained(run)[0]
    size = metrics.get("size") or compressed_bytes(model, {}, None, INDEX_BITS)
    nonzero = sum(int(p.count_nonzero()) for p in model.parameters())
    return {"top1": metrics["top1"], "params": nonzero, "mb": size["total_mb"]}


def rows(out: Path) -> list[list[str]]:
    """[step, what, top-1 %, nonzero parameters, MB (× of its base), paper] per step."""
    found = {step: measure(out / step) for step, *_ in ROWS}
    table = []
    for step, what, base, paper in ROWS:
        m = found[step]
        if m is None:
            table.append([f"`{step}`", what, "—", "—", "—", paper])
            continue
        ratio = (f" ({found[base]['mb'] / m['mb']:.1f}× smaller than `{base}`)"
                 if base and found[base] else "")
        table.append([f"`{step}`", what, f"{100 * m['top1']:.2f}", f"{m['params']:,}",
                      f"{m['mb']:.2f}{ratio}", paper])
    return table


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "runs/seed_chains")
    print("| step | what | ours top-1 % | nonzero parameters | MB | paper |\n"
          "|---|---|---|---|---|---|")
    for row in rows(out):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
