"""`hccr data ...`: synthesize, inspect and preview handwriting data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from base.errors import HccrError
from flow.console import console, lazy_progress, progress, user_errors
from flow.validate import at_least, checked, existing, new_dir, new_file
from model.data.classes import NUM_CLASSES
from model.data.gnt import GntError, gnt_files, iter_gnt
from model.data.preview import write_preview
from model.data.synth import SPLITS, SynthError, SynthPlan, find_cjk_fonts, synthesize

app = typer.Typer(no_args_is_help=True)


@app.command()
@user_errors(GntError, SynthError)
@checked(out=new_dir, per_class=at_least(1), test_per_class=at_least(1), seed=at_least(0),
         workers=at_least(1))
def synth(
    out: Annotated[Path, typer.Option(help="Output folder: <split>/wNNNN.gnt + manifest.json.")],
    classes: Annotated[int, typer.Option(help="Number of classes: the first N of GB2312 level 1."
                                         )] = 100,
    per_class: Annotated[int, typer.Option(help="Writers per split, i.e. samples per class.")
                         ] = 20,
    test_per_class: Annotated[int | None, typer.Option(
        help="Writers of the test split (default: --per-class).")] = None,
    split: Annotated[str, typer.Option(help="train, test or both.")] = "both",
    seed: Annotated[int, typer.Option(help="Master seed; it fixes every output byte.")] = 0,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    fonts: Annotated[bool, typer.Option(
        help="Also render the system's CJK fonts as extra training writers.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in --out.")] = False,
) -> None:
    """Draw synthetic handwriting, one .gnt file per writer; train and test writers differ."""
    if split not in (*SPLITS, "both"):
        raise HccrError(f"--split must be train, test or both, got {split!r}")
    counts = {"train": per_class, "test": per_class if test_per_class is None else test_per_class}
    splits = SPLITS if split == "both" else (split,)
    font_files: tuple[str, ...] = ()
    if fonts:
        font_files = tuple(find_cjk_fonts())
        if not font_files:
            raise HccrError("--fonts: `fc-list :lang=zh file` lists no CJK font; install one "
                            "(e.g. fonts-noto-cjk) or drop --fonts")
    plan = SynthPlan(classes, {s: counts[s] for s in splits}, seed, font_files)
    start = time.perf_counter()
    with lazy_progress("synth", plan.images,
                       f"{len(plan.writer_list())} writers × {classes} classes") as advance:
        synthesize(plan, out, workers, overwrite, advance)
    seconds = time.perf_counter() - start
    console.print(f"{plan.images} images in {seconds:.1f} s = {plan.images / seconds:.0f} "
                  f"images/s → {out}", highlight=False)


@app.command()
@user_errors(GntError, OSError)
@checked(data=existing, out=new_file(".png"), chars=at_least(1), writers=at_least(1))
def preview(
    data: Annotated[Path, typer.Option(help="A .gnt file or a folder of them.")],
    out: Annotated[Path, typer.Option(help="PNG to write.")],
    chars: Annotated[int, typer.Option(help="Rows: classes spread over the first file's.")] = 10,
    writers: Annotated[int, typer.Option(help="Columns: samples of a class, one per file.")] = 8,
    preprocessed: Annotated[bool, typer.Option(
        help="Show the preprocessed 64x64 network input beside each raw sample.")] = True,
) -> None:
    """Write a PNG grid: rows are classes (labelled by class index), columns are writers."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, columns = write_preview(data, out, chars, writers, preprocessed)
    console.print(f"{rows} classes × {columns} writers → {out}", highlight=False)


@app.command()
@user_errors(GntError)
@checked(data=existing)
def info(
    data: Annotated[Path, typer.Option(help="A .gnt file or a folder of them.")],
    skip_bad: Annotated[bool, typer.Option(help="Count corrupt records instead of failing.")
                        ] = False,
) -> None:
    """Count files, records and classes; report image sizes and skipped bad records."""
    files = gnt_files(data)
    skipped = [0]
    per_class = np.zeros(NUM_CLASSES, np.int64)
    heights, widths = [], []
    with progress() as bar:
        task = bar.add_task("read", total=len(files), info="")
        for f in files:
            for s in iter_gnt(f, skip_bad, skipped):
                per_class[s.label] += 1
                heights.append(s.image.shape[0])
                widths.append(s.image.shape[1])
            bar.advance(task)
    present = per_class[per_class > 0]
    typer.echo(f"files: {len(files)}")
    typer.echo(f"records: {len(heights)}")
    typer.echo(f"classes: {len(present)}")
    if len(present):
        typer.echo(f"samples per class: {present.min()}..{present.max()}")
        typer.echo(f"image height: {min(heights)}..{max(heights)} (mean {np.mean(heights):.1f})")
        typer.echo(f"image width: {min(widths)}..{max(widths)} (mean {np.mean(widths):.1f})")
    typer.echo(f"skipped bad records: {skipped[0]}")
