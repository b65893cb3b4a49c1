"""Lower an IR model to hls4ml layers whose integer arithmetic is exactly `quant/golden.py`'s.

The firmware works in the integer domain: every IR tensor `t` is stored as `q - offset_t` in an
integer ap type (its *form*). Offsets let asymmetric zero points saturate exactly: a conv2d's
result type `ap_(u)fixed<n, n, RND, SAT>` computes `clip(floor(x + 1/2), lo, hi)`, golden's
round-half-up requantisation and clip, whenever the clip range `[lo, hi]` shifted by the
offset is a type's range. Padded convolutions want `offset = zero point` (hls4ml pads with 0,
golden with the zero point) and padded max pools an unsigned form (a 0 pad never wins); where
the producer cannot store that, they read a re-centred copy (`scale.recentre`). Maxpool and
concat outputs share their inputs' form.

Each supported op kind has a module here named after it (`conv2d.py`, `dense.py`, `add.py`,
...) with an `OpLowering` (listed by `lowerings`); ops without one, and ops whose arithmetic
has no exact hls4ml form, are refused with `Unsupported`, one line naming the op.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from hw.hls.fixed import Fixed, integer_range
from quant import ir


class Unsupported(ValueError):
    """An IR model the hls4ml back end cannot reproduce exactly (the message names the op)."""


@dataclass(frozen=True)
class Form:
    """How the firmware stores an IR tensor: the value `q - offset` in `type`."""

    offset: int
    type: Fixed


@dataclass(frozen=True)
class OpLowering:
    """What the back end knows about one op kind.

    Attributes:
        lower: appends the op's hls4ml layer(s) to the graph.
        outputs: the output offsets the op can produce exactly (None, or a function returning
            None for this op: its inputs' form); raises `Unsupported` when there is none.
        prefers: per input, the offset that spares the op a re-centring layer (None: any).
    """

    lower: Callable[[ir.Op, Graph], None]
    outputs: Callable[[ir.Op, ir.TensorSpec], list[int] | None] | None = None

    def offsets(self, op: ir.Op, out: ir.TensorSpec) -> list[int] | None:
        """The output offsets of `op` (None: it keeps its inputs' form)."""
        return None if self.outputs is None else self.outputs(op, out)
    prefers: Callable[[ir.Op, Sequence[ir.TensorSpec]], list[int | None]] = (
        lambda op, ins: [None] * len(ins))


@dataclass
class Graph:
    """The hls4ml layer list being built, with the per-layer settings that go with it.

    Attributes:
        model: the IR model.
        forms: the form of every IR tensor.
        layers: hls4ml layer dicts (channels_last), in order.
        precision: hls4ml layer name -> its `Precision` entry.
        macs: hls4ml layer name -> (n_in, n_out) of its multiply-accumulate, for ReuseFactor.
        fixed: layers built with Strategy Latency and ReuseFactor 1, not configurable.
        recentred: (IR tensor, offset) -> the layer re-storing it with that offset.
        names: IR tensor -> the hls4ml layer that outputs it.
        ops: hls4ml layer name -> the IR op it comes from.
        depths: hls4ml layer name -> FIFO depth (beats) of its first input stream, where the
            default would deadlock (a mul reading its gate before x).
    """

    model: ir.Model
    forms: dict[str, Form]
    layers: list[dict] = field(default_factory=list)
    precision: dict[str, dict[str, str]] = field(default_factory=dict)
    macs: dict[str, tuple[int, int]] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    recentred: dict[tuple[str, int], str] = field(default_factory=dict)
    ops: dict[str, str] = field(default_factory=dict)
    depths: dict[str, int] = field(default_factory=dict)

    def spec(self, tensor: str) -> ir.TensorSpec:
        """The IR spec of a tensor."""
        return self.model.tensors[tensor]

    def layer_name(self, name: str) -> str:
        """A fresh C identifier for a layer derived from an IR name."""
        base = re.sub(r"\W", "_", name)
        base = base if re.match(r"[A-Za-z]", base) else f"l_{base}"
        taken = {"input", *(layer["name"] for layer in self.layers)}  # hls4ml reserves input
        unique, i = base, 1
        while unique in taken:
            unique, i = f"{base}_{i}", i + 1
        return unique

    def add(self, op: str, layer: dict, precision: dict[str, Fixed], produces: str | None = None,
            mac: tuple[int, int] | None = None, fixed: bool = False) -> str:
        """Append a layer made for IR op `op`; returns its name.

        Args:
            op: the IR op's name.
            layer: the hls4ml layer dict without `name` (set from `layer_name` unless given).
            precision: its types by hls4ml variable (`weight`, `bias`, `accum`, `result`).
            produces: the IR tensor it outputs, if any.
            mac: (n_in, n_out) when the layer multiplies with configurable weights.
            fixed: the layer is built with Strategy Latency, ReuseFactor 1.
        """
        name = layer.setdefault("name", self.layer_name(op))
        self.layers.append(layer)
        self.precision[name] = {k: str(v) for k, v in precision.items()}
        self.ops[name] = op
        if produces is not None:
            self.names[produces] = name
        if mac is not None:
            self.macs[name] = mac
        if fixed:
            self.fixed.append(name)
        return name


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
    """The op kinds the back end supports, each with its lowering."""
    from hw.hls import (
        add,
        avgpool,
        concat,
        conv2d,
        dense,
        global_avgpool,
        gwap,
        maxpool,
        mul,
        prelu,
        reduce_channels,
        requant,
        reshape,
        sigmoid,
    )

    return {"conv2d": conv2d.LOWERING, "dense": dense.LOWERING, "maxpool": maxpool.LOWERING,
            "concat": concat.LOWERING, "avgpool": avgpool.LOWERING,
            "global_avgpool": global_avgpool.LOWERING, "gwap": gwap.LOWERING,
            "requant": requant.LOWERING, "reduce_channels": reduce_channels.LOWERING,
            "add": add.LOWERING, "prelu": prelu.LOWERING, "mul": mul.LOWERING,
            "sigmoid": sigmoid.LOWERING, "reshape": reshape.LOWERING}


def free_offsets(op: ir.Op, out: ir.TensorSpec) -> list[int]:
    """Offsets a custom layer computing `q - offset` in int64 can store: any; these are the
    ones readers prefer (0, unsigned for padded pools, the zero point for padded convs)."""
    return sorted({0, out.lo, out.zero_point})


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
