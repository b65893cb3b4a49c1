"""`hccr distill`: train a student against a teacher run (and, with --compare, alone)."""

from __future__ import annotations

import copy
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import torch
import typer

from base.errors import HccrError
from flow.console import console, progress_bar, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_dir,
    finite_above,
    finite_at_least,
    new_dir,
    one_of,
)
from model.data.gnt import GntError
from model.distill import DistillConfig, distill
from model.nets import ARCHITECTURES, build
from model.nets.resize import reinitialise
from model.prune.runs import CHECKPOINT, cost, load_data, save_run, top1
from model.prune.tune import Checkpoint, TuneConfig, tune
from model.train import load_trained

Path_ = Annotated[Path, typer.Option(help=".gnt file or folder of .gnt files")]


def _pairs(specs: list[str], which: int) -> tuple[tuple[str, str], ...]:
    """'s_i,s_j:t_i,t_j' → the student (which=0) or teacher (which=1) pairs."""
    out = []
    for spec in specs:
        sides = spec.split(":")
        layers = sides[which].split(",") if len(sides) == 2 else []
        if len(layers) != 2:
            raise HccrError(f"--sp-pair {spec!r}: expected 'student_i,student_j:teacher_i,"
                            "teacher_j' (module names)")
        out.append((layers[0], layers[1]))
    return tuple(out)


@checked(teacher=existing_dir, train_data=existing, test_data=existing, run=new_dir,
         student=existing_dir, student_arch=one_of(*ARCHITECTURES), epochs=at_least(1),
         lr=finite_above(0), batch_size=at_least(1), optimizer=one_of("sgd", "adam"),
         temperature=finite_above(0), alpha=finite_at_least(0), beta=finite_at_least(0),
         sp_weight=finite_at_least(0), seed=at_least(0), device=one_of("cpu", "cuda"))
def distill_cmd(
    teacher: Annotated[Path, typer.Option(help="teacher run folder (trained or pruned)")],
    train_data: Path_,
    test_data: Path_,
    run: Annotated[Path, typer.Option(help="output run folder")],
    student: Annotated[Path | None, typer.Option(
        help="student run folder to start from (e.g. a pruned run)")] = None,
    student_arch: Annotated[str | None, typer.Option(
        help=f"or a fresh student: {', '.join(ARCHITECTURES)}")] = None,
    epochs: int = 5,
    lr: float = 0.01,
    batch_size: int = TuneConfig.batch_size,
    optimizer: Annotated[str, typer.Option(help="sgd or adam")] = "sgd",
    temperature: float = DistillConfig.temperature,
    alpha: Annotated[float, typer.Option(help="weight of the soft (KL) loss")] = 0.7,
    beta: Annotated[float, typer.Option(help="weight of the hard (CE) loss")] = 0.3,
    sp_weight: Annotated[float, typer.Option(help="weight of the SP loss")] = 0.0,
    sp_pair: Annotated[list[str] | None, typer.Option(
        help="SP layer pair 'stage2,stage3:stage2,stage3' (student:teacher), repeat")] = None,
    reinit: Annotated[bool, typer.Option(
        help="start the --student run's pruned architecture from fresh weights")] = False,
    compare: Annotated[bool, typer.Option(
        help="also train the student alone (same start, epochs, seed) and print both")] = False,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    resume: Annotated[bool, typer.Option(
        help="continue after the last epoch RUN/checkpoint.pt holds (saved after every "
             "epoch) with the same options")] = False,
) -> None:
    """Distil a teacher into a student; writes model.pt and metrics.json like hccr train."""
    if (student is None) == (student_arch is None):
        raise HccrError("give exactly one of --student (a run) and --student-arch")
    big, classes, t_config = load_trained(teacher)
    if student is not None:
        small, s_classes, s_config = load_trained(student)
        if list(s_classes) != list(classes) or s_config.size != t_config.size:
            raise HccrError(f"{student}: classes or input size differ from the teacher's")
        if reinit:
            torch.manual_seed(seed)
            reinitialise(small)
    else:
        if reinit:
            raise HccrError("--reinit applies to a --student run (a fresh --student-arch is new)")
        if student_arch not in ARCHITECTURES:
            raise HccrError(f"--student-arch {student_arch!r} unknown")
        torch.manual_seed(seed)
        # a fresh student has its architecture's own options, not the teacher's
        s_config = replace(t_config, arch=student_arch, attention="", head="gwap", bottleneck=0,
                           exit_training="staged", exit_epochs=0)
        small = build(student_arch, len(classes), t_config.size, **s_config.network_options())
    pairs = sp_pair or []
    config = DistillConfig(temperature, alpha, beta, sp_weight, _pairs(pairs, 0),
                           _pairs(pairs, 1))
    tune_config = TuneConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                             seed=seed, device=device)
    settings = {"teacher": str(teacher), "student": str(student or student_arch),
                "reinit": reinit, "distill": asdict(config), "tune": asdict(tune_config)}
    # read once, here: other settings are refused before the data is read
    checkpoint = Checkpoint.open(run / CHECKPOINT, resume, settings)
    train_set = load_data(train_data, t_config.size, classes)
    accuracy = top1(load_data(test_data, t_config.size, classes), device)
    alone = copy.deepcopy(small).to(device) if compare else None
    small.to(device)
    big.to(device)
    run.mkdir(parents=True, exist_ok=True)  # the checkpoint goes there after every epoch
    distill(small, big, train_set, config, tune_config, progress_bar, checkpoint)
    metrics = {"teacher": str(teacher), "teacher_top1": accuracy(big), "top1": accuracy(small),
               **cost(small.cpu(), t_config.size), "epochs": epochs, "reinit": reinit}
    if alone is not None:
        tune(alone, train_set, tune_config, description="student alone", progress=progress_bar)
        metrics["top1_alone"] = accuracy(alone)
    save_run(run, small, s_config, classes, metrics, "",
             {"distill": asdict(config), "tune": asdict(tune_config), "teacher": str(teacher)})
    alone_text = f", alone {metrics['top1_alone']:.4f}" if alone is not None else ""
    console.print(f"teacher top-1 {metrics['teacher_top1']:.4f}; student distilled "
                  f"{metrics['top1']:.4f}{alone_text} ({epochs} epochs, "
                  f"{metrics['params']:,} params) → {run}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `hccr distill`."""
    app.command("distill")(user_errors(GntError)(distill_cmd))
