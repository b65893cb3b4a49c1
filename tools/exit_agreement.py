"""Early exit, float vs integer: the exit point and class of a QAT-exported cascade's integer
rule (golden on the IR v2 exit table) against `cascade_predict` on the same held-out images.

    .venv/bin/python tools/exit_agreement.py QAT_DIR TEST_DATA [--thresholds 0.98,0.9]

Three float references, each with the same threshold and Mid-B policy: the torch fake-quant
network (the cascade the IR is exported from), the float rule on golden's own int8 logits
(dequantized: isolates the LUT rule), and the float network before QAT (`float_run`, when the
QAT folder's training run still exists). Prints one JSON line per threshold and policy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from model.data.dataset import load_images
from model.loop import to_input
from model.nets.fire import cascade_predict
from quant import golden
from quant.check import dequantize
from quant.export import exit_table, export
from quant.quantize import load_qat


@torch.no_grad()
def _torch_logits(net: torch.nn.Module, images: np.ndarray, batch: int = 100) -> list[np.ndarray]:
    parts = [net(to_input(images[i : i + batch])) for i in range(0, len(images), batch)]
    return [torch.cat([p[k] for p in parts]).double().numpy() for k in range(len(parts[0]))]


def _float_rule(logits: list[np.ndarray], threshold: float, mid_b: str
                ) -> tuple[np.ndarray, np.ndarray]:
    pred, ex = cascade_predict([torch.from_numpy(v) for v in logits], threshold, mid_b)
    return pred.numpy(), ex.numpy()


def _why(logits: list[np.ndarray], i: int, float_exit: int, int_exit: int) -> dict:
    """One disagreeing image: its exits and each output's top softmax probability."""
    top = [float(torch.from_numpy(v[i]).softmax(0).max()) for v in logits]
    return {"image": int(i), "float_exit": int(float_exit), "integer_exit": int(int_exit),
            "top_probability": [round(t, 6) for t in top]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qat", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--thresholds", default="0.98,0.9")
    args = parser.parse_args()
    qnet, classes, _ = load_qat(args.qat)
    test, _ = load_images(args.data, qnet.input_size).restrict(classes)
    base = export(qnet, "cascade")
    fake_quant = _torch_logits(qnet, test.images)
    golden_logits = None
    for threshold in map(float, args.thresholds.split(",")):
        for mid_b in ("average", "exit"):
            model = exit_table(base, threshold, mid_b)
            if golden_logits is None:
                tensors = golden.run_chunked(model, test.images[..., None])
                golden_logits = {t: tensors[t] for t in model.outputs}
            cls, points = golden.exit_decide(model, golden_logits)
            macs = np.asarray(golden.exit_macs(model))
            exit_ids = np.array([0, 2] if mid_b == "average" else [0, 1, 2])[points]
            dequant = [dequantize(golden_logits[t], model.tensors[t]).reshape(len(cls), -1)
                       for t in model.outputs]
            row = {"threshold": threshold, "mid_b": mid_b, "images": len(cls),
                   "exit_histogram": np.bincount(exit_ids, minlength=3).tolist(),
                   "top1_integer": float(np.mean(cls == test.labels)),
                   "macs_per_point": macs.tolist(), "macs_average": float(macs[points].mean()),
                   "macs_saving": float(1 - macs[points].mean() / macs[-1])}
            for name, logits in (("fake_quant", fake_quant), ("golden_dequantized", dequant)):
                pred, ex = _float_rule(logits, threshold, mid_b)
                differ = np.flatnonzero(ex != exit_ids)
                row[name] = {"exit_agreement": float(np.mean(ex == exit_ids)),
                             "class_agreement": float(np.mean(pred == cls)),
                             "exit_histogram": np.bincount(ex, minlength=3).tolist(),
                             "top1": float(np.mean(pred == test.labels)),
                             "disagreeing": [_why(logits, i, ex[i], exit_ids[i])
                                             for i in differ[:10]]}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
