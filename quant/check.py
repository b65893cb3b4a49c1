"""Golden integer model vs the torch fake-quant model: end-to-end argmax and per-layer error.

Each layer is checked on the *same* input: the torch graph runs node by node and every value
that has an IR tensor is replaced by the golden model's (dequantised) value before later nodes
use it, so a reported error is that layer's own and does not accumulate from earlier layers.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import fx

from model.loop import final_logits, to_input
from quant import golden, ir
from quant.export import lower
from quant.qat import QatNet


def dequantize(q: np.ndarray, spec: ir.TensorSpec) -> np.ndarray:
    """real = scale · (q − zero_point), as float64."""
    return spec.scale * (q.astype(np.float64) - spec.zero_point)


class _TeacherForced(fx.Interpreter):
    """Runs the QAT graph, comparing each quantized value with golden and then replacing it."""

    def __init__(self, qnet: QatNet, model: ir.Model, node_tensor: dict[str, str],
                 tensors: dict[str, np.ndarray]):
        super().__init__(qnet.gm)
        self.model, self.node_tensor, self.tensors = model, node_tensor, tensors
        self.steps: dict[str, float] = {}
        self.differ: dict[str, float] = {}

    def run_node(self, n: fx.Node) -> object:
        value = super().run_node(n)
        name = self.node_tensor.get(n.name)
        if name is None or not isinstance(value, torch.Tensor) or n.op == "output":
            return value
        spec = self.model.tensors[name]
        forced = dequantize(self.tensors[name], spec)  # [N, H, W, C]
        forced = torch.from_numpy(np.ascontiguousarray(forced.transpose(0, 3, 1, 2)))
        forced = forced.reshape(value.shape)
        if n.op != "placeholder":
            steps = (value.double() - forced).abs() / spec.scale
            self.steps[name] = max(self.steps.get(name, 0.0), float(steps.max()))
            self.differ[name] = float((steps > 0.5).double().mean())
        return forced.to(value.dtype)


@torch.no_grad()
def compare_with_qat(qnet: QatNet, model: ir.Model, images: np.ndarray,
                     tensors: dict[str, np.ndarray] | None = None) -> dict:
    """Compare golden and fake-quant on uint8 images [N, S, S].

    Args:
        tensors: the golden model's outputs for `images`, when already computed.

    Returns:
        {"images", "argmax_agreement", "layers": {tensor: {"max_steps", "off_by_one"}}}, where
        max_steps is the largest |golden − torch| of the layer in output quantisation steps
        and off_by_one the fraction of elements that differ at all.
    """
    qnet.eval()
    if tensors is None:
        tensors = golden.run_chunked(model, images[..., None])
    out = model.tensors[model.outputs[-1]]
    golden_logits = dequantize(tensors[out.name], out).reshape(len(images), -1)
    torch_logits = final_logits(qnet(to_input(images))).numpy()
    agreement = float((golden_logits.argmax(1) == torch_logits.argmax(1)).mean())
    _, node_tensor = lower(qnet, model.name)
    forced = _TeacherForced(qnet, model, node_tensor, tensors)
    forced.run(qnet.quantize_input(to_input(images)))
    layers = {name: {"max_steps": forced.steps[name], "off_by_one": forced.differ[name]}
              for name in forced.steps}
    return {"images": len(images), "argmax_agreement": agreement, "layers": layers}
