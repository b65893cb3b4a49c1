"""Print the rows of `tools/seed_tables.sh` beside the seed papers' numbers, as Markdown.

    python tools/seed_tables_report.py [OUT]      (default OUT = runs/seed_tables)

A row not run yet shows "—". Our top-1 is on the synthetic 500-class benchmark's held-out
writers; the papers' on CASIA-HWDB / ICDAR-2013 with 3755 classes: compare the differences
between rows, not the levels.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from model.nets.fire import TABLE2, TABLE3
from model.nets.sqnxt import TABLE4_ACCURACY

# Seed 000 Table 2 top-1 (%) of Scenarios 0-3.
SEED000_TABLE2 = {0: 95.65, 1: 96.48, 2: 96.69, 3: 96.40}


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def rows(out: Path) -> list[tuple[str, str, str]]:
    """(row, ours, paper) for every experiment row."""
    def top1(run: str) -> float | None:
        metrics = _read(out / run / "metrics.json")
        return None if metrics is None else metrics["top1"]

    table = [(f"seed 000 Table 2 Scenario {n}", _pct(top1(f"s000-t2-{n}")), f"{acc:.2f}")
             for n, acc in SEED000_TABLE2.items()]
    table += [(f"seed 000 Table 4 row {n}", _pct(top1("s000-t2-0" if n == 0 else
                                                      "s000-t2-2" if n == 5 else f"s000-t4-{n}")),
               f"{acc:.2f}") for n, acc in TABLE4_ACCURACY.items()]
    table += [(f"seed 004 Table 2 {head.upper()}", _pct(top1(f"s004-t2-{head}")), f"{acc:.2f}")
              for head, (acc, _) in TABLE2.items()]
    table.append(("seed 004 Table 2 FC, Adam lr 0.0005", _pct(top1("s004-t2-fc-slow")),
                  f"{TABLE2['fc'][0]:.2f}"))
    table.append(("seed 004 Table 2 FC, SGD lr 0.025", _pct(top1("s004-t2-fc-sgd")),
                  f"{TABLE2['fc'][0]:.2f}"))
    for strategy, paper in TABLE3.items():
        result = _read(out / f"s004-t3-{strategy}" / "eval.json")
        cascade = (result or {}).get("cascade")
        ours = ("—" if cascade is None else
                " / ".join(_pct(v) for v in cascade["top1_exits"].values()) +
                "; exits at 0.98: " + " / ".join(f"{100 * v:.0f} %" for v in
                                                  cascade["exit_fraction"].values()))
        table.append((f"seed 004 Table 3 {strategy} (Mid-A / Mid-B / final)", ours,
                      " / ".join(f"{v:.2f}" for v in paper)))
    return table


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "runs/seed_tables")
    print("| row | ours top-1 % | paper top-1 % |\n|---|---|---|")
    for row in rows(out):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
