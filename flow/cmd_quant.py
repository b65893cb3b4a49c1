"""`hccr quantize`, `hccr export` and `hccr golden`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from base.errors import HccrError
from flow.console import console, progress, progress_bar, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_dir,
    existing_file,
    finite_above,
    input_array,
    new_dir,
    new_file,
    plain_name,
)
from model.data.dataset import load_images
from model.data.gnt import GntError
from model.nets.fire import THRESHOLD
from quant import golden, ir
from quant.export import check_mid_b, exit_table, exit_threshold, export, read_labels, write_ir
from quant.quantize import QuantConfig, load_qat, parse_weight_bits, quantize

_Q = QuantConfig()


@checked(run=existing_dir, train_data=existing, test_data=existing, out=new_dir,
         epochs=at_least(1), lr=finite_above(0), seed=at_least(0))
def quantize_cmd(
    run: Annotated[Path, typer.Option(help="float training run (holds model.pt)")],
    train_data: Annotated[Path, typer.Option(help=".gnt file/folder for fine-tuning")],
    test_data: Annotated[Path, typer.Option(help=".gnt file/folder for held-out accuracy")],
    out: Annotated[Path, typer.Option(help="output folder for qat.pt and qat_metrics.json")],
    pot: Annotated[bool, typer.Option(help="power-of-two scales (M = 1 everywhere)")] = False,
    weight_bits: Annotated[list[str] | None, typer.Option(
        help="per-layer weight width LAYER=BITS (2..8), e.g. fc=4; repeatable")] = None,
    epochs: int = _Q.epochs,
    lr: float = _Q.lr,
    seed: int = 0,
) -> None:
    """Fold BN and fine-tune a trained float network with int8 fake quantisation (QAT)."""
    config = QuantConfig(pot=pot, weight_bits=parse_weight_bits(weight_bits or []),
                         epochs=epochs, lr=lr, seed=seed)
    quantize(run, train_data, test_data, out, config, progress_bar)


@checked(qat=existing_dir, out=new_dir, name=plain_name)
def export_cmd(
    qat: Annotated[Path, typer.Option(help="folder holding qat.pt (from hccr quantize)")],
    out: Annotated[Path, typer.Option(help="IR folder to write (model.json, weights.npz)")],
    name: Annotated[str | None, typer.Option(help="model name (default: folder name)")] = None,
    exit_at: Annotated[float, typer.Option(
        "--exit-threshold", help="early-exit cascade: an image leaves at a tested exit whose "
                                 "top softmax probability is ≥ this")] = THRESHOLD,
    mid_b: Annotated[str, typer.Option(
        help="early-exit cascade: average (the last point averages the Mid-B and final "
             "probabilities) or exit (Mid-B is a second tested exit)")] = "average",
    overwrite: Annotated[bool, typer.Option(
        help="replace --out even if it holds files hccr export did not write")] = False,
) -> None:
    """Lower a QAT network to the integer IR: v1, or v2 with an exit table (docs/early_exit.md)
    when it has several outputs (an early-exit cascade)."""
    exit_threshold(exit_at)  # bad exit options fail before the network loads
    check_mid_b(mid_b)
    qnet, classes, _ = load_qat(qat)
    model = export(qnet, name or out.name)
    if len(model.outputs) > 1:
        model = exit_table(model, exit_at, mid_b)
    write_ir(model, classes, out, overwrite)
    exits = f", exits {' → '.join(e.name for e in model.exits)}" if model.exits else ""
    console.print(f"{len(model.ops)} ops{exits} → {out}/model.json, weights.npz")


@checked(out=new_file(".npz"), data=existing, inputs=existing_file, limit=at_least(1))
def golden_cmd(
    ir_dir: Annotated[Path, typer.Option("--ir", help="IR folder")],
    out: Annotated[Path, typer.Option(help="output .npz: every tensor, [N, H, W, C]")],
    data: Annotated[Path | None, typer.Option(help=".gnt file or folder")] = None,
    inputs: Annotated[Path | None, typer.Option(help=".npy of [N, H, W, C] integers")] = None,
    limit: Annotated[int | None, typer.Option(help="first N images only")] = None,
    skip_bad: Annotated[bool, typer.Option(help="skip corrupt .gnt records")] = False,
    outputs_only: Annotated[bool, typer.Option(
        help="write only the network's outputs (memory and file bounded for large sets)")] = False,
) -> None:
    """Run the bit-exact integer golden model and write every layer's output."""
    if (data is None) == (inputs is None):
        raise HccrError("give exactly one of --data FILE.gnt or --inputs X.npy")
    model = ir.load(ir_dir)
    spec = model.tensors[model.inputs[0]]
    classes = read_labels(ir_dir, int(np.prod(model.tensors[model.outputs[0]].shape)))
    labels = None
    if data is not None:
        images = load_images(data, spec.shape[0], skip_bad)
        x, labels = images.images[..., None], images.labels
    else:
        x = input_array(inputs, spec.shape, spec.dtype, spec.lo, spec.hi)
    if limit is not None:
        x = x[:limit]
        labels = None if labels is None else labels[:limit]
    with progress() as bar:
        task = bar.add_task("golden", total=len(x), info="")
        tensors = golden.run_chunked(model, x, advance=lambda n: bar.advance(task, n),
                                     keep=model.outputs if outputs_only else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial.npz")
    try:
        np.savez_compressed(tmp, **tensors)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    console.print(f"{len(x)} images, {len(tensors)} tensors → {out}")
    if labels is not None and classes is not None:
        logits = tensors[model.outputs[0]].reshape(len(x), -1)
        known = np.isin(labels, classes)
        predicted = classes[logits.argmax(1)]
        console.print(f"int8 golden top-1 {np.mean(predicted[known] == labels[known]):.4f} on "
                      f"{int(known.sum())} images of known classes")


def register(app: typer.Typer) -> None:
    """Add the quantization commands to the top-level app."""
    errors = user_errors(GntError, ir.IRError, ValueError, OverflowError, OSError)
    app.command("quantize")(errors(quantize_cmd))
    app.command("export")(errors(export_cmd))
    app.command("golden")(errors(golden_cmd))
