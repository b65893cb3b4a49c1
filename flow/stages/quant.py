"""Demo stages: QAT (general, power-of-two, 4-bit FC), export to the IR, golden evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flow.console import progress, progress_bar
from flow.stage import Demo, Stage
from flow.stages.train import train_dir
from hw.estimate.network import op_weight_bytes
from model.data.dataset import load_images
from quant import golden, ir
from quant.check import compare_with_qat
from quant.export import export, read_labels, write_ir
from quant.quantize import QuantConfig, load_qat, quantize

# name → QAT settings; "int8" is the main IR that later stages lower to hardware.
SCHEMES = {
    "int8": QuantConfig(),
    "int8_pot": QuantConfig(pot=True),
    "int8_fc4": QuantConfig(weight_bits={"fc": 4}),
}


def qat_dir(demo: Demo, scheme: str) -> Path:
    return demo.run_dir / "quant" / scheme


def ir_dir(demo: Demo, scheme: str = "int8") -> Path:
    """The IR folder of a scheme (`ir/` for the main int8 one, `ir_<scheme>/` otherwise)."""
    return demo.run_dir / ("ir" if scheme == "int8" else f"ir_{scheme.removeprefix('int8_')}")


def _run_quantize(demo: Demo) -> dict:
    data = demo.results["data"]
    results = {}
    for scheme, config in SCHEMES.items():
        config = QuantConfig(**{**config.__dict__, "seed": demo.config.seed})
        m = quantize(train_dir(demo), Path(data["train_dir"]), Path(data["test_dir"]),
                     qat_dir(demo, scheme), config, progress_bar)
        results[scheme] = {"float_top1": m["float"]["top1"], "qat_top1": m["int8"]["top1"],
                           "seconds": m["seconds"]}
    return results


def _run_export(demo: Demo) -> dict:
    results = {}
    for scheme in SCHEMES:
        qnet, classes, _ = load_qat(qat_dir(demo, scheme))
        model = export(qnet, f"{demo.config.name}_{scheme}")
        write_ir(model, classes, ir_dir(demo, scheme))
        results[scheme] = {"ir": str(ir_dir(demo, scheme)), "ops": len(model.ops),
                           "bytes": weight_bytes(model)}
    return results


def weight_bytes(model: ir.Model) -> int:
    """Bytes of all parameters: weights packed at their `weight_bits` (`op_weight_bytes`, what a
    ROM holds), the other arrays (bias, multipliers, shifts, LUTs) at their dtype."""
    return sum(op_weight_bytes(op) + sum(getattr(op, f).nbytes for f in op.ARRAYS
                                         if f != "weight" and getattr(op, f, None) is not None)
               for op in model.ops)


def _run_golden(demo: Demo) -> dict:
    test_dir = Path(demo.results["data"]["test_dir"])
    results = {}
    with progress() as bar:
        for scheme in SCHEMES:
            model = ir.load(ir_dir(demo, scheme))
            classes = read_labels(ir_dir(demo, scheme))
            size = model.tensors[model.inputs[0]].shape[0]
            data, _ = load_images(test_dir, size).restrict(classes)
            task = bar.add_task(f"golden {scheme}", total=len(data.labels), info="")
            tensors = golden.run_chunked(model, data.images[..., None],
                                         advance=lambda n, t=task: bar.advance(t, n))
            logits = tensors[model.outputs[0]].reshape(len(data.labels), -1)
            qnet, _, _ = load_qat(qat_dir(demo, scheme))
            check = compare_with_qat(qnet, model, data.images, tensors)
            results[scheme] = {
                "images": len(data.labels),
                "top1": float(np.mean(logits.argmax(1) == data.labels)),
                "argmax_agreement": check["argmax_agreement"],
                "max_layer_steps": max(v["max_steps"] for v in check["layers"].values()),
                "layers": check["layers"],
            }
    return results


def _report(demo: Demo) -> str:
    fp = demo.results["eval"]
    q, ex, g = (demo.results[k] for k in ("quantize", "export", "golden"))
    float_bytes = demo.results["train"]["float_bytes"]
    rows = [f"| float32 | {fp['top1']:.2%} | – | – | – | {float_bytes:,} |"]
    for scheme in SCHEMES:
        r = g[scheme]
        rows.append(f"| {scheme} | {r['top1']:.2%} | {100 * (fp['top1'] - r['top1']):+.2f} | "
                    f"{r['argmax_agreement']:.2%} | {r['max_layer_steps']:.3f} | "
                    f"{ex[scheme]['bytes']:,} |")
    times = ", ".join(f"{k} {v['seconds']} s" for k, v in q.items())
    return (
        "## Quantization (QAT) and the integer golden model\n\n"
        f"Each scheme is fine-tuned with fake quantisation ({SCHEMES['int8'].epochs} epochs), "
        "exported to the integer IR and run by the NumPy golden model on the held-out writers. "
        "*Drop* is float minus int8 top-1 in points; *agreement* is golden vs torch fake-quant "
        "argmax; *max step* is the largest per-layer difference between golden and fake-quant "
        "(each layer fed the same input), in output quantisation steps. "
        "`int8_pot` uses power-of-two scales (M = 1); `int8_fc4` keeps the FC weights at 4 bits."
        "\n\n| model | top-1 | drop (pts) | agreement | max step | parameter bytes |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        f"QAT fine-tuning time: {times}.\n")


QUANTIZE_STAGE = Stage("quantize", _run_quantize, lambda demo: "")
EXPORT_STAGE = Stage("export", _run_export, lambda demo: "")
GOLDEN_STAGE = Stage("golden", _run_golden, _report)
