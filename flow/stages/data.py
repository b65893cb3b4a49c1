"""Demo stage: synthesize the handwriting set (distinct train and held-out test writers)."""

from __future__ import annotations

import time

from flow.console import lazy_progress
from flow.stage import Demo, Stage
from model.data.preview import write_preview
from model.data.synth import SynthPlan, synthesize


def _run(demo: Demo) -> dict:
    cfg = demo.config
    plan = SynthPlan(classes=cfg.classes,
                     writers={"train": cfg.train_writers, "test": cfg.test_writers},
                     seed=cfg.seed)
    out = demo.run_dir / "data"
    t0 = time.perf_counter()
    with lazy_progress("synthesize", plan.images) as advance:
        synthesize(plan, out, workers=cfg.workers, advance=advance)
    seconds = time.perf_counter() - t0
    write_preview(out / "test", out / "preview.png", chars=10, writers=8)
    return {"dir": str(out), "train_dir": str(out / "train"), "test_dir": str(out / "test"),
            "images": plan.images, "seconds": round(seconds, 1),
            "images_per_second": round(plan.images / seconds, 1)}


def _report(demo: Demo) -> str:
    r = demo.results["data"]
    cfg = demo.config
    return (f"## Data\n\nSynthetic handwriting from stroke medians (`hccr data synth`): "
            f"{cfg.classes} classes × ({cfg.train_writers} training + {cfg.test_writers} "
            f"held-out) writers = {r['images']} images in `.gnt` files under `data/`, "
            f"{r['images_per_second']} images/s.\n\nHeld-out writers (columns) for ten classes "
            "(rows), raw and preprocessed:\n\n![samples](data/preview.png)\n")


STAGE = Stage("data", _run, _report)
