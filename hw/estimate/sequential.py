"""Layer-sequential mode (DESIGN.md; not built yet): one shared PE×SIMD MAC array runs the
layers in turn, weights streamed from DDR, activations in on-chip buffers.

Analytical, for networks whose one-engine-per-layer dataflow design cannot fit: the MAC array
and its write-back lanes are costed with the calibrated conv2d functions (the shared engine
would be a conv2d engine with a larger address space), the buffers with the BRAM mapping; the
engine is not built yet (only its MAC array is simulated and synthesized). The
micro-architecture it assumes:
- PE lanes take output channels. The SIMD lanes' adder tree can be cut into g = 1, 2, 4 …
  `segments` equal parts (g divides SIMD), each reducing SIMD/g terms of the KH·KW·IC
  reduction R for its own output pixel: a conv takes ⌈OC/PE⌉·⌈R/(SIMD/g)⌉·⌈HO·WO/g⌉ cycles
  with the best g (g = 1: the whole tree on one pixel; conv_first's R = 9 takes many pixels).
  `mac_array.sv` with SEGMENTS is that cut tree (bit-exact, no more DSPs in synthesis); the
  window buffer handing each part SIMD/g consecutive elements of its pixel's flattened window
  is not built.
- Every segment of every PE lane has its own accumulator and requantiser (PE·segments
  write-back lanes), so results never wait for a requantiser. A requantiser is 2 DSPs for its
  acc·M product (the calibrated conv2d lane), none when every multiplier of the network is a
  power of two (the `pot` scheme: conv/dense M = 1, requant.sv's UNIT_M; the other ops'
  powers of two are shifts).
- Ops done at the write-back of the op before them cost no cycles (each op's `on_write` in
  quant/ir.py): concat (a channel offset), requant and add (the write-back lane's shift and
  the residual operand read from the buffer), reshape (an address view), global average
  pools and channel reductions (summed or maxed on write into an accumulator memory of their
  output's size), and a max pool right after a conv (pooled on write). Any other op is a
  vector pass of ⌈elements/lanes⌉ cycles, lanes = min(SIMD, write-back lanes).
- Every op that runs pays `OVERHEAD` cycles (instruction fetch and pipeline fill).
Weights either stay in on-chip ROM (PE·SIMD bytes wide, when they fit the BRAM cap) or stream
from DDR once per batch of B images; with B > 1 the activations of the batch go through DDR as
well (traffic counted). The plan is the PE (even) × SIMD × segments × weight placement with
the most images/s that fits the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hw.devices import Device
from hw.estimate.calibration import Calibration
from hw.estimate.cost import Cost, fitted, memory_cost
from hw.estimate.memory import Memory
from hw.estimate.network import op_macs, op_weight_bytes
from quant import ir

ADDR_BITS = 24.0  # the shared engine's weight and buffer address bits (feature `addr`)
OVERHEAD = 32  # per op: instruction fetch (4), address set-up (4), MAC tree + requant fill (~24)
MAX_SEGMENTS = 16  # most parts the SIMD adder tree is cut into
MULTIPLIERS = ("multiplier", "multipliers", "multiplier_pos", "multiplier_neg")


def _bytes(model: ir.Model, name: str) -> int:
    t = model.tensors[name]
    return math.prod(t.shape) * (4 if t.dtype == "int32" else 1)


def fused_ops(model: ir.Model) -> set[str]:
    """The ops done at the write-back of the op before them (see the module doc)."""
    producer = {op.output: op.kind for op in model.ops}
    return {op.name for op in model.ops if op.on_write in (ir.FUSED, ir.REDUCED)
            or (op.on_write == ir.AFTER_CONV and producer.get(op.inputs[0]) == ir.Conv2d.kind)}


def shift_only(model: ir.Model) -> bool:
    """Every requantisation multiplier is a power of two (the product is a shift)."""
    found = [np.asarray(m) for op in model.ops for f in MULTIPLIERS
             if (m := getattr(op, f, None)) is not None]
    return all(np.all(np.bitwise_and(m, m - 1) == 0) for m in found)


class MacOp(NamedTuple):
    """A conv2d (or a dense: `pixels` = 1) on the shared array."""

    name: str
    oc: int
    reduction: int  # KH·KW·IC
    pixels: int

    @property
    def macs(self) -> int:
        return self.oc * self.reduction * self.pixels


class VectorOp(NamedTuple):
    """Any other op that runs (not fused): one pass over its largest tensor."""

    name: str
    kind: str
    elements: int
    macs: int


@dataclass(frozen=True)
class Workload:
    """What the layer-sequential plans need of a network, read once from its IR.

    Attributes:
        mac_ops, vector_ops: the ops that run, in topological order within each kind.
        reduced: accumulator words of the write-back reductions of one tensor, at most.
        live: bytes of the largest op's inputs and output (the activation buffer).
        tile: weight bytes of one output channel, at most (×PE: one weight tile).
    """

    name: str
    macs: int
    weight_bytes: int
    act_bytes: int
    shift_only: bool
    mac_ops: tuple[MacOp, ...]
    vector_ops: tuple[VectorOp, ...]
    reduced: int
    live: int
    tile: int

    @classmethod
    def of(cls, model: ir.Model) -> Workload:
        fused = fused_ops(model)
        mac_ops, vector_ops, reduced = [], [], {}
        for op in model.ops:
            if op.mac_array:
                ins = [model.tensors[t] for t in op.inputs]
                mac_ops.append(MacOp(op.name, *op.mac_shape(ins, model.tensors[op.output])))
            elif op.on_write == ir.REDUCED:
                words = math.prod(model.tensors[op.output].shape)
                reduced[op.inputs[0]] = reduced.get(op.inputs[0], 0) + words
            elif op.name not in fused:
                vector_ops.append(VectorOp(op.name, op.kind, max(
                    _bytes(model, t) for t in (*op.inputs, op.output)), op_macs(op, model)))
        return cls(model.name, sum(op_macs(op, model) for op in model.ops),
                   sum(op_weight_bytes(op) for op in model.ops),
                   sum(_bytes(model, op.output) * 2 for op in model.ops
                       if op.reads != ir.VIEW),
                   shift_only(model), tuple(mac_ops), tuple(vector_ops),
                   max(reduced.values(), default=0),
                   max(sum(_bytes(model, t) for t in {*op.inputs, op.output})
                       for op in model.ops),
                   max((op.weight.size // op.weight.shape[-1] for op in model.ops
                        if op.mac_array), default=0))

    @property
    def ops_run(self) -> int:
        return len(self.mac_ops) + len(self.vector_ops)


def mac_cycles(op: MacOp, pe: int, simd: int, segments: int) -> tuple[int, int]:
    """(cycles, parts g) of one conv or dense with the best cut g ≤ `segments` of the SIMD
    adder tree, without `OVERHEAD` (module doc); the fewest parts among equals."""
    return min((math.ceil(op.oc / pe) * math.ceil(op.reduction * g / simd)
                * math.ceil(op.pixels / g), g)
               for g in (2**k for k in range(segments.bit_length())))


def vector_cycles(op: VectorOp, pe: int, simd: int, segments: int) -> int:
    """Cycles of one vector pass, min(SIMD, write-back lanes) elements per cycle."""
    return math.ceil(op.elements / min(simd, pe * segments))


def image_cycles(work: Workload, pe: int, simd: int, segments: int) -> int:
    """Cycles per image: every op that runs, plus `OVERHEAD` each."""
    return (sum(mac_cycles(m, pe, simd, segments)[0] for m in work.mac_ops)
            + sum(vector_cycles(v, pe, simd, segments) for v in work.vector_ops)
            + OVERHEAD * work.ops_run)


@dataclass
class SequentialPlan:
    """One shared MAC array of `pe`×`simd` lanes (two int8 MACs per DSP), its adder tree cut
    into up to `segments` parts, on a device."""

    work: Workload
    device: Device
    clock_mhz: float
    cap: float
    pe: int
    simd: int
    segments: int
    cycles: int
    cost: Cost
    batch: int = 1
    weights_on_chip: bool = False

    @property
    def images_per_s(self) -> float:
        return self.clock_mhz * 1e6 / self.cycles

    @property
    def latency_ms(self) -> float:
        """From an image's arrival to its result: its whole batch runs layer by layer."""
        return self.batch * self.cycles / (self.clock_mhz * 1e3)

    @property
    def macs(self) -> int:
        return self.work.macs

    @property
    def weight_bytes(self) -> int:
        return self.work.weight_bytes

    @property
    def roofline(self) -> float:
        """Images/s if every DSP of the device did two MACs per cycle."""
        return self.device.dsp * 2 * self.clock_mhz * 1e6 / self.macs

    @property
    def array_efficiency(self) -> float:
        """MACs per image over the array's MAC slots per image (its own DSPs' roofline)."""
        return self.macs / (self.pe * self.simd * self.cycles)

    @property
    def ddr_gb_s(self) -> float:
        spill = self.work.act_bytes if self.batch > 1 else 0
        weights = 0 if self.weights_on_chip else self.weight_bytes / self.batch
        return (weights + spill) * self.images_per_s / 1e9

    def op_rows(self) -> list[tuple[str, str, int, int, int, float]]:
        """(op, kind, MACs, parts of the cut tree (0: a vector pass), cycles with `OVERHEAD`,
        share of the array's MAC slots used) of every op that runs, MAC ops first."""
        slots = self.pe * self.simd
        rows = []
        for m in self.work.mac_ops:
            cycles, parts = mac_cycles(m, self.pe, self.simd, self.segments)
            rows.append((m.name, "mac", m.macs, parts, cycles + OVERHEAD,
                         m.macs / (slots * (cycles + OVERHEAD))))
        for v in self.work.vector_ops:
            cycles = vector_cycles(v, self.pe, self.simd, self.segments) + OVERHEAD
            rows.append((v.name, v.kind, v.macs, 0, cycles, v.macs / (slots * cycles)))
        return rows

    def overflows(self) -> list[str]:
        c, d = self.cost, self.device
        why = [f"{res}: {used:,.0f} > {self.cap:.0%} of {budget:,} (shared MAC array "
               f"{self.pe}×{self.simd} and its buffers)"
               for res, used, budget in (("lut", c.lut, d.lut), ("ff", c.ff, d.ff),
                                         ("dsp", c.dsp, d.dsp), ("bram36", c.bram36, d.bram36))
               if used > self.cap * budget]
        if self.ddr_gb_s > self.cap * d.ddr_gb_s:
            why.append(f"DDR: {self.ddr_gb_s:.2f} GB/s > {self.cap:.0%} of {d.ddr_gb_s:.1f}")
        return why

    def as_json(self) -> dict:
        return {"mode": "layer-sequential", "device": self.device.name, "fits":
                not self.overflows(), "why": self.overflows(), "clock_mhz": self.clock_mhz,
                "pe": self.pe, "simd": self.simd, "segments": self.segments,
                "write_back_lanes": self.pe * self.segments,
                "requant_dsp": not self.work.shift_only, "lut": round(self.cost.lut),
                "ff": round(self.cost.ff), "dsp": self.cost.dsp, "bram36": self.cost.bram36,
                "cycles": self.cycles, "images_per_s": round(self.images_per_s, 1),
                "latency_ms": round(self.latency_ms, 4),
                "roofline_images_per_s": round(self.roofline, 1),
                "of_roofline": round(self.images_per_s / self.roofline, 4),
                "array_efficiency": round(self.array_efficiency, 4), "cap": self.cap,
                "weight_bytes": self.weight_bytes, "weights_on_chip": self.weights_on_chip,
                "batch": self.batch,
                "ddr_gb_s": round(self.ddr_gb_s, 3)}


def array_cost(work: Workload, pe: int, simd: int, segments: int, calib: Calibration,
               on_chip: bool) -> Cost:
    """The MAC array (packed: SIMD multipliers per PE pair), PE·segments write-back lanes
    priced as calibrated conv2d lanes, and the buffers (module doc)."""
    mults = simd * (pe // 2 + pe % 2)
    lanes = pe * segments
    core = fitted("conv2d", {"one": 1.0, "mults": mults, "pe": lanes,
                             "rq": 0 if work.shift_only else lanes, "simd": simd,
                             "packed": pe * simd, "addr": ADDR_BITS}, calib)
    weight_store = (Memory("weights", math.ceil(work.weight_bytes / (pe * simd)), 8 * pe * simd,
                           True) if on_chip else
                    Memory("weight_tile", math.ceil(2 * pe * work.tile / (pe * simd)),
                           8 * pe * simd))
    buffers = [Memory("activations", math.ceil(work.live / simd), 8 * simd), weight_store]
    if work.reduced:
        buffers.append(Memory("reductions", work.reduced, 32))
    return core + memory_cost(buffers)


def sequential(work: Workload, device: Device, calib: Calibration, pe: int, simd: int,
               clock_mhz: float, cap: float, segments: int = 1, on_chip: bool = False
               ) -> SequentialPlan:
    """The layer-sequential design with a `pe`×`simd` array cut into up to `segments` (a power
    of two dividing `simd`), its weights in on-chip ROM (`on_chip`) or streamed from DDR
    (batch chosen for the DDR)."""
    if segments & (segments - 1) or simd % segments:
        raise ValueError(f"{segments} segments: not a power of two dividing SIMD {simd}")
    plan = SequentialPlan(work, device, clock_mhz, cap, pe, simd, segments,
                          image_cycles(work, pe, simd, segments),
                          array_cost(work, pe, simd, segments, calib, on_chip),
                          weights_on_chip=on_chip)
    room = cap * device.ddr_gb_s * 1e9 / plan.images_per_s  # bytes per image the HP ports take
    if not on_chip and work.weight_bytes > room:
        plan.batch = (math.ceil(work.weight_bytes / max(room - work.act_bytes, 1))
                      if room > work.act_bytes else 10**6)
    return plan


def plan_sequential(model: ir.Model, device: Device, calib: Calibration,
                    clock_mhz: float | None = None, cap: float = 0.8) -> SequentialPlan:
    """The fastest PE (even, 2-64) × SIMD (1-128) × segments (powers of two dividing SIMD, up
    to `MAX_SEGMENTS`), weights on chip or from DDR, that fits `cap`, on chip when equally
    fast (or the smallest, which says why)."""
    clock = clock_mhz or device.fmax_mhz
    work = Workload.of(model)
    fit = memory_cost([Memory("weights", work.weight_bytes, 8, True)]).bram36 <= (
        cap * device.bram36)
    plans = [sequential(work, device, calib, pe, simd, clock, cap, 2**k, rom)
             for rom in ([False, True] if fit else [False]) for pe in range(2, 65, 2)
             for simd in range(1, 129) if simd * pe // 2 <= cap * device.dsp
             for k in range(MAX_SEGMENTS.bit_length()) if simd % 2**k == 0]
    fitting = [p for p in plans if not p.overflows()]
    return (max(fitting, key=lambda p: (p.images_per_s, p.weights_on_chip)) if fitting
            else sequential(work, device, calib, 2, 1, clock, cap))
