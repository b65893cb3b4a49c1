"""`hccr compress gslre|cluster|size`: seed 002's steps around `hccr prune --method adw`.

CNN9 → `compress gslre` → `prune --method adw` → `compress cluster`, each step a run folder;
`compress size` reports any run's storage as the paper counts it.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from base.errors import HccrError
from flow.console import console, progress_bar, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_dir,
    finite_above,
    int_within,
    new_dir,
    one_of,
)
from model.data.gnt import GntError
from model.nets.cnn9 import gslre_train
from model.prune.adw import cluster, layers
from model.prune.codebook import INDEX_BITS, compressed_bytes, finetune_clustered
from model.prune.runs import cost, load_data, save_run, stage_table, top1
from model.prune.tune import TuneConfig
from model.train import load_trained

app = typer.Typer(no_args_is_help=True)
Data = Annotated[Path, typer.Option(help=".gnt file or folder of .gnt files")]
Source = Annotated[Path, typer.Option("--from", help="trained (or pruned) run folder")]
Run = Annotated[Path, typer.Option(help="output run folder")]
Device = Annotated[str, typer.Option(help="cpu or cuda")]
MIN_WEIGHTS = 256  # as `hccr prune --method adw`: smaller layers stay dense


def _size_text(size: dict) -> str:
    return (f"{size['total_mb']:.3f} MB (dense float32 {size['dense_model_mb']:.3f} MB, "
            f"{size['dense_model_mb'] / max(size['total_mb'], 1e-12):.1f}x)")


@app.command()
@user_errors(GntError)
@checked(source=existing_dir, train_data=existing, test_data=existing, run=new_dir,
         speedup=finite_above(1), epochs_per_layer=at_least(0), finetune_epochs=at_least(0),
         lr=finite_above(0), batch_size=at_least(1), seed=at_least(0),
         device=one_of("cpu", "cuda"))
def gslre(source: Source, train_data: Data, test_data: Data, run: Run,
          speedup: Annotated[float, typer.Option(help="target speed-up x of Eq. 5")] = 4.0,
          epochs_per_layer: Annotated[int, typer.Option(
              help="epochs after each layer's expansion (it and the earlier ones trained)")] = 1,
          finetune_epochs: Annotated[int, typer.Option(help="whole-network epochs at the end")
                                     ] = 1,
          lr: float = 0.01, batch_size: int = 64, seed: int = 0, device: Device = "cpu") -> None:
    """GSLRE: expand conv2 … conv5_2 of a trained cnn9 run layer by layer (seed 002 §6)."""
    model, classes, config = load_trained(source)
    if config.arch != "cnn9":
        raise HccrError(f"--from {source}: GSLRE decomposes a trained cnn9 run, not --arch "
                        f"{config.arch}")
    model.to(device)
    train_set = load_data(train_data, config.size, classes)
    test_set = load_data(test_data, config.size, classes)
    accuracy = top1(test_set, device)
    before, acc_before = cost(model, config.size), accuracy(model)
    original = load_trained(source)[0]
    history = gslre_train(model, train_set, test_set, config.size, speedup,
                          epochs_per_layer=epochs_per_layer, finetune_epochs=finetune_epochs,
                          lr=lr, batch_size=batch_size, seed=seed, device=device)
    after, acc = cost(model, config.size), accuracy(model)
    model.cpu()
    size = compressed_bytes(model, {}, None, INDEX_BITS)
    metrics = {"step": "gslre", "source": str(source), "top1_before": acc_before, "top1": acc,
               "macs_before": before["macs"], "macs_after": after["macs"],
               "params_before": before["params"], "params_after": after["params"],
               "speedup": speedup, "size": size, "history": history}
    table = stage_table(original, model, config.size)
    save_run(run, model, replace(config, arch="cnn9-gslre"), classes, metrics, table,
             {"speedup": speedup, "epochs_per_layer": epochs_per_layer,
              "finetune_epochs": finetune_epochs, "lr": lr, "batch_size": batch_size,
              "seed": seed, "from": str(source)})
    console.print(f"GSLRE {speedup:g}x: MACs {before['macs']:,} → {after['macs']:,} "
                  f"({before['macs'] / after['macs']:.2f}x); top-1 {acc_before:.4f} → "
                  f"{acc:.4f}; {_size_text(size)} → {run}", highlight=False)


@app.command("cluster")
@user_errors(GntError)
@checked(source=existing_dir, train_data=existing, test_data=existing, run=new_dir,
         bits=int_within(1, 8), index_bits=int_within(1, 16), epochs=at_least(0),
         lr=finite_above(0), batch_size=at_least(1), seed=at_least(0),
         device=one_of("cpu", "cuda"))
def cluster_cmd(source: Source, train_data: Data, test_data: Data, run: Run,
                bits: Annotated[int, typer.Option(help="k-means bits per layer (2^bits "
                                                  "shared weights)")] = 5,
                index_bits: Annotated[int, typer.Option(
                    help="bits of the relative sparse index")] = INDEX_BITS,
                epochs: Annotated[int, typer.Option(help="epochs fine-tuning the centroids "
                                                    "(0: none)")] = 1,
                lr: float = 0.001, batch_size: int = TuneConfig.batch_size, seed: int = 0,
                device: Device = "cpu") -> None:
    """Cluster each layer's nonzero weights by k-means, fine-tune the centroids, report MB."""
    model, classes, config = load_trained(source)
    model.to(device)
    train_set = load_data(train_data, config.size, classes)
    accuracy = top1(load_data(test_data, config.size, classes), device)
    targets = layers(model, MIN_WEIGHTS)
    acc_before = accuracy(model)
    run.mkdir(parents=True, exist_ok=True)
    cluster(targets, bits, run / "codebook.npz")
    acc_clustered = accuracy(model)
    tune_config = TuneConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                             device=device)
    book = dict(np.load(run / "codebook.npz"))
    if epochs:
        centroids = finetune_clustered(model, targets, book, train_set, tune_config,
                                       progress_bar)
        book.update({f"{n}.centroids": c for n, c in centroids.items()})
        np.savez_compressed(run / "codebook.npz", **book)
    acc = accuracy(model)
    model.cpu()
    size = compressed_bytes(model, targets, bits, index_bits)
    metrics = {"step": "cluster", "source": str(source), "top1_before": acc_before,
               "top1_clustered": acc_clustered, "top1": acc, "bits": bits,
               "index_bits": index_bits, "size": size, **cost(model, config.size)}
    save_run(run, model, config, classes, metrics, "",
             {"bits": bits, "index_bits": index_bits, "tune": asdict(tune_config),
              "from": str(source)})
    console.print(f"clustered at {bits} bits: top-1 {acc_before:.4f} → {acc_clustered:.4f} "
                  f"→ {acc:.4f} after {epochs} epochs; {_size_text(size)} → {run}",
                  highlight=False)


@app.command()
@user_errors()
@checked(source=existing_dir, bits=int_within(0, 8), index_bits=int_within(1, 16))
def size(source: Source,
         bits: Annotated[int, typer.Option(help="cluster index bits (0: float32 values)")] = 0,
         index_bits: Annotated[int, typer.Option(help="bits of the relative sparse index")
                               ] = INDEX_BITS) -> None:
    """Storage of a run as seed 002 counts it: sparse layers as values + relative index."""
    model = load_trained(source)[0]
    targets = {n: m for n, m in layers(model, MIN_WEIGHTS).items()
               if bool((m.weight == 0).any())}
    result = compressed_bytes(model, targets, bits or None, index_bits)
    for key, value in result.items():
        typer.echo(f"{key}: {value:,.3f}")
    console.print(f"{len(targets)} sparse layers: {_size_text(result)}", highlight=False)


def register(app_: typer.Typer) -> None:
    """Add `hccr compress`."""
    app_.add_typer(app, name="compress", help="Seed 002: GSLRE, clustering, compressed size.")
