"""Per-layer and whole-network estimate of a folded dataflow design on one device.

The engines, FIFOs and forks are the generator's own (`hw.gen.graph.plan`), so parameters
and cycles come from `hw.gen.engines` once; `fold_spec` re-folds an engine without rebuilding
its ROM images (cycles scale exactly by 1/(PE·SIMD) since PE and SIMD divide the channels).
A layer whose weights stream from DDR keeps a double-buffered tile of one output-channel group
(SF words of PE·SIMD bytes) on chip instead of its weight ROM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from hw.devices import Device
from hw.estimate.calibration import Calibration
from hw.estimate.cost import Cost, engine_cost, fifo_cost, fork_cost, mac_geometry, memory_cost
from hw.estimate.memory import Memory
from hw.gen.engines import EngineSpec, Folding, pack_lanes
from hw.gen.graph import Plan, plan
from quant import ir

MAC_MODULES = tuple(kind for kind, cls in ir.OPS.items() if cls.mac_array)  # engine = op kind
# Ops whose engines exist but whose cost functions were fitted on no synthesis (none today).
UNCALIBRATED: tuple[str, ...] = ()


def op_macs(op: ir.Op, model: ir.Model) -> int:
    """Multiply-accumulates per image of one op (`ir.Op.macs`)."""
    return op.macs([model.tensors[t] for t in op.inputs], model.tensors[op.output])


def op_weight_bytes(op: ir.Op) -> int:
    """Bytes of an op's weight array packed at its `weight_bits`."""
    w = getattr(op, "weight", None)
    return 0 if w is None else -(-w.size * getattr(op, "weight_bits", 8) // 8)


def fold_spec(eng: EngineSpec, fold: Folding) -> EngineSpec:
    """`eng` (built unfolded) with PE/SIMD/PACK set and its cycles scaled. Of its ROM images
    only the parameter ROM's is kept, re-packed PE lanes a word (cheap: one lane per output
    channel): Yosys drops its constant bit columns, all of them when one word holds every
    channel. Weight images are dropped (re-laying them costs seconds on large layers), so a
    folded weight ROM is costed at its full width."""
    if (fold.pe, fold.simd, fold.pack) == (1, 1, False):
        return eng
    params = {**eng.params, "SIMD": fold.simd}
    mems = {}
    if eng.module in MAC_MODULES:
        params |= {"PE": fold.pe, "PACK": fold.pack}
        mems = {f: (pack_lanes(words, fold.pe, width), width * fold.pe)
                for f, (words, width) in eng.mems.items() if f.endswith("_p.mem")}
    return dataclasses.replace(eng, params=params, mems=mems,
                               cycles=eng.cycles // (fold.pe * fold.simd))


@dataclass
class LayerEstimate:
    """One engine: its folding, cycles per image, resources, MACs and where its weights live."""

    name: str
    kind: str
    module: str
    fold: Folding
    cycles: int
    cost: Cost
    macs: int
    weight_bytes: int
    act_bytes: int
    ddr: bool = False

    @property
    def lanes(self) -> int:
        return self.fold.pe * self.fold.simd if self.module in MAC_MODULES else 0


@dataclass
class NetworkEstimate:
    """A folded design on one device at one clock.

    Attributes:
        layers: one per engine, in topological order.
        glue: FIFOs between engines and broadcast forks.
        cap: share of each resource a design may use.
        batch: images per weight pass of the DDR-streamed layers (1 if none).
    """

    name: str
    device: Device
    clock_mhz: float
    cap: float
    layers: list[LayerEstimate]
    glue: Cost
    batch: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Cost:
        return sum((layer.cost for layer in self.layers), self.glue)

    @property
    def cycles(self) -> int:
        """Initiation interval: cycles per image of the slowest engine."""
        return max(layer.cycles for layer in self.layers)

    @property
    def bottleneck(self) -> str:
        return max(self.layers, key=lambda layer: layer.cycles).name

    @property
    def latency_cycles(self) -> int:
        """Upper bound on the first image's latency: every engine's cycles in turn."""
        return sum(layer.cycles for layer in self.layers)

    @property
    def images_per_s(self) -> float:
        return self.clock_mhz * 1e6 / self.cycles

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def mac_utilisation(self) -> float:
        """MACs per image over MAC-array lane-cycles per image (conv/dense lanes)."""
        lanes = sum(layer.lanes for layer in self.layers)
        mac = sum(layer.macs for layer in self.layers if layer.module in MAC_MODULES)
        return mac / (lanes * self.cycles) if lanes else 0.0

    @property
    def packed(self) -> bool:
        return any(layer.fold.pack for layer in self.layers)

    @property
    def roofline(self) -> float:
        """Images/s if every DSP of the device did 1 (2 packed) MACs per cycle."""
        per_dsp = 2 if self.packed else 1
        return self.device.dsp * per_dsp * self.clock_mhz * 1e6 / max(self.macs, 1)

    @property
    def ddr_layers(self) -> list[LayerEstimate]:
        return [layer for layer in self.layers if layer.ddr]

    @property
    def ddr_act_bytes(self) -> int:
        """Activation bytes per image the streamed layers read and write in DDR (they run
        layer by layer over a batch)."""
        return sum(layer.act_bytes for layer in self.ddr_layers)

    @property
    def ddr_gb_s(self) -> float:
        """DDR traffic of the streamed layers at the image rate: their weights once per
        batch, their activations once per image."""
        per_image = (sum(layer.weight_bytes for layer in self.ddr_layers) / self.batch
                     + self.ddr_act_bytes)
        return per_image * self.images_per_s / 1e9

    def usage(self) -> dict[str, tuple[float, int]]:
        """resource -> (used, budget)."""
        t, b = self.total, self.device.budget()
        return {"lut": (t.lut, b["lut"]), "ff": (t.ff, b["ff"]), "dsp": (t.dsp, b["dsp"]),
                "bram36": (t.bram36, b["bram36"])}

    def overflows(self) -> list[str]:
        """Why the design does not fit: each resource over `cap` of the budget, naming the
        layer that takes most of it; bandwidth over the HP ports. Empty if it fits."""
        why = []
        for res, (used, budget) in self.usage().items():
            if used > self.cap * budget:
                top = max(self.layers, key=lambda layer: _amount(layer.cost, res))
                why.append(f"{res}: {used:,.0f} > {self.cap:.0%} of {budget:,} "
                           f"({top.name} takes {_amount(top.cost, res):,.0f})")
        if self.ddr_gb_s > self.device.ddr_gb_s:
            why.append(f"DDR: {self.ddr_gb_s:.2f} GB/s > {self.device.ddr_gb_s:.1f} GB/s of "
                       f"{self.device.hp_ports} HP ports")
        return why

    @property
    def fits(self) -> bool:
        return not self.overflows()

    def as_json(self) -> dict:
        t = self.total
        return {"model": self.name, "device": self.device.name, "fits": self.fits,
                "why": self.overflows(), "clock_mhz": self.clock_mhz, "cap": self.cap,
                "lut": round(t.lut), "ff": round(t.ff), "dsp": t.dsp, "bram36": t.bram36,
                "cycles": self.cycles, "bottleneck": self.bottleneck,
                "images_per_s": round(self.images_per_s, 1),
                "latency_ms": round(self.latency_cycles / self.clock_mhz / 1e3, 3),
                "macs": self.macs, "mac_utilisation": round(self.mac_utilisation, 4),
                "roofline_images_per_s": round(self.roofline, 1),
                "of_roofline": round(self.images_per_s / self.roofline, 4),
                "ddr_layers": [layer.name for layer in self.ddr_layers], "batch": self.batch,
                "ddr_gb_s": round(self.ddr_gb_s, 3), "notes": self.notes,
                "layers": [{"name": la.name, "kind": la.kind, "pe": la.fold.pe,
                            "simd": la.fold.simd, "pack": la.fold.pack, "cycles": la.cycles,
                            "macs": la.macs, "lut": round(la.cost.lut), "ff": round(la.cost.ff),
                            "dsp": la.cost.dsp, "bram36": la.cost.bram36,
                            "weight_bytes": la.weight_bytes, "ddr": la.ddr}
                           for la in self.layers]}


def _amount(cost: Cost, res: str) -> float:
    return cost.bram36 if res == "bram36" else getattr(cost, res)


def base_plan(model: ir.Model, fifo_depth: int = 16) -> Plan:
    """The generator's plan of `model` unfolded (engines, FIFOs, forks)."""
    return plan(model, {}, fifo_depth, {})


def ddr_cost(eng: EngineSpec, calib: Calibration) -> Cost:
    """Resources of an engine whose weights stream from DDR: the weight ROM becomes a
    double-buffered tile of one output-channel group."""
    wdep, wwid, _, _ = mac_geometry(eng)
    groups = (eng.params["OC"] if eng.module == "conv2d" else eng.params["N_OUT"]) // \
        eng.params["PE"]
    rom = memory_cost([Memory("weights", wdep, wwid, True)])
    tile = memory_cost([Memory("weight_tile", 2 * wdep // groups, wwid)])
    full = engine_cost(eng, calib)
    return dataclasses.replace(full, ramb18=full.ramb18 - rom.ramb18 + tile.ramb18,
                               ramb36=full.ramb36 - rom.ramb36 + tile.ramb36)


def estimate(model: ir.Model, device: Device, folding: Mapping[str, Folding],
             calib: Calibration, clock_mhz: float | None = None, cap: float = 0.8,
             ddr: frozenset[str] = frozenset(), batch: int = 1, base: Plan | None = None,
             cache: dict | None = None) -> NetworkEstimate:
    """Estimate `model` folded as `folding` (missing layers 1×1) on `device`.

    Args:
        ddr: conv/dense layers whose weights stream from DDR.
        batch: images per weight pass of those layers.
        base: `base_plan(model)`, if already computed.
        cache: costs of earlier calls on the same `base` (the optimiser's many tries).
    """
    base = base or base_plan(model)
    cache = {} if cache is None else cache
    ops = {op.name: op for op in model.ops}
    layers = []
    for eng0 in base.engines:
        fold = folding.get(eng0.name, Folding())
        eng = fold_spec(eng0, fold)
        op = ops[eng.name]
        streamed = eng.name in ddr and eng.module in MAC_MODULES
        key = (eng.name, fold, streamed)
        if key not in cache:
            cache[key] = ddr_cost(eng, calib) if streamed else engine_cost(eng, calib)
        cost = cache[key]
        layers.append(LayerEstimate(eng.name, op.kind, eng.module, fold, eng.bound_cycles,
                                    cost, op_macs(op, model), op_weight_bytes(op),
                                    eng.in_beats + eng.out_beats, streamed))
    if "glue" not in cache:
        glue = sum((fifo_cost(f.width, f.depth, calib) for f in base.fifos), Cost())
        cache["glue"] = sum((fork_cost(f.width, len(f.outs), calib) for f in base.forks), glue)
    glue = cache["glue"]
    return NetworkEstimate(model.name, device, clock_mhz or device.fmax_mhz, cap, layers, glue,
                           batch if ddr else 1)
