"""`hccr train` and `hccr eval`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from base.errors import HccrError
from flow.console import console, progress_bar, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_dir,
    finite_above,
    fits_network,
    int_within,
    new_dir,
    one_of,
    within,
)
from model.data.gnt import GntError
from model.nets import ARCHITECTURES
from model.nets.fire import HEADS, THRESHOLD, TRAINING
from model.train import METRICS, TrainConfig, evaluate_run, train_on_files

DataOpt = Annotated[Path, typer.Option(help=".gnt file or folder of .gnt files")]
# Seed 000 Table 2's scenarios 0-2 (Scenario 2 as the table reads: Scenario 0 + C-CBAM).
SCENARIOS = {0: "sqnxt0", 1: "sqnxt", 2: "sqnxt0-ccbam"}


@checked(train_data=existing, test_data=existing, run=new_dir, arch=one_of(*ARCHITECTURES),
         scenario=int_within(0, 2), size=at_least(1), epochs=at_least(1),
         batch_size=at_least(1), optimizer=one_of("sgd", "adam"), lr=finite_above(0),
         label_smoothing=within(0, 1), seed=at_least(0), device=one_of("cpu", "cuda"),
         head=one_of(*HEADS), exit_training=one_of(*TRAINING), exit_epochs=at_least(0),
         bottleneck=at_least(0))
def train_cmd(
    train_data: DataOpt = ...,
    test_data: DataOpt = ...,
    run: Annotated[Path, typer.Option(help="output folder (checkpoints, model.pt, metrics)")] = ...,
    arch: Annotated[str | None, typer.Option(
        help=f"network: {', '.join(ARCHITECTURES)} (default baseline)")] = None,
    scenario: Annotated[int | None, typer.Option(
        help="seed 000 Table 2 scenario instead of --arch: 0 sqnxt0, 1 sqnxt, "
             "2 sqnxt0-ccbam")] = None,
    attention: Annotated[str | None, typer.Option(
        help="sqnxt networks: C-CBAM orders at positions I,II,III, each 1 (CAM first), "
             "2 (parallel), 3 (SAM first) or none; e.g. 1,1,1 for Table 4 row 1")] = None,
    head: Annotated[str, typer.Option(
        help="fire-gwap networks: final pooling gwap, gap or fc (seed 004 Table 2)")
    ] = TrainConfig.head,
    exit_training: Annotated[str, typer.Option(
        help="fire-gwap-cascade: staged (final output, then the exits on the frozen base) "
             "or joint (every exit's loss summed)")] = TrainConfig.exit_training,
    exit_epochs: Annotated[int, typer.Option(
        help="fire-gwap-cascade, staged: epochs training the exits (0: --epochs)")] = 0,
    binarize: Annotated[bool, typer.Option(
        help="binarise each image at its mean grey level before normalising (seed 000)")
    ] = False,
    bottleneck: Annotated[int, typer.Option(
        help="seed 003: FC bottleneck width before the classifier, e.g. 50 (0: none)")] = 0,
    size: Annotated[int, typer.Option(help="input side length after preprocessing")] = 64,
    epochs: int = TrainConfig.epochs,
    batch_size: int = TrainConfig.batch_size,
    optimizer: Annotated[str, typer.Option(help="sgd or adam")] = TrainConfig.optimizer,
    lr: Annotated[float, typer.Option(help="peak learning rate")] = TrainConfig.lr,
    label_smoothing: Annotated[float, typer.Option(
        help="0 for fire-gwap-cascade: smoothing ε caps the softmax near 1 − ε, below the "
             "0.98 exit threshold")] = TrainConfig.label_smoothing,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    resume: Annotated[bool, typer.Option(help="continue from run/checkpoint.pt")] = False,
    skip_bad: Annotated[bool, typer.Option(help="skip corrupt .gnt records")] = False,
) -> None:
    """Train a network; the classes are those present in the training data."""
    if scenario is not None and arch is not None:
        raise HccrError(f"--scenario {scenario} picks the network ({SCENARIOS[scenario]}); "
                        "leave --arch out")
    arch = SCENARIOS[scenario] if scenario is not None else arch or "baseline"
    fits_network(arch, size)
    config = TrainConfig(arch=arch, size=size, epochs=epochs, batch_size=batch_size,
                         optimizer=optimizer, lr=lr, label_smoothing=label_smoothing, seed=seed,
                         device=device, attention=attention or "", head=head,
                         exit_training=exit_training, exit_epochs=exit_epochs,
                         binarize=binarize, bottleneck=bottleneck)
    metrics = train_on_files(config, train_data, test_data, run, resume, skip_bad, progress_bar)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, process 0 reports
        console.print(f"top-1 {metrics['top1']:.4f}  top-5 {metrics['top5']:.4f}  → "
                      f"{run / METRICS}")


@checked(run=existing_dir, data=existing,
         threshold=within(0, 1, open_lo=True, closed_hi=True))
def eval_cmd(
    run: Annotated[Path, typer.Option(help="training run folder (holds model.pt)")],
    data: DataOpt,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
    skip_bad: Annotated[bool, typer.Option(help="skip corrupt .gnt records")] = False,
    threshold: Annotated[float, typer.Option(
        help="early-exit confidence threshold (cascade networks)")] = THRESHOLD,
) -> None:
    """Evaluate a trained run on any .gnt data; classes the model does not know are skipped.
    For an early-exit cascade, also print where images exit and the MACs per character."""
    result = evaluate_run(run, data, skip_bad, threshold)
    if as_json:
        print(json.dumps(result))
        return
    console.print(f"{result['images']} images: top-1 {result['top1']:.4f}, "
                  f"top-5 {result['top5']:.4f}; {result['skipped']} of unknown classes skipped")
    if "cascade" in result:
        console.print(cascade_summary(result["cascade"]), highlight=False)


def cascade_summary(c: dict) -> str:
    """The exit distribution, accuracy and MACs of `cascade_evaluate`'s result, as text."""
    exits = ", ".join(f"{name} {share:.1%}" for name, share in c["exit_fraction"].items())
    alone = ", ".join(f"{name} {top1:.4f}" for name, top1 in c["top1_exits"].items())
    return (f"cascade at threshold {c['threshold']} (Mid-B: {c['mid_b']}): exits {exits}\n"
            f"  top-1 {c['top1']:.4f}, {c['top1_to_end']:.4f} running every image to the end "
            f"({100 * (c['top1'] - c['top1_to_end']):+.2f} points); each exit alone: {alone}\n"
            f"  MACs per character {c['macs_average'] / 1e6:.1f} M average, "
            f"{c['macs_full'] / 1e6:.1f} M always to the end with every exit, "
            f"{c['macs_final_only'] / 1e6:.1f} M final network alone; saving "
            f"{c['macs_saving']:.1%} (vs the final network alone "
            f"{1 - c['macs_average'] / c['macs_final_only']:.1%})")


@checked(bottleneck=at_least(1))
def nets_table(bottleneck: Annotated[int, typer.Option(
        help="FC bottleneck width B for the seed 003 table")] = 50) -> None:
    """Per-stage parameters and MACs of every seed network beside the papers' tables.

    At 3755 classes; also every classifier before and after an FC bottleneck (seed 003).
    """
    from model.nets import tables  # builds every network: only when asked

    tables.main([str(bottleneck)])


def register(app: typer.Typer) -> None:
    """Add the training commands and `hccr nets` to the top-level app."""
    app.command("train")(user_errors(GntError)(train_cmd))
    app.command("eval")(user_errors(GntError)(eval_cmd))
    nets = typer.Typer(no_args_is_help=True, help="The seed networks: parameter tables.")
    nets.command("table")(user_errors()(nets_table))
    app.add_typer(nets, name="nets")
