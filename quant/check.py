"""Golden integer model vs the torch fake-quant model: end-to-end argmax and per-layer error.

Each layer is checked on the *same* input: the golden model's integer input of that layer,
dequantised, goes through the torch layer, so an error is that layer's own and does not
accumulate from earlier layers.
"""

from __future__ import annotations

import numpy as np
import torch

from model.train import to_input
from quant import golden, ir
from quant.qat import QatNet


def dequantize(q: np.ndarray, spec: ir.TensorSpec) -> np.ndarray:
    """real = scale · (q − zero_point), as float64."""
    return spec.scale * (q.astype(np.float64) - spec.zero_point)


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).float()


@torch.no_grad()
def compare_with_qat(qnet: QatNet, model: ir.Model, images: np.ndarray,
                     tensors: dict[str, np.ndarray] | None = None) -> dict:
    """Compare golden and fake-quant on uint8 images [N, S, S].

    Args:
        tensors: the golden model's outputs for `images`, when already computed.

    Returns:
        {"images", "argmax_agreement", "layers": {name: {"max_steps", "off_by_one"}}}, where
        max_steps is the largest |golden − torch| of the layer in output quantisation steps
        and off_by_one the fraction of elements that differ at all.
    """
    qnet.eval()
    if tensors is None:
        tensors = golden.run_chunked(model, images[..., None])
    out = model.tensors[model.outputs[0]]
    golden_logits = dequantize(tensors[out.name], out).reshape(len(images), -1)
    torch_logits = qnet(to_input(images)).numpy()
    agreement = float((golden_logits.argmax(1) == torch_logits.argmax(1)).mean())
    ops = {op.name: op for op in model.ops}
    layers = {}
    for name, layer in qnet.layers.named_children():
        if name not in ops:
            continue
        op = ops[name]
        spec_in, spec_out = model.tensors[op.inputs[0]], model.tensors[op.output]
        x = _nchw(dequantize(tensors[op.inputs[0]], spec_in))
        if isinstance(op, ir.Dense):
            x = x.flatten(1)
        y = layer(x).numpy()
        y = y.transpose(0, 2, 3, 1) if y.ndim == 4 else y.reshape(len(images), 1, 1, -1)
        steps = np.abs(dequantize(tensors[op.output], spec_out) - y) / spec_out.scale
        layers[name] = {"max_steps": float(steps.max()),
                        "off_by_one": float((steps > 0.5).mean())}
    return {"images": len(images), "argmax_agreement": agreement, "layers": layers}

