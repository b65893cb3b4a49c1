"""What an op's lowering works on: the hls4ml layer graph being built and each tensor's form.

`OpLowering` is what `hw/hls/<kind>.py` declares for the IR op of that kind (its `LOWERING`);
`Graph` collects the hls4ml layers and their settings; `Form` is how the firmware stores a
tensor (see `hw.hls.lower`). The op modules import this module, never `lower`, which finds
them by kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hw.hls.fixed import Fixed
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


def free_offsets(op: ir.Op, out: ir.TensorSpec) -> list[int]:
    """Offsets a custom layer computing `q - offset` in int64 can store: any; these are the
    ones readers prefer (0, unsigned for padded pools, the zero point for padded convs)."""
    return sorted({0, out.lo, out.zero_point})
