"""`hccr demo`: the whole flow on a small default, as a list of stages.

A stage (`flow.stage.Stage`) is a name, a `run(demo) -> results` function and a
`report(demo) -> markdown` function. Each later part of the flow (quantize, export, golden, hls,
rtl, seq, report) adds one module under `flow/stages/` and one entry to `stages()`; the run
directory, timings, manifest and report.md come for free.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from base.rundir import write_manifest
from flow.console import console
from flow.stage import Demo, DemoConfig, Stage
from flow.stages import data, hls, quant, report, rtl, seq, train

RESULTS = "results.json"
REPORT = "report.md"


def stages() -> list[Stage]:
    """The demo's stages, in order."""
    return [data.STAGE, train.STAGE, train.EVAL_STAGE, quant.QUANTIZE_STAGE, quant.EXPORT_STAGE,
            quant.GOLDEN_STAGE, hls.STAGE, rtl.STAGE, seq.STAGE, report.STAGE]


def run_demo(config: DemoConfig) -> Demo:
    """Run every stage into a fresh `runs/<name>/`, then write report.md and manifest.json."""
    if config.run_dir.exists():
        shutil.rmtree(config.run_dir)
    config.run_dir.mkdir(parents=True)
    demo = Demo(config)
    timings = []
    for stage in stages():
        console.rule(f"[bold]{stage.name}")
        t0 = time.perf_counter()
        demo.results[stage.name] = stage.run(demo)
        timings.append({"stage": stage.name, "seconds": round(time.perf_counter() - t0, 1)})
        (config.run_dir / RESULTS).write_text(json.dumps(demo.results, indent=2))
    write_report(demo, timings)
    write_manifest(config.run_dir, _jsonable(asdict(config)), timings)
    return demo


def write_report(demo: Demo, timings: list[dict]) -> Path:
    """report.md: the configuration, one section per stage, and the time each stage took."""
    cfg = demo.config
    lines = [f"# hccr-fpga demo report: `{cfg.name}`", "",
             f"{cfg.classes} classes, {cfg.train_writers} training writers, "
             f"{cfg.test_writers} held-out test writers, {cfg.size}×{cfg.size} input, "
             f"seed {cfg.seed}.", ""]
    for stage in stages():
        section = stage.report(demo).rstrip()
        lines += [section, ""] if section else []
    lines += ["## Timings", "", "| stage | seconds |", "|---|---:|"]
    lines += [f"| {t['stage']} | {t['seconds']} |" for t in timings]
    path = demo.run_dir / REPORT
    path.write_text("\n".join(lines) + "\n")
    return path


def _jsonable(d: dict) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}
