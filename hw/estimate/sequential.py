"""Layer-sequential mode (DESIGN.md; not built yet): one shared PE×SIMD MAC array runs the
layers in turn, weights streamed from DDR, activations in on-chip buffers.

Analytical, for networks whose one-engine-per-layer dataflow design cannot fit: the MAC array
and its requantisers are costed with the calibrated conv2d functions (the shared engine would
be a conv2d engine with a larger address space), the buffers with the BRAM mapping; the engine
is not built yet, so none of this is synthesized. The micro-architecture it assumes:
- PE lanes take output channels; per conv the SIMD lanes take either the flattened KH·KW·IC
  reduction, ⌈OC/PE⌉·⌈R/SIMD⌉·HO·WO cycles, or output pixels (a accumulator per lane),
  ⌈OC/PE⌉·R·⌈HO·WO/SIMD⌉ cycles, whichever is fewer (conv_first's R = 9 takes pixels).
- Ops done at the write-back of the op before them cost no cycles: concat (a channel offset),
  requant and add (the requantiser's shift and the residual operand read from the buffer),
  reshape (an address view), and a max pool or global average pool right after a conv (pooled
  or accumulated on write). Any other op is a vector pass of ⌈elements/SIMD⌉ cycles.
- Every op that runs pays `OVERHEAD` cycles (instruction fetch and pipeline fill).
Weights either stay in on-chip ROM (PE·SIMD bytes wide, when they fit the BRAM cap) or stream
from DDR once per batch of B images; with B > 1 the activations of the batch go through DDR as
well (traffic counted). The plan is the PE (even) × SIMD × weight placement with the most
images/s that fits the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hw.devices import Device
from hw.estimate.calibration import Calibration
from hw.estimate.cost import Cost, fitted, memory_cost
from hw.estimate.memory import Memory
from hw.estimate.network import op_macs, op_weight_bytes
from quant import ir

ADDR_BITS = 24.0  # the shared engine's weight and buffer address bits (feature `addr`)
OVERHEAD = 32  # per op: instruction fetch (4), address set-up (4), MAC tree + requant fill (~24)
WRITE_BACK = {"concat", "requant", "add", "reshape"}  # always fused into the producer's write
AFTER_CONV = {"maxpool", "global_avgpool"}  # fused when a conv produced their input


def _bytes(model: ir.Model, name: str) -> int:
    t = model.tensors[name]
    return math.prod(t.shape) * (4 if t.dtype == "int32" else 1)


def weight_bytes(model: ir.Model) -> int:
    """Bytes of every weight of the network."""
    return sum(op_weight_bytes(op) for op in model.ops)


def fused_ops(model: ir.Model) -> set[str]:
    """The ops done at the write-back of the op before them (see the module doc)."""
    producer = {op.output: op.kind for op in model.ops}
    return {op.name for op in model.ops if op.kind in WRITE_BACK
            or (op.kind in AFTER_CONV and producer.get(op.inputs[0]) == "conv2d")}


def op_cycles(op: ir.Op, model: ir.Model, pe: int, simd: int) -> int:
    """Cycles of one op that runs on the shared array, without `OVERHEAD` (module doc)."""
    y = model.tensors[op.output]
    if op.kind == "conv2d":
        kh, kw, cin, cout = op.weight.shape
        reduction, pixels = kh * kw * cin, y.shape[0] * y.shape[1]
        return math.ceil(cout / pe) * min(math.ceil(reduction / simd) * pixels,
                                          reduction * math.ceil(pixels / simd))
    if op.kind == "dense":
        n_in, n_out = op.weight.shape
        return math.ceil(n_out / pe) * math.ceil(n_in / simd)
    return math.ceil(max(_bytes(model, t) for t in (*op.inputs, op.output)) / simd)


def image_cycles(model: ir.Model, pe: int, simd: int, fused: set[str] | None = None) -> int:
    """Cycles per image: every op that runs (not in `fused`), plus `OVERHEAD` each."""
    fused = fused_ops(model) if fused is None else fused
    return sum(op_cycles(op, model, pe, simd) + OVERHEAD for op in model.ops
               if op.name not in fused)


@dataclass
class SequentialPlan:
    """One shared MAC array of `pe`×`simd` lanes (two int8 MACs per DSP) on a device."""

    name: str
    device: Device
    clock_mhz: float
    cap: float
    pe: int
    simd: int
    cycles: int
    cost: Cost
    macs: int
    weight_bytes: int
    act_bytes: int
    batch: int
    weights_on_chip: bool = False

    @property
    def images_per_s(self) -> float:
        return self.clock_mhz * 1e6 / self.cycles

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
        spill = self.act_bytes if self.batch > 1 else 0
        weights = 0 if self.weights_on_chip else self.weight_bytes / self.batch
        return (weights + spill) * self.images_per_s / 1e9

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
                "pe": self.pe, "simd": self.simd, "lut": round(self.cost.lut),
                "ff": round(self.cost.ff), "dsp": self.cost.dsp, "bram36": self.cost.bram36,
                "cycles": self.cycles, "images_per_s": round(self.images_per_s, 1),
                "roofline_images_per_s": round(self.roofline, 1),
                "of_roofline": round(self.images_per_s / self.roofline, 4),
                "array_efficiency": round(self.array_efficiency, 4), "cap": self.cap,
                "weight_bytes": self.weight_bytes, "weights_on_chip": self.weights_on_chip,
                "batch": self.batch,
                "ddr_gb_s": round(self.ddr_gb_s, 3)}


def sequential(model: ir.Model, device: Device, calib: Calibration, pe: int, simd: int,
               clock_mhz: float, cap: float, fused: set[str] | None = None,
               on_chip: bool = False) -> SequentialPlan:
    """The layer-sequential design with a `pe`×`simd` array, its weights in on-chip ROM
    (`on_chip`) or streamed from DDR (batch chosen for the DDR); `fused`: `fused_ops(model)`,
    if already known."""
    mults = simd * (pe // 2 + pe % 2)
    core = fitted("conv2d", {"one": 1.0, "mults": mults, "pe": pe, "simd": simd,
                             "packed": pe * simd, "addr": ADDR_BITS}, calib)
    live = max(sum(_bytes(model, t) for t in {*op.inputs, op.output}) for op in model.ops)
    tile = max(pe * op.weight.size // op.weight.shape[-1] for op in model.ops
               if op.kind in ("conv2d", "dense"))  # weights of PE output channels
    weights = weight_bytes(model)
    weight_store = (Memory("weights", math.ceil(weights / (pe * simd)), 8 * pe * simd, True)
                    if on_chip else Memory("weight_tile", math.ceil(2 * tile / (pe * simd)),
                                           8 * pe * simd))
    buffers = memory_cost([Memory("activations", math.ceil(live / simd), 8 * simd),
                           weight_store])
    cycles = image_cycles(model, pe, simd, fused)
    acts = sum(_bytes(model, op.output) * 2 for op in model.ops if op.kind != "reshape")
    plan = SequentialPlan(model.name, device, clock_mhz, cap, pe, simd, cycles, core + buffers,
                          sum(op_macs(op, model) for op in model.ops), weights, acts, 1,
                          on_chip)
    room = cap * device.ddr_gb_s * 1e9 / plan.images_per_s  # bytes per image the HP ports take
    if not on_chip and weights > room:
        plan.batch = math.ceil(weights / max(room - acts, 1)) if room > acts else 10**6
    return plan


def plan_sequential(model: ir.Model, device: Device, calib: Calibration,
                    clock_mhz: float | None = None, cap: float = 0.8) -> SequentialPlan:
    """The fastest PE (even, 2-64) × SIMD (1-128), weights on chip or from DDR, that fits
    `cap`, on chip when equally fast (or the smallest, which says why)."""
    clock = clock_mhz or device.fmax_mhz
    fused = fused_ops(model)
    fit = memory_cost([Memory("weights", weight_bytes(model), 8, True)]).bram36 <= (
        cap * device.bram36)
    on_chip = [False, True] if fit else [False]
    plans = [sequential(model, device, calib, pe, simd, clock, cap, fused, rom)
             for rom in on_chip for pe in range(2, 65, 2) for simd in range(1, 129)]
    fitting = [p for p in plans if not p.overflows()]
    return (max(fitting, key=lambda p: (p.images_per_s, p.weights_on_chip)) if fitting
            else min(plans, key=lambda p: p.pe * p.simd))
