"""Lower an IR model to hls4ml layers whose integer arithmetic is exactly `quant/golden.py`'s.

The firmware works in the integer domain: every IR tensor `t` is stored as `q - offset_t` in an
integer ap type (its *form*). Offsets let asymmetric zero points saturate exactly: a conv2d's
result type `ap_(u)fixed<n, n, RND, SAT>` computes `clip(floor(x + 1/2), lo, hi)`, golden's
round-half-up requantisation and clip, whenever the clip range `[lo, hi]` shifted by the
offset is a type's range. Padded convolutions want `offset = zero point` (hls4ml pads with 0,
golden with the zero point) and padded max pools an unsigned form (a 0 pad never wins); where
the producer cannot store that, they read a re-centred copy (`scale.recentre`). Maxpool and
concat outputs share their inputs' form.

Each op kind of the registry (`ir.OPS`) has a module here named after it (`conv2d.py`,
`dense.py`, `add.py`, ...) with an `OpLowering` (found by `lowerings`); the op modules build on
`hw.hls.graph`, never on this module. Ops without one, and ops whose arithmetic has no exact
hls4ml form, are refused with `Unsupported`, one line naming the op.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import Counter
from dataclasses import dataclass

import numpy as np

from hw.hls.fixed import integer_range
from hw.hls.graph import Form, Graph, OpLowering, Unsupported
from quant import ir


@dataclass(frozen=True)
class Lowered:
    """An IR model lowered to hls4ml layers (see `Graph` for the fields)."""

    layers: list[dict]
    precision: dict[str, dict[str, str]]
    macs: dict[str, tuple[int, int]]
    fixed: list[str]
    forms: dict[str, Form]
    names: dict[str, str]
    ops: dict[str, str]
    inputs: list[str]
    outputs: list[str]
    depths: dict[str, int]


def lowerings() -> dict[str, OpLowering]:
    """The op kinds the back end supports: each kind of `ir.OPS` with a module `hw/hls/<kind>.py`,
    with that module's `LOWERING`."""
    return {kind: importlib.import_module(f"{__package__}.{kind}").LOWERING for kind in ir.OPS
            if importlib.util.find_spec(f"{__package__}.{kind}") is not None}


def _check_supported(model: ir.Model, table: dict[str, OpLowering]) -> None:
    for op in model.ops:
        if op.kind not in table:
            raise Unsupported(f"{op.name}: op '{op.kind}' has no exact hls4ml lowering "
                              f"(supported: {', '.join(table)})")


def _groups(model: ir.Model, table: dict[str, OpLowering]) -> dict[str, str]:
    """Tensor -> representative of its group (tensors that must share a form)."""
    parent = {t: t for t in model.tensors}

    def find(t: str) -> str:
        while parent[t] != t:
            t = parent[t]
        return t

    for op in model.ops:
        if table[op.kind].offsets(op, model.tensors[op.output]) is None:
            for t in op.inputs:
                parent[find(t)] = find(op.output)
    return {t: find(t) for t in model.tensors}


def choose_forms(model: ir.Model) -> dict[str, Form]:
    """The form of every tensor: an offset every producer of its group can store exactly.

    Preference: the offset most of its padding readers want (sparing them a re-centring
    layer), else 0 (the firmware holds q itself), else the smallest allowed.

    Raises:
        Unsupported: an op cannot produce its output exactly, or the producers sharing a
            tensor's form (through maxpool or concat) agree on no offset.
    """
    table = lowerings()
    _check_supported(model, table)
    group = _groups(model, table)
    allowed: dict[str, set[int] | None] = dict.fromkeys(group.values())
    producer = dict.fromkeys(model.inputs, "the graph input")
    for op in model.ops:
        lowering = table[op.kind]
        producer[op.output] = op.name
        produced = lowering.offsets(op, model.tensors[op.output])
        if produced is not None:
            offsets = set(produced)
            root = group[op.output]
            allowed[root] = offsets if allowed[root] is None else allowed[root] & offsets
            if not allowed[root]:
                raise Unsupported(f"{op.name}: the ops sharing the form of '{op.output}' "
                                  "(through maxpool or concat) agree on no exact storage")
    wanted: dict[str, Counter[int]] = {root: Counter() for root in allowed}
    for op in model.ops:
        ins = [model.tensors[t] for t in op.inputs]
        for t, offset in zip(op.inputs, table[op.kind].prefers(op, ins), strict=True):
            if offset is not None:
                wanted[group[t]][offset] += 1
    forms = {}
    for t, spec in model.tensors.items():
        root = group[t]
        offsets = allowed[root]
        ok = [o for o, _ in wanted[root].most_common() if offsets is None or o in offsets]
        offset = ok[0] if ok else 0 if offsets is None or 0 in offsets else min(offsets)
        forms[t] = Form(offset, integer_range(spec.lo - offset, spec.hi - offset))
    return forms


def lower(model: ir.Model) -> Lowered:
    """Lower a valid IR model to hls4ml layers with every precision set.

    Raises:
        Unsupported: an op (named) cannot be reproduced exactly.
    """
    forms = choose_forms(model)
    g = Graph(model, forms)
    for name in model.inputs:
        g.add(name, {"class_name": "InputLayer", "input_shape": list(model.tensors[name].shape)},
              {"result": forms[name].type}, produces=name)
    table = lowerings()
    for op in model.ops:
        table[op.kind].lower(op, g)
    return Lowered(g.layers, g.precision, g.macs, g.fixed, forms, g.names, g.ops,
                   [g.names[t] for t in model.inputs], [g.names[t] for t in model.outputs],
                   g.depths)


def stored(q: np.ndarray, form: Form) -> np.ndarray:
    """IR integers as the firmware holds them (float64, what hls4ml's predict takes)."""
    return (q.astype(np.int64) - form.offset).astype(np.float64)


def restored(v: np.ndarray, form: Form) -> np.ndarray:
    """Firmware values back to IR values (float64: a wrong type may leave the integers)."""
    return np.asarray(v, np.float64) + form.offset
