"""concat → a chain of binary hls4ml `Concatenate` layers along channels.

hls4ml merges two tensors at a time; inputs and output share one form (the IR gives them one
quantisation), so the chain only moves data.
"""

from __future__ import annotations

from hw.hls.graph import Graph, OpLowering
from quant import ir


def _lower(op: ir.Concat, g: Graph) -> None:
    storage = {"result": g.forms[op.output].type}
    left = g.names[op.output] = g.names[op.inputs[0]]
    last = len(op.inputs) - 1
    for i, t in enumerate(op.inputs[1:], 1):
        left = g.add(op.name, {
            "class_name": "Concatenate", "op": "concatenate3d", "axis": -1,
            "inputs": [left, g.names[t]],
            **({} if i == last else {"name": g.layer_name(f"{op.name}_{i}")}),
        }, storage, produces=op.output if i == last else None)


LOWERING = OpLowering(lower=_lower)
