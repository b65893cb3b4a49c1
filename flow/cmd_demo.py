"""`hccr demo`: the whole flow, end to end, on a small default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flow.console import console, user_errors
from flow.demo import REPORT, run_demo
from flow.stage import DemoConfig
from model.data.gnt import GntError

_D = DemoConfig()


@user_errors(GntError)
def demo_cmd(
    name: Annotated[str, typer.Option(help="run name: artefacts go to RUNS/NAME")] = _D.name,
    runs: Annotated[Path, typer.Option(help="folder holding run directories")] = _D.runs_dir,
    classes: Annotated[int, typer.Option(help="first N GB2312 level-1 classes")] = _D.classes,
    train_writers: int = _D.train_writers,
    test_writers: Annotated[int, typer.Option(help="held-out writers")] = _D.test_writers,
    size: Annotated[int, typer.Option(help="input side length")] = _D.size,
    epochs: int = _D.epochs,
    seed: int = _D.seed,
    workers: Annotated[int | None, typer.Option(help="data workers (default: all cores)")] = None,
) -> None:
    """Synthesize data, train, evaluate, ...: every stage of the flow into runs/NAME/."""
    config = DemoConfig(name=name, runs_dir=runs, classes=classes, train_writers=train_writers,
                        test_writers=test_writers, size=size, epochs=epochs, seed=seed,
                        workers=workers)
    demo = run_demo(config)
    ev = demo.results["eval"]
    console.print(f"[bold green]demo done[/]: held-out top-1 {ev['top1']:.2%} "
                  f"on {ev['images']} images; report: {config.run_dir / REPORT}")


def register(app: typer.Typer) -> None:
    """Add `demo` to the top-level app."""
    app.command("demo")(demo_cmd)
