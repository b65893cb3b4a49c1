"""IR dataflow graph -> what the network top wires: engines, forks and sized FIFOs.

Every engine input gets a FIFO (`Fifo`, named `<engine>.in<k>`); a tensor read by several
engines (or read and also the network output) goes through a `broadcast` fork first. A fork
stalls when any of its outputs is full, so at a join (an engine with several inputs: add,
concat, mul) the input on the short path must buffer what the fork emits while the long path
fills its line buffers or whole-tensor accumulators, or the network deadlocks. The plan sizes
it from each tensor's delay in images (`delays`): the network input has 0, an op's output the
latest of its inputs plus its fill (`fill`) as a fraction of its input image. A join input
ahead by d images must hold d x (elements per image) elements, plus one pixel and 16 beats of
margin, rounded up to a power of two (`fifo.sv`). Every concat input holds at least one pixel
of its own channels + margin: concat reads its lanes in turn, and a lane's producer keeps
going while the others are read (with the default depth a small SqNxt Scenario 1 ran 22 %
slower than its interval). Other FIFOs have the default depth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from hw.gen.engines import EngineSpec, Folding, FoldingError, engine_for
from quant import ir

# Ops the top wires straight through: they only reinterpret the stream (no engine).
PASS_THROUGH = tuple(kind for kind, cls in ir.OPS.items() if cls.reads == ir.VIEW)
MARGIN = 16  # beats of slack on a sized FIFO, beside one pixel


@dataclass(frozen=True)
class Fifo:
    """The FIFO in front of one engine input.

    Attributes:
        name: `<engine>.in<port>`.
        src: the producing engine, or the network input tensor.
        dst, port: the engine and its input index.
        tensor: the IR tensor it carries.
        width: element bits.
        depth: entries (a power of two).
        required: elements it must hold so that the network cannot deadlock (0: no join).
        why: how `depth` was chosen.
    """

    name: str
    src: str
    dst: str
    port: int
    tensor: str
    width: int
    depth: int
    required: int
    why: str

    def as_json(self) -> dict:
        return {"name": self.name, "from": self.src, "to": self.dst, "port": self.port,
                "tensor": self.tensor, "width": self.width, "depth": self.depth,
                "required": self.required, "why": self.why}


@dataclass(frozen=True)
class Fork:
    """A broadcast of one engine's (or the input's) stream to several readers.

    Attributes:
        src: the producing engine, or the network input tensor.
        outs: the FIFOs it feeds (`Fifo.name`); the output engine has no readers.
        width: element bits.
    """

    src: str
    outs: tuple[str, ...]
    width: int


@dataclass
class Plan:
    """Engines in topological order, the FIFO of each engine input, the forks, the delays."""

    engines: list[EngineSpec]
    fifos: list[Fifo]
    forks: list[Fork]
    delays: dict[str, float]
    sources: dict[str, str]  # IR tensor -> the engine (or input) whose stream carries it
    output_src: str


def fill(op: ir.Op, x: ir.TensorSpec) -> tuple[float, str]:
    """Delay (in images of the first input) from the op's first input to its first output,
    and why: rows a line buffer waits for, whole tensors, or one pixel for the rest."""
    h, w, c = x.shape
    if op.reads == ir.TENSOR:  # no output before the last input element
        return 1.0, f"{op.name} reads the whole tensor ({h * w * c} elements)"
    if op.reads == ir.WINDOW:  # a line buffer of complete rows (window.sv)
        rows = min(op.kernel[0] - getattr(op, "padding", (0,))[0], h)
        return rows / h, f"{op.name} fills {rows} of {h} rows ({rows * w * c} elements)"
    return 1 / (h * w), f"{op.name} takes a pixel ({c} elements)"


def _width(spec: ir.TensorSpec) -> int:
    return 32 if spec.dtype == "int32" else 8


def _pow2(n: int) -> int:
    return 1 << max(n - 1, 1).bit_length()


def plan(model: ir.Model, folding: Mapping[str, Folding], fifo_depth: int,
         overrides: Mapping[str, int] | None = None) -> Plan:
    """Engines, forks and FIFOs for `model` (one input, one output, any DAG).

    Args:
        model: a checked IR model.
        folding: PE/SIMD per layer.
        fifo_depth: depth of FIFOs not on a join's short path (and of the engines' own).
        overrides: FIFO name -> depth, replacing the computed one (e.g. to show a deadlock).

    Raises:
        FoldingError: several inputs or outputs, a tensor nobody reads, an op without engine,
            an int32 stream into an engine, or an override naming no FIFO or not a power of two.
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise FoldingError(f"{model.name}: the RTL generator needs one input and one output, "
                           f"got {list(model.inputs)} -> {list(model.outputs)}")
    source = {model.inputs[0]: model.inputs[0]}
    delays = {model.inputs[0]: 0.0}
    reasons: dict[str, list[tuple[float, str]]] = {model.inputs[0]: []}
    engines, readers = [], {}
    for op in model.ops:
        if op.kind in PASS_THROUGH:
            source[op.output] = source[op.inputs[0]]
            delays[op.output] = delays[op.inputs[0]]
            reasons[op.output] = reasons[op.inputs[0]]
            continue
        eng = engine_for(op, model, folding.get(op.name), fifo_depth=fifo_depth)
        for port, t in enumerate(op.inputs):
            if model.tensors[t].dtype == "int32":
                raise FoldingError(f"{op.name}: reads int32 '{t}'; engines read 8-bit streams")
            readers.setdefault(source[t], []).append((op.name, port, t))
        late = max(op.inputs, key=lambda t: delays[t])
        frac, why = fill(op, model.tensors[op.inputs[0]])
        delays[op.output] = delays[late] + frac
        reasons[op.output] = [*reasons[late], (frac, why)]
        source[op.output] = op.name
        engines.append(eng)
    if not engines:
        raise FoldingError(f"{model.name}: no layer with an RTL engine")
    out_src = source[model.outputs[0]]
    unread = [s for s in [model.inputs[0], *(e.name for e in engines)]
              if s not in readers and s != out_src]
    if unread:
        raise FoldingError(f"{unread[0]}: its output is never read; the RTL top streams one "
                           f"output ('{model.outputs[0]}')")
    by_op = {op.name: op for op in model.ops}
    fifos = [_fifo(model, by_op[dst], port, t, src, delays, reasons, fifo_depth)
             for src, edges in readers.items() for dst, port, t in edges]
    order = {e.name: i for i, e in enumerate(engines)}
    fifos.sort(key=lambda f: (order[f.dst], f.port))
    fifos = _override(fifos, overrides or {})
    forks = []
    for src in [model.inputs[0], *(e.name for e in engines)]:
        outs = [f.name for f in fifos if f.src == src]
        if len(outs) > 1:
            spec = model.tensors[model.inputs[0]] if src == model.inputs[0] else \
                next(e.out_spec for e in engines if e.name == src)
            forks.append(Fork(src, tuple(outs), _width(spec)))
    return Plan(engines, fifos, forks, delays, source, out_src)


def _fifo(model: ir.Model, op: ir.Op, port: int, tensor: str, src: str,
          delays: Mapping[str, float], reasons: Mapping[str, list[tuple[float, str]]],
          default: int) -> Fifo:
    spec = model.tensors[tensor]
    name = f"{op.name}.in{port}"
    late = max(op.inputs, key=lambda t: delays[t])
    ahead = delays[late] - delays[tensor]
    if len(op.inputs) < 2 or ahead <= 0:
        why = ("the latest input of its join" if len(op.inputs) > 1 else "no join: default")
        if op.kind == "concat":  # a lane waits while the others are read: one pixel of its own
            default = max(default, _pow2(spec.shape[-1] + MARGIN))
            why += f"; a concat lane holds one pixel ({spec.shape[-1]}) + {MARGIN} margin"
        return Fifo(name, src, op.name, port, tensor, _width(spec), default, 0, why)
    elems = math.prod(spec.shape)
    required = math.ceil(ahead * elems - 1e-9)
    depth = max(default, _pow2(required + spec.shape[-1] + MARGIN))
    path = [why for r, why in reasons[late] if (r, why) not in reasons[tensor]]
    why = (f"short path of join {op.name}: '{tensor}' is {ahead:.3f} images ahead of "
           f"'{late}' ({'; '.join(path)}), so it buffers {ahead:.3f} x {elems} = {required} "
           f"elements; + one pixel ({spec.shape[-1]}) + {MARGIN} margin, to a power of two")
    return Fifo(name, src, op.name, port, tensor, _width(spec), depth, required, why)


def _override(fifos: list[Fifo], overrides: Mapping[str, int]) -> list[Fifo]:
    names = {f.name for f in fifos}
    for name, depth in overrides.items():
        if name not in names:
            raise FoldingError(f"FIFO override names no FIFO: {name} (FIFOs: "
                               f"{', '.join(sorted(names))})")
        if depth < 2 or depth & (depth - 1):
            raise FoldingError(f"FIFO {name}: depth {depth} must be a power of two >= 2")
    return [Fifo(f.name, f.src, f.dst, f.port, f.tensor, f.width, overrides[f.name],
                 f.required, f"override (computed {f.depth}: {f.why})")
            if f.name in overrides else f for f in fifos]
