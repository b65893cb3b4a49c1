"""Row bands: a convolution and the row-wise ops after it (PReLU, requant, sigmoid, then at most
one pooling) run a band of output rows at a time, so that only a band of their intermediate
tensors is ever in the activation buffer. This is how a network whose early feature maps do
not fit the buffer whole (CNN9 at 96×96: conv1 and PReLU1 hold 1.77 MB) still compiles; rows
that two bands both need are computed twice.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from quant import ir

ROW_WISE = frozenset({"prelu", "requant", "sigmoid"})  # one input row → one output row
POOLS = frozenset({"maxpool", "avgpool"})


def chains(model: ir.Model, skip: frozenset[str] = frozenset()) -> list[tuple[ir.Op, ...]]:
    """Every conv2d but those in `skip` followed by row-wise ops and at most one pooling,
    each intermediate read only by the next op of the chain and none a graph output; at
    least two ops. Largest intermediate bytes first."""
    readers = Counter(t for op in model.ops for t in op.inputs)
    reader = {t: op for op in model.ops for t in op.inputs}
    found = []
    for op in model.ops:
        if op.kind != "conv2d" or op.name in skip:
            continue
        chain = [op]
        while chain[-1].kind not in POOLS:
            t = chain[-1].output
            nxt = reader.get(t)
            if (t in model.outputs or readers[t] != 1 or nxt is None
                    or nxt.kind not in ROW_WISE | POOLS):
                break
            chain.append(nxt)
        if len(chain) > 1:
            found.append(tuple(chain))
    return sorted(found, key=lambda c: -intermediate_bytes(model, c))


def intermediate_bytes(model: ir.Model, chain: tuple[ir.Op, ...]) -> int:
    """Bytes of a chain's tensors that bands keep out of the buffer (all but the last)."""
    return sum(math.prod(model.tensors[op.output].shape) for op in chain[:-1])


@dataclass(frozen=True)
class Step:
    """One op of one band: its output rows [r0, r1), the input rows [i0, i1) it reads, and
    the padding rows above and below them."""

    r0: int
    r1: int
    i0: int
    i1: int
    pad_t: int
    pad_b: int


def window(op: ir.Op) -> tuple[int, int, int]:
    """(kernel rows, row stride, padding rows above) of a chain op."""
    if op.kind in ROW_WISE:
        return 1, 1, 0
    return op.kernel[0], op.stride[0], getattr(op, "padding", (0,))[0]  # avgpool: unpadded


def steps(windows: list[tuple[int, int, int]], heights: list[int], r0: int, r1: int
          ) -> list[Step]:
    """Each chain op's rows when its last op makes its output rows [r0, r1).

    Args:
        windows: (kernel rows, row stride, padding above) of each op (`window`).
        heights: the input height of each op.
    """
    out: list[Step] = []
    for (kh, sh, pt), h in zip(reversed(windows), reversed(heights), strict=True):
        lo, hi = r0 * sh - pt, (r1 - 1) * sh - pt + kh
        out.append(Step(r0, r1, max(lo, 0), min(hi, h), max(0, -lo), max(0, hi - h)))
        r0, r1 = out[-1].i0, out[-1].i1
    return out[::-1]


def band_rows(windows: list[tuple[int, int, int]], heights: list[int], row_bytes: list[int],
              height: int, budget: int) -> int:
    """The most output rows per band (at least 1) whose intermediates, `row_bytes` per row of
    each, take at most `budget` bytes."""
    best = 1
    for rows in range(2, height + 1):
        need = max(sum(rb * (s.r1 - s.r0) for rb, s in zip(row_bytes, steps(
            windows, heights, r0, min(r0 + rows, height))[:-1], strict=False))
            for r0 in range(0, height, rows))
        if need > budget:
            break
        best = rows
    return best
