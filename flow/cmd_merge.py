"""`hccr data merge`: CASIA HWDB1.0 + 1.1 (+ the ICDAR-2013 competition set) → train/test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from base.errors import HccrError
from flow.console import console, user_errors
from flow.validate import at_least, checked, existing, new_dir
from model.data.gnt import GntError
from model.data.merge import MergePlan, merge


@user_errors(GntError)
@checked(out=new_dir, test_source=existing, train_per_class=at_least(0),
         test_per_class=at_least(1), seed=at_least(0))
def merge_cmd(
    source: Annotated[list[Path], typer.Option(
        help="a .gnt file or folder (repeat: e.g. HWDB1.0 and HWDB1.1)")],
    out: Annotated[Path, typer.Option(help="output folder: train/, test/, merge.json")],
    test_source: Annotated[Path | None, typer.Option(
        help="the test split as it is (the ICDAR-2013 competition set); without it the test "
             "images are drawn from --source")] = None,
    train_per_class: Annotated[int, typer.Option(
        help="training images drawn per class (0: all that are left)")] = 0,
    test_per_class: Annotated[int, typer.Option(
        help="test images drawn per class from --source (without --test-source)")] = 100,
    seed: int = 0,
) -> None:
    """Merge .gnt folders per class: seed 000's 400/100 draw, or seeds 002/004's all + ICDAR."""
    for s in source:
        if not s.exists():
            raise HccrError(f"--source {s}: no such file or folder")
    if out.exists() and any(out.iterdir()):
        raise HccrError(f"--out {out}: not empty")
    plan = MergePlan(tuple(str(s) for s in source), str(test_source) if test_source else None,
                     train_per_class, test_per_class, seed)
    report = merge(plan, out)
    console.print(f"{report['source_images']} images of {report['classes']} classes in "
                  f"{report['source_files']} files ({report['skipped']} skipped): train "
                  f"{report['train']}, test {report['test']} → {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `hccr data merge`."""
    app.command("merge")(merge_cmd)
