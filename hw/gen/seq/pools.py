"""Max pools fused into the conv before them: the MAC's write-back keeps the 2×2 stride-2
maximum of its output pixels (a register for the pixel to the left, a line buffer of
`POOL_ROW` pooled pixels for the row above) and writes only the pooled pixel, so the conv's
output never takes buffer room and the pool takes no vector pass of its own."""

from __future__ import annotations

from collections import Counter

from hw.gen.seq.isa import POOL_ROW, Instruction
from quant import ir


def fusable(model: ir.Model) -> dict[str, ir.Op]:
    """conv2d name → the max pool fused into it: the conv's output is read by that pool
    alone and is no graph output, the pool is 2×2 with stride 2 and no padding, and its
    output is at most `POOL_ROW` pixels wide."""
    readers = Counter(t for op in model.ops for t in op.inputs)
    producer = {op.output: op for op in model.ops}
    fused = {}
    for pool in model.ops:
        conv = producer.get(pool.inputs[0])
        if (pool.on_write == ir.AFTER_CONV and conv is not None and conv.kind == "conv2d"
                and readers[conv.output] == 1 and conv.output not in model.outputs
                and tuple(pool.kernel) == (2, 2) and tuple(pool.stride) == (2, 2)
                and not any(pool.padding)
                and model.tensors[pool.output].shape[1] <= POOL_ROW):
            fused[conv.name] = pool
    return fused


def conv_shape(ins: Instruction) -> tuple[int, int]:
    """Output rows and columns a MAC computes: y's, or twice y's when it pools."""
    scale = 2 if ins["pool"] else 1
    return scale * ins["y_h"], scale * ins["y_w"]
