"""`hccr demo`: the whole flow, end to end, on a small default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from base.errors import HccrError
from base.rundir import MANIFEST
from flow.console import console, user_errors
from flow.demo import REPORT, RESULTS, run_demo
from flow.stage import DemoConfig
from flow.validate import at_least, checked, fits_network, int_within, new_dir, plain_name
from model.data.classes import NUM_CLASSES
from model.data.gnt import GntError
from model.train import TrainConfig

_D = DemoConfig()


@user_errors(GntError)
@checked(name=plain_name, runs=new_dir, classes=int_within(1, NUM_CLASSES),
         train_writers=at_least(1), test_writers=at_least(1), size=at_least(1),
         epochs=at_least(1), seed=at_least(0), workers=at_least(1))
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
    overwrite: Annotated[bool, typer.Option(
        help="replace RUNS/NAME even if it is not an earlier demo run")] = False,
) -> None:
    """Synthesize data, train, evaluate, ...: every stage of the flow into runs/NAME/."""
    fits_network(TrainConfig.arch, size)
    run_dir = runs / name
    if (run_dir.is_dir() and any(run_dir.iterdir()) and not overwrite
            and not any((run_dir / f).is_file() for f in (RESULTS, MANIFEST))):
        raise HccrError(f"{run_dir}: exists and is not a demo run (no {RESULTS}); choose "
                        "another --name or replace it (--overwrite)")
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
