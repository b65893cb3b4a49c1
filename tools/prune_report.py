"""Summarise the run folders of tools/prune500.sh: params, MACs and top-1 per method.

    python tools/prune_report.py runs/bench500/prune
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from model.nets.stats import render_table


def main(folder: Path) -> None:
    """Print one row per run folder (metrics.json) and the ASFP / distillation details."""
    rows = []
    for path in sorted(folder.glob("*/metrics.json")):
        m = json.loads(path.read_text())
        if "method" in m:
            removed = 1 - m["params_after"] / m["params_before"]
            weights = m.get("pruned_weight_share")
            rows.append((path.parent.name, m["params_before"], m["params_after"],
                         100 * removed, 100 * weights if weights is not None else None,
                         m["macs_before"], m["macs_after"], 100 * m["top1_before"],
                         100 * m["top1"], 100 * (m["top1"] - m["top1_before"])))
        elif "teacher_top1" in m:
            print(f"{path.parent.name}: teacher {100 * m['teacher_top1']:.2f} %, student "
                  f"distilled {100 * m['top1']:.2f} %, alone "
                  f"{100 * m.get('top1_alone', float('nan')):.2f} % ({m['epochs']} epochs"
                  f"{', from fresh weights' if m.get('reinit') else ''}, {m['params']:,} params)")
    print(render_table(["run", "params", "after", "removed %", "zero weights %", "MACs",
                        "after", "top-1 %", "after %", "Δ points"], rows))
    table = folder / "asfp" / "table.txt"
    if table.exists():
        print(f"\nASFP rounds and per-stage parameters ({table}):\n{table.read_text()}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/bench500/prune"))
