"""`hccr prune --method asfp|slimming|adw`: prune a trained run into a new run directory."""

from __future__ import annotations

import time
from dataclasses import asdict
from functools import partial
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
    finite,
    finite_above,
    finite_at_least,
    int_within,
    new_dir,
    one_of,
    within,
)
from model.data.gnt import GntError
from model.nets.stats import render_table
from model.prune.adw import AdwConfig, adw, cluster, cra, cra_adw, layers, lowered
from model.prune.asfp import AsfpConfig, RoundRow, asfp
from model.prune.codebook import INDEX_BITS, compressed_bytes
from model.prune.runs import (
    cost,
    load_asfp_state,
    load_data,
    save_asfp_state,
    save_run,
    split_validation,
    stage_table,
    top1,
)
from model.prune.slimming import SlimConfig, slim
from model.prune.tune import TuneConfig, tune
from model.train import load_trained

METHODS = ("asfp", "slimming", "adw")
ROUND_HEADERS = ["round", "X %", "z limit", "params", "scope params", "MACs", "top-1 before %",
                 "zeroed %", "fine-tuned %", "accepted"]
Path_ = Annotated[Path, typer.Option(help=".gnt file or folder of .gnt files")]


def round_table(rows: list[RoundRow]) -> str:
    """ASFP's per-round table, shares in %."""
    def pct(v: float | None) -> float | None:
        return None if v is None else 100.0 * v

    return render_table(ROUND_HEADERS, [
        (str(r.round), pct(r.x), r.z_limit, r.params, r.scope_params, r.macs,
         pct(r.acc_before), pct(r.acc_zeroed), pct(r.acc_tuned), r.accepted) for r in rows])


@checked(source=existing_dir, train_data=existing, test_data=existing, val_data=existing,
         run=new_dir,
         method=one_of(*METHODS), epochs=at_least(0), final_epochs=at_least(0),
         lr=finite_above(0), batch_size=at_least(1), optimizer=one_of("sgd", "adam"),
         x=within(0, 1, open_lo=True, closed_hi=True), target=within(0, 1, open_lo=True),
         z_limit=finite, alpha=finite_at_least(0), beta=finite_at_least(0),
         max_rounds=at_least(1), max_drop_zeroed=finite_at_least(0),
         max_drop_tuned=finite_at_least(0), recalibrate=at_least(0),
         val_share=within(0, 1),
         ratio=within(0, 1, open_lo=True), lam=finite_at_least(0), sparsity_epochs=at_least(0),
         channel_multiple=at_least(1), tolerance=finite_at_least(0),
         cra_step=within(0, 1, open_lo=True, closed_hi=True), cluster_bits=int_within(0, 8),
         cra_replay_gb=finite_at_least(0), cra_mode=one_of("adw", "magnitude"),
         cra_batches=at_least(1), conv_ratio_scale=within(0, 1, closed_hi=True),
         seed=at_least(0), device=one_of("cpu", "cuda"))
def prune_cmd(
    source: Annotated[Path, typer.Option("--from", help="trained (or pruned) run folder")],
    train_data: Path_,
    test_data: Path_,
    run: Annotated[Path, typer.Option(help="output run folder")],
    method: Annotated[str, typer.Option(help="asfp, slimming or adw")] = "asfp",
    scope: Annotated[list[str] | None, typer.Option(
        help="top-level module to prune (repeat; default: all), e.g. stage3 = blocks 7-20")] = None,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs (per ASFP round)")] = 2,
    final_epochs: Annotated[int, typer.Option(help="fine-tuning after removal")] = 0,
    lr: float = TuneConfig.lr,
    batch_size: int = TuneConfig.batch_size,
    optimizer: Annotated[str, typer.Option(help="sgd or adam")] = TuneConfig.optimizer,
    x: Annotated[float, typer.Option(help="ASFP: share of each stage zeroed per round")] = 0.1,
    target: Annotated[float, typer.Option(help="ASFP: share of scope params to remove")] = 0.5,
    z_limit: Annotated[float, typer.Option(help="ASFP: z-score criterion")] = 0.5,
    alpha: Annotated[float, typer.Option(help="ASFP: L1 weight in Ipt")] = 1.0,
    beta: Annotated[float, typer.Option(help="ASFP: L2 weight in Ipt")] = 1.0,
    max_rounds: Annotated[int, typer.Option(help="ASFP: most rounds")] = 20,
    max_drop_zeroed: Annotated[float, typer.Option(
        help="ASFP: abandon a round if zeroing costs more top-1 (fraction)")] = 0.010,
    max_drop_tuned: Annotated[float, typer.Option(
        help="ASFP: abandon a round if fine-tuned top-1 is lower by more")] = 0.006,
    recalibrate: Annotated[int, typer.Option(
        help="ASFP: training images that re-estimate BN statistics after zeroing (0: off)")
    ] = AsfpConfig.recalibrate,
    reselect: Annotated[bool, typer.Option(
        help="ASFP: rank the filters again after every fine-tuning epoch, so zeroed ones can "
             "recover (soft pruning); --no-reselect zeroes the same ones")] = AsfpConfig.reselect,
    val_share: Annotated[float, typer.Option(
        help="share of each class's training images held out to accept or reject pruning "
             "steps (0: use --test-data, as before)")] = 0.1,
    val_data: Annotated[Path | None, typer.Option(
        help="images of writers the source run never trained on (e.g. `hccr data synth` "
             "with another seed) to accept or reject pruning steps, instead of --val-share: "
             "a share of the source's own training images flatters it")] = None,
    ratio: Annotated[float, typer.Option(help="slimming: share of channels removed")] = 0.4,
    lam: Annotated[float, typer.Option(help="slimming: L1 penalty λ on BN γ")] = 1e-4,
    sparsity_epochs: Annotated[int, typer.Option(help="slimming: sparsity epochs")] = 2,
    channel_multiple: Annotated[int, typer.Option(
        help="slimming: round each kept width to a multiple of this (e.g. 8 = the PE lanes)")
    ] = 1,
    tolerance: Annotated[float, typer.Option(help="ADW/CRA: tolerated drop per layer")] = 0.001,
    cra_step: Annotated[float, typer.Option(help="ADW/CRA: ratio increment")] = 0.1,
    cluster_bits: Annotated[int, typer.Option(help="ADW: k-means bits (0: none)")] = 0,
    cra_replay_gb: Annotated[float, typer.Option(
        help="ADW/CRA: memory for replaying what runs before the layer under test (0: off)")
    ] = 4.0,
    cra_mode: Annotated[str, typer.Option(
        help="ADW/CRA: adw (each layer trained while pruned, the paper) or magnitude (one shot)")
    ] = AdwConfig.cra,
    cra_batches: Annotated[int, typer.Option(help="ADW/CRA adw: batches per ratio step")
                           ] = AdwConfig.cra_batches,
    conv_ratio_scale: Annotated[float, typer.Option(
        help="ADW: factor on the convolutions' CRA ratios (the paper lowers them; 1: as is)")
    ] = AdwConfig.conv_scale,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    resume: Annotated[bool, typer.Option(
        help="ASFP: continue after the last round RUN/checkpoint.pt holds (saved after every "
             "round) with the same options")] = False,
) -> None:
    """Prune a trained network; writes model.pt, metrics.json, table.txt (and codebook.npz)."""
    if resume and method != "asfp":
        raise HccrError(f"--resume: for --method asfp only (--method {method} has no rounds)")
    if channel_multiple > 1 and method != "slimming":
        raise HccrError(f"--channel-multiple {channel_multiple}: a positive width multiple, "
                        "for --method slimming only")
    model, classes, config = load_trained(source)
    model.to(device)
    train_set = load_data(train_data, config.size, classes, config.binarize)
    test_set = load_data(test_data, config.size, classes, config.binarize)
    held_out = test_set
    if val_data is not None:
        held_out = load_data(val_data, config.size, classes, config.binarize)
    elif val_share:
        train_set, held_out = split_validation(train_set, val_share, seed)
    accuracy, test_top1 = top1(held_out, device), top1(test_set, device)
    tune_config = TuneConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                             seed=seed, device=device)
    scope_t = tuple(scope or ())
    before, acc_before = cost(model, config.size), test_top1(model)
    original = load_trained(source)[0]
    t0 = time.perf_counter()
    extra: dict = {}
    if method == "asfp":
        settings = AsfpConfig(alpha=alpha, beta=beta, x=x, z_limit=z_limit, target=target,
                              scope=scope_t, max_rounds=max_rounds,
                              max_drop_zeroed=max_drop_zeroed, max_drop_tuned=max_drop_tuned,
                              recalibrate=recalibrate, reselect=reselect)
        saved_with = {"from": str(source), "asfp": asdict(settings), "tune": asdict(tune_config),
                      "decisions_on": str(val_data) if val_data is not None else val_share}
        state = load_asfp_state(run, saved_with) if resume else None
        if state is not None:
            console.print(f"resuming {run} after round {len(state.rows)}", highlight=False)
        model, rows = asfp(model, train_set, test_set, config.size, settings, tune_config,
                           accuracy, progress_bar, resume=state,
                           after_round=partial(save_asfp_state, run, saved_with))
        extra["rounds"] = [asdict(r) for r in rows]
        extra["round_table"] = round_table(rows)
        console.print(extra["round_table"], highlight=False)
    elif method == "slimming":
        settings = SlimConfig(ratio=ratio, lam=lam, sparsity_epochs=sparsity_epochs, scope=scope_t,
                              multiple=channel_multiple)
        model, _ = slim(model, train_set, settings, tune_config, progress_bar)
        extra["acc_removed"] = test_top1(model)
        tune(model, train_set, tune_config, description="slimming: fine-tune",
             progress=progress_bar)
    else:
        settings = AdwConfig(tolerance=tolerance, step=cra_step, cra=cra_mode,
                             cra_batches=cra_batches, conv_scale=conv_ratio_scale)
        model.to(memory_format=torch.channels_last)  # CRA's ~500 evaluations: 1.7× faster on CPU
        targets = layers(model, settings.min_weights)
        if cra_mode == "adw":
            ratios = cra_adw(model, targets, train_set, accuracy, settings, tune_config,
                             progress_bar)
        else:
            ratios = cra(model, targets, accuracy, settings.tolerance, settings.step,
                         int(cra_replay_gb * 2**30), progress_bar)
        extra["cra_ratios"] = ratios
        ratios = extra["adw_ratios"] = lowered(ratios, targets, conv_ratio_scale)
        extra["zero_share"] = adw(model, train_set, ratios, settings, tune_config, progress_bar)
        weights = sum(m.weight.numel() for m in targets.values())
        extra["nonzero_weights"] = int(sum(int((m.weight != 0).sum()) for m in targets.values()))
        extra["pruned_weight_share"] = 1 - extra["nonzero_weights"] / max(weights, 1)
        if cluster_bits:
            run.mkdir(parents=True, exist_ok=True)
            cluster(targets, cluster_bits, run / "codebook.npz")
        extra["size"] = compressed_bytes(model, targets, cluster_bits or None, INDEX_BITS)
    if final_epochs:
        tune(model, train_set, TuneConfig(**{**asdict(tune_config), "epochs": final_epochs}),
             description="final fine-tune", progress=progress_bar)
    after, acc_after = cost(model, config.size), test_top1(model)
    metrics = {"method": method, "source": str(source), "params_before": before["params"],
               "params_after": after["params"], "macs_before": before["macs"],
               "macs_after": after["macs"], "top1_before": acc_before, "top1": acc_after,
               "decisions_on": (str(val_data) if val_data is not None
                                else "validation" if val_share else "test"),
               "prune_seconds": round(time.perf_counter() - t0, 1), **extra}
    table = stage_table(original, model.cpu(), config.size)
    if "round_table" in extra:
        table = extra.pop("round_table") + "\n\n" + table
    console.print(table, highlight=False)
    save_run(run, model, config, classes, metrics, table,
             {"method": method, "settings": asdict(settings), "tune": asdict(tune_config),
              "final_epochs": final_epochs, "from": str(source)})
    console.print(f"{method}: params {before['params']:,} → {after['params']:,} "
                  f"({1 - after['params'] / before['params']:.1%} removed), MACs "
                  f"{before['macs']:,} → {after['macs']:,}; top-1 {acc_before:.4f} → "
                  f"{acc_after:.4f} → {run}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `hccr prune`."""
    app.command("prune")(user_errors(GntError)(prune_cmd))
