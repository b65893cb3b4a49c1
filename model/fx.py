"""What each node of a traced (torch.fx) network is, in the vocabulary the IR can express.

Shared by pruning's channel analysis (`model.prune.channels`), the QAT transform (`quant.qat`),
the exporter (`quant.export`) and the golden-vs-torch check (`quant.check`), so all agree on
every node. It lives in model/ because pruning needs it and model/ imports nothing above it.
"""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from base.errors import HccrError

MODULE_KINDS: tuple[tuple[type[nn.Module], str], ...] = (
    (nn.Conv2d, "layer"), (nn.Linear, "layer"), (nn.BatchNorm2d, "bn"), (nn.ReLU, "relu"),
    (nn.PReLU, "prelu"), (nn.MaxPool2d, "maxpool"), (nn.AdaptiveAvgPool2d, "gap"),
    (nn.Flatten, "flatten"), (nn.Dropout, "drop"), (nn.Identity, "drop"),
    (nn.Sigmoid, "sigmoid"),
)
FUNCTION_KINDS = {
    operator.add: "add", torch.add: "add", operator.mul: "mul", torch.mul: "mul",
    torch.cat: "cat", torch.sigmoid: "sigmoid", torch.relu: "relu",
    nn.functional.relu: "relu", torch.flatten: "flatten", operator.getitem: "shape",
}
METHOD_KINDS = {
    "relu": "relu", "sigmoid": "sigmoid", "view": "reshape", "reshape": "reshape",
    "flatten": "flatten", "mean": "mean_c", "amax": "max_c", "size": "shape",
    "contiguous": "drop",
}
# Kinds whose output is a new real value that needs its own output quantiser.
VALUE_KINDS = {"add", "mul", "cat", "gap", "mean_c", "sigmoid", "prelu"}
# Kinds that keep their input's scale and zero point.
KEEP_KINDS = {"maxpool", "flatten", "reshape", "max_c"}


class _Tracer(fx.Tracer):
    """Keeps modules that declare an IR op of their own (`ir_op = "gwap"`) as single nodes."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return getattr(m, "ir_op", None) is not None or super().is_leaf_module(
            m, module_qualified_name)


def trace(model: nn.Module) -> fx.GraphModule:
    """Symbolically trace a float network; a one-line error when it cannot be traced."""
    try:
        return fx.GraphModule(model, _Tracer().trace(model), type(model).__name__)
    except Exception as exc:  # torch.fx raises many kinds; name the cause on one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HccrError(f"{type(model).__name__}: cannot be traced by torch.fx ({first})"
                        ) from None


def node_kind(gm: fx.GraphModule, node: fx.Node) -> str:
    """The node's kind, or an HccrError naming it when the IR has no equivalent."""
    if node.op in ("placeholder", "output", "get_attr"):
        return {"placeholder": "input", "output": "output", "get_attr": "shape"}[node.op]
    kind = None
    if node.op == "call_module":
        module = gm.get_submodule(node.target)
        kind = next((k for cls, k in MODULE_KINDS if isinstance(module, cls)), None)
        if getattr(module, "ir_op", None) == "gwap":
            kind = "gwap"  # global weighted average pooling: weight [C, H, W]
        if kind is None and hasattr(module, "out_quant"):
            kind = "quantized"  # a QuantLayer: conv/linear with its output quantiser
        if kind is None and hasattr(module, "qparams"):
            kind = "quant"  # an ActQuant inserted after a value op
        if kind == "gap" and module.output_size not in (1, (1, 1)):
            kind = None
        what = type(module).__name__
    elif node.op == "call_function":
        kind = FUNCTION_KINDS.get(node.target)
        what = getattr(node.target, "__name__", str(node.target))
        if kind == "cat" and _dim(node, 1) != 1:
            raise HccrError(f"{node.name}: concatenation must be along channels (dim=1)")
    else:
        kind = METHOD_KINDS.get(node.target)
        what = f".{node.target}()"
        if kind in ("mean_c", "max_c") and (_dim(node, 1) != 1 or not node.kwargs.get("keepdim")):
            raise HccrError(f"{node.name}: {what} is supported over channels only "
                            "(dim=1, keepdim=True)")
    if kind is None:
        raise HccrError(f"{node.name}: {what} has no IR op (supported: conv/BN/ReLU/PReLU, "
                        "maxpool, global (weighted) avgpool, linear, add, mul, cat, sigmoid, "
                        "channel mean/max, flatten/view)")
    return kind


def _dim(node: fx.Node, position: int) -> object:
    return node.kwargs.get("dim", node.args[position] if len(node.args) > position else None)


def tensor_inputs(gm: fx.GraphModule, node: fx.Node) -> list[fx.Node]:
    """The node's tensor arguments in order (torch.cat's list flattened, sizes left out)."""
    args = node.args[0] if node.target is torch.cat else node.args
    return [a for a in args if isinstance(a, fx.Node) and node_kind(gm, a) != "shape"]
