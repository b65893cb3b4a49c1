"""Demo stages: train the baseline on the synthetic training writers, evaluate on held-out ones."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from flow.console import progress_bar
from flow.stage import Demo, Stage
from model.train import METRICS, TrainConfig, evaluate_run, load_trained, train_on_files

CURVE = "training_curve.png"


def train_dir(demo: Demo) -> Path:
    return demo.run_dir / "train"


def _run_train(demo: Demo) -> dict:
    cfg = demo.config
    data = demo.results["data"]
    config = TrainConfig(size=cfg.size, epochs=cfg.epochs, seed=cfg.seed)
    metrics = train_on_files(config, Path(data["train_dir"]), Path(data["test_dir"]),
                             train_dir(demo), progress=progress_bar)
    plot_curve(metrics["history"], train_dir(demo) / CURVE)
    model, _, _ = load_trained(train_dir(demo))
    return {"run": str(train_dir(demo)), "config": config.__dict__, "top1": metrics["top1"],
            "top5": metrics["top5"], "train_seconds": metrics["train_seconds"],
            "float_bytes": 4 * sum(p.numel() for p in model.parameters())}


def plot_curve(history: list[dict], path: Path) -> None:
    """Loss and train/test top-1 per epoch."""
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.2))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["loss"] for h in history], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss")
    ax_acc.plot(epochs, [h["train_top1"] for h in history], marker="o", label="train")
    ax_acc.plot(epochs, [h["test_top1"] for h in history], marker="o", label="held-out writers")
    ax_acc.set(xlabel="epoch", ylabel="top-1", ylim=(0, 1))
    ax_acc.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _report_train(demo: Demo) -> str:
    r = demo.results["train"]
    c = r["config"]
    return (f"## Training\n\n{c['arch']} network, {c['epochs']} epochs, {c['optimizer']} "
            f"(peak lr {c['lr']}, cosine one-cycle), batch {c['batch_size']}, "
            f"{r['train_seconds']} s.\n\n![training curve](train/{CURVE})\n")


def _run_eval(demo: Demo) -> dict:
    result = evaluate_run(train_dir(demo), Path(demo.results["data"]["test_dir"]))
    (demo.run_dir / "eval.json").write_text(json.dumps(result))
    return result


def _report_eval(demo: Demo) -> str:
    r = demo.results["eval"]
    m = json.loads((train_dir(demo) / METRICS).read_text())
    return ("## Float accuracy on held-out writers\n\n| images | top-1 | top-5 | best epoch top-1 |"
            f"\n|---:|---:|---:|---:|\n| {r['images']} | {r['top1']:.2%} | {r['top5']:.2%} | "
            f"{max(h['test_top1'] for h in m['history']):.2%} |\n")


STAGE = Stage("train", _run_train, _report_train)
EVAL_STAGE = Stage("eval", _run_eval, _report_eval)
