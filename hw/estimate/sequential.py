"""Layer-sequential mode (DESIGN.md; not built yet): one shared PE×SIMD MAC array runs the
layers in turn, weights streamed from DDR, activations in on-chip buffers.

Analytical, for networks whose one-engine-per-layer dataflow design cannot fit: the MAC array
and its requantisers are costed with the calibrated conv2d functions (the shared engine would
be a conv2d engine with a larger address space), the buffers with the BRAM mapping. Cycles
per image: Σ ⌈OC/PE⌉·⌈IC·KH·KW/SIMD⌉·HO·WO over conv/dense, plus ⌈elements/SIMD⌉ for every
other op. Weights stream once per batch of B images; with B > 1 the activations of the batch
go through DDR as well (traffic counted). The plan is the PE×SIMD with the most images/s that
fits the cap.
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


def _bytes(model: ir.Model, name: str) -> int:
    t = model.tensors[name]
    return math.prod(t.shape) * (4 if t.dtype == "int32" else 1)


def op_cycles(op: ir.Op, model: ir.Model, pe: int, simd: int) -> int:
    """Cycles of one op on the shared array (see the module doc)."""
    y = model.tensors[op.output]
    if op.kind == "conv2d":
        kh, kw, cin, cout = op.weight.shape
        return math.ceil(cout / pe) * math.ceil(cin * kh * kw / simd) * y.shape[0] * y.shape[1]
    if op.kind == "dense":
        n_in, n_out = op.weight.shape
        return math.ceil(n_out / pe) * math.ceil(n_in / simd)
    if op.kind == "reshape":
        return 0
    return math.ceil(max(_bytes(model, t) for t in (*op.inputs, op.output)) / simd)


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

    @property
    def images_per_s(self) -> float:
        return self.clock_mhz * 1e6 / self.cycles

    @property
    def roofline(self) -> float:
        return self.device.dsp * 2 * self.clock_mhz * 1e6 / self.macs

    @property
    def ddr_gb_s(self) -> float:
        spill = self.act_bytes if self.batch > 1 else 0
        return (self.weight_bytes / self.batch + spill) * self.images_per_s / 1e9

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
                "weight_bytes": self.weight_bytes, "batch": self.batch,
                "ddr_gb_s": round(self.ddr_gb_s, 3)}


def sequential(model: ir.Model, device: Device, calib: Calibration, pe: int, simd: int,
               clock_mhz: float, cap: float) -> SequentialPlan:
    """The layer-sequential design with a `pe`×`simd` array (batch chosen for the DDR)."""
    mults = simd * (pe // 2 + pe % 2)
    core = fitted("conv2d", {"one": 1.0, "mults": mults, "pe": pe, "simd": simd,
                             "packed": pe * simd, "addr": ADDR_BITS}, calib)
    live = max(sum(_bytes(model, t) for t in {*op.inputs, op.output}) for op in model.ops)
    tile = max(pe * op.weight.size // op.weight.shape[-1] for op in model.ops
               if op.kind in ("conv2d", "dense"))  # weights of PE output channels
    buffers = memory_cost([Memory("activations", math.ceil(live / simd), 8 * simd),
                           Memory("weight_tile", math.ceil(2 * tile / (pe * simd)),
                                  8 * pe * simd)])
    cycles = sum(op_cycles(op, model, pe, simd) for op in model.ops)
    weights = sum(op_weight_bytes(op) for op in model.ops)
    acts = sum(_bytes(model, op.output) * 2 for op in model.ops if op.kind != "reshape")
    plan = SequentialPlan(model.name, device, clock_mhz, cap, pe, simd, cycles, core + buffers,
                          sum(op_macs(op, model) for op in model.ops), weights, acts, 1)
    room = cap * device.ddr_gb_s * 1e9 / plan.images_per_s  # bytes per image the HP ports take
    if weights > room:
        plan.batch = math.ceil(weights / max(room - acts, 1)) if room > acts else 10**6
    return plan


def plan_sequential(model: ir.Model, device: Device, calib: Calibration,
                    clock_mhz: float | None = None, cap: float = 0.8) -> SequentialPlan:
    """The fastest power-of-two PE×SIMD that fits `cap` (or the smallest, which says why)."""
    clock = clock_mhz or device.fmax_mhz
    plans = [sequential(model, device, calib, 2 ** i, 2 ** j, clock, cap)
             for i in range(1, 9) for j in range(0, 7)]
    fitting = [p for p in plans if not p.overflows()]
    return (max(fitting, key=lambda p: p.images_per_s) if fitting
            else min(plans, key=lambda p: p.pe * p.simd))
