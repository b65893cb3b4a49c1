"""Folding under a device budget: PE/SIMD per layer for the most images/s that fits.

For a target initiation interval T (cycles per image), every conv/dense layer slower than T
gets the PE×SIMD reaching T with the least DSP + BRAM + LUT (as shares of the device; PACK on
when PE ≥ 2, two int8 MACs per DSP48), maxpool likewise its SIMD; layers already under T
stay unfolded, so the pipeline is balanced at T. If the weight ROMs then overflow the
block-RAM cap, the layers with the most weight bytes stream their weights from DDR
(DESIGN.md's layer-sequential mode) until the rest fits, with the batch that keeps the DDR
traffic within the HP ports. T starts at the stream floor (the largest tensor, one element
per cycle) and grows by `STEP` until the design fits the cap; the first fit is the plan.
"""

from __future__ import annotations

import math

from hw.devices import Device
from hw.estimate.calibration import Calibration
from hw.estimate.cost import Cost, engine_cost
from hw.estimate.network import (
    MAC_MODULES,
    NetworkEstimate,
    base_plan,
    ddr_cost,
    estimate,
    fold_spec,
)
from hw.gen.engines import EngineSpec, Folding
from hw.gen.graph import Plan
from quant import ir

STEP = 1.08  # growth of the target interval between tries


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _channels(eng: EngineSpec) -> tuple[int, int]:
    """(output-channel count PE divides, input-channel count SIMD divides)."""
    p = eng.params
    if eng.module == "conv2d":
        return int(p["OC"]), int(p["IC"])
    if eng.module == "dense":
        return int(p["N_OUT"]), int(p["N_IN"])
    return 1, int(p["C"])


def _share(cost: Cost, device: Device) -> float:
    """A folding's price: its DSP, BRAM and LUT as shares of the device's."""
    return cost.dsp / device.dsp + cost.bram36 / device.bram36 + cost.lut / device.lut


def layer_fold(eng: EngineSpec, target: int, device: Device, calib: Calibration,
               cache: dict, pack: bool = True) -> Folding:
    """The cheapest folding (`_share`) of one unfolded engine reaching `target` cycles, or
    its fastest one. For each PE only the smallest SIMD that reaches it is a candidate."""
    if eng.cycles <= target or eng.module not in (*MAC_MODULES, "maxpool"):
        return Folding()
    n_pe, n_simd = _channels(eng)
    candidates = []
    for pe in _divisors(n_pe):
        simd = next((s for s in _divisors(n_simd) if eng.cycles // (pe * s) <= target), None)
        if simd is not None:
            candidates.append(Folding(pe, simd, pack and pe >= 2 and eng.module in MAC_MODULES))
    if not candidates:  # even fully parallel misses the target
        return Folding(n_pe, n_simd, pack and n_pe >= 2 and eng.module in MAC_MODULES)

    def price(fold: Folding) -> float:
        key = (eng.name, fold, False)
        if key not in cache:
            cache[key] = engine_cost(fold_spec(eng, fold), calib)
        return _share(cache[key], device)

    return min(candidates, key=price)


def balance(base: Plan, target: int, device: Device, calib: Calibration, cache: dict,
            pack: bool = True) -> dict[str, Folding]:
    """Folding of every engine of `base` for an initiation interval of `target` cycles."""
    folding = {eng.name: layer_fold(eng, target, device, calib, cache, pack)
               for eng in base.engines}
    return {k: f for k, f in folding.items() if f != Folding()}


def with_ddr(model: ir.Model, device: Device, folding: dict[str, Folding],
             calib: Calibration, clock_mhz: float, cap: float, base: Plan, cache: dict
             ) -> NetworkEstimate:
    """The estimate of `folding`, moving the largest weights to DDR while BRAM is over `cap`."""
    est = estimate(model, device, folding, calib, clock_mhz, cap, base=base, cache=cache)
    specs = {eng.name: eng for eng in base.engines}
    over = est.total.bram36 - cap * device.bram36
    ddr: set[str] = set()
    for layer in sorted((la for la in est.layers if la.module in MAC_MODULES),
                        key=lambda la: -la.weight_bytes):
        if over <= 0:
            break
        key = (layer.name, layer.fold, True)
        if key not in cache:
            cache[key] = ddr_cost(fold_spec(specs[layer.name], layer.fold), calib)
        over -= layer.cost.bram36 - cache[key].bram36
        ddr.add(layer.name)
    if ddr:
        est = estimate(model, device, folding, calib, clock_mhz, cap, frozenset(ddr), 1,
                       base, cache)
        weights = sum(la.weight_bytes for la in est.ddr_layers)
        room = cap * device.ddr_gb_s * 1e9 - est.ddr_act_bytes * est.images_per_s
        batch = math.ceil(weights * est.images_per_s / room) if room > 0 else 1
        est = estimate(model, device, folding, calib, clock_mhz, cap, frozenset(ddr),
                       max(batch, 1), base, cache)
    return est


def optimise(model: ir.Model, device: Device, calib: Calibration,
             clock_mhz: float | None = None, cap: float = 0.8, pack: bool = True
             ) -> NetworkEstimate:
    """The fastest balanced folding of `model` within `cap` of `device` (see the module doc);
    if nothing fits, the fully unfolded design, whose `overflows()` say why."""
    clock = clock_mhz or device.fmax_mhz
    base = base_plan(model)
    floor = max(max(e.in_beats, e.out_beats) for e in base.engines)
    ceiling = max(e.cycles for e in base.engines)
    target, cache = floor, {}
    while True:
        est = with_ddr(model, device, balance(base, target, device, calib, cache, pack),
                       calib, clock, cap, base, cache)
        if est.fits:
            est.notes.append(f"target interval {target:,} cycles (stream floor {floor:,})")
            return est
        if target >= ceiling:
            est = with_ddr(model, device, {}, calib, clock, cap, base, cache)
            est.notes.append("does not fit even unfolded")
            return est
        target = min(ceiling, math.ceil(target * STEP))


def planned_folding(est: NetworkEstimate) -> dict[str, Folding]:
    """The folding of a plan, layers left at PE = SIMD = 1 omitted: what `hccr rtl --device`
    generates."""
    return {la.name: la.fold for la in est.layers if la.fold != Folding()}
