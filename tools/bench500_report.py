"""Print and plot the 500-class benchmark (tools/bench500.sh): Scenario 1 vs Scenario 2.

    .venv/bin/python tools/bench500_report.py [OUT]      (default OUT = runs/bench500)

For each run: the per-epoch curve (from metrics.json, or from checkpoint.pt while it still
trains), the final held-out top-1/top-5 and the training time; writes OUT/<arch>/
training_curve.png and OUT/summary.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from flow.stages.train import CURVE, plot_curve
from model.train import CHECKPOINT, METRICS

ARCHS = ("sqnxt", "sqnxt-ccbam")
TARGET = 0.97


def run_state(run: Path) -> dict | None:
    """The finished metrics, or the history so far of an unfinished run (None: not started)."""
    if (run / METRICS).exists():
        return {**json.loads((run / METRICS).read_text()), "finished": True}
    if (run / CHECKPOINT).exists():
        ckpt = torch.load(run / CHECKPOINT, map_location="cpu", weights_only=False)
        return {"history": ckpt["history"], "epochs": ckpt["config"]["epochs"],
                "finished": False}
    return None


def main(out: Path) -> None:
    summary = {}
    for arch in ARCHS:
        state = run_state(out / arch)
        if state is None:
            print(f"{arch}: not started")
            continue
        plot_curve(state["history"], out / arch / CURVE)
        print(f"{arch}: {'finished' if state['finished'] else 'training'}, "
              f"{len(state['history'])}/{state['epochs']} epochs")
        print("  epoch   loss  train top-1  held-out top-1")
        for h in state["history"]:
            print(f"  {h['epoch']:5d} {h['loss']:6.3f} {h['train_top1']:12.4f} "
                  f"{h['test_top1']:15.4f}")
        if state["finished"]:
            print(f"  final held-out top-1 {state['top1']:.4f}, top-5 {state['top5']:.4f} "
                  f"on {state['images']} images; {state['train_seconds'] / 60:.0f} min")
        summary[arch] = state
    if all(summary.get(a, {}).get("finished") for a in ARCHS):
        s1, s2 = (summary[a]["top1"] for a in ARCHS)
        print(f"Scenario 2 (sqnxt-ccbam) {s2:.4f} vs Scenario 1 (sqnxt) {s1:.4f}: "
              f"{100 * (s2 - s1):+.2f} points; target ≥ {TARGET:.0%} "
              f"{'reached' if s2 >= TARGET else 'not reached'}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/bench500"))
