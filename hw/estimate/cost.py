"""Resources of one engine: DSPs and block RAMs counted, LUTs and FFs from fitted functions.

Every op kind with an engine has here its `CostModel` (`COSTS`, registered against the kind,
which is also the engine's module): its memories (mapped by `hw.estimate.memory`) and the
features its LUT, FF and DSP functions are linear in; the network's `fifo` and `broadcast`
have theirs below. `hw/estimate/calibration.json` holds the fitted coefficients
(`make calibrate`). A module without a cost model or calibration raises NotImplementedError;
its cycles are the engine builder's (`hw.gen.engines`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hw.estimate.calibration import Calibration
from hw.estimate.memory import Memory, map_memory
from hw.gen.engines import PARAM_LANE_BITS, EngineSpec


@dataclass(frozen=True)
class Cost:
    """Resources of one engine (or FIFO); `bram36` counts a RAMB18 as half."""

    lut: float = 0.0
    ff: float = 0.0
    dsp: int = 0
    ramb18: int = 0
    ramb36: int = 0

    @property
    def bram36(self) -> float:
        return self.ramb36 + self.ramb18 / 2

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.lut + other.lut, self.ff + other.ff, self.dsp + other.dsp,
                    self.ramb18 + other.ramb18, self.ramb36 + other.ramb36)


def _p(eng: EngineSpec, key: str, default: int = 1) -> int:
    return int(eng.params.get(key, default))


def _log2(n: int) -> float:
    return math.log2(max(n, 2))


def mac_geometry(eng: EngineSpec) -> tuple[int, int, int, int]:
    """(weight ROM words, its width, line-buffer words, its width) of conv2d/dense."""
    pe, simd = _p(eng, "PE"), _p(eng, "SIMD")
    if eng.module == "dense":
        ic, oc, kk, sh, w = _p(eng, "N_IN"), _p(eng, "N_OUT"), 1, 1, 1
    else:
        ic, oc, sh, w = _p(eng, "IC"), _p(eng, "OC"), _p(eng, "SH"), _p(eng, "W")
        kk = _p(eng, "KH") * _p(eng, "KW")
    kh = 1 if eng.module == "dense" else _p(eng, "KH")
    return ((oc // pe) * kk * (ic // simd), pe * simd * 8, (kh + sh) * w * (ic // simd),
            simd * 8)


def multipliers(eng: EngineSpec) -> int:
    """Multipliers of the MAC array: PE×SIMD, or SIMD per PE lane pair when packed."""
    if eng.module not in ("conv2d", "dense"):
        return 0
    pe, simd = _p(eng, "PE"), _p(eng, "SIMD")
    return simd * (pe // 2 + pe % 2) if _p(eng, "PACK", 0) else pe * simd


def rom_width(eng: EngineSpec, suffix: str, width: int) -> int:
    """Bits of a ROM Yosys keeps: the columns of its image that are not constant (all of
    `width` when the engine carries no image, e.g. re-folded by the optimiser)."""
    words = next((w for f, (w, _) in eng.mems.items() if f.endswith(suffix)), None)
    if not words:
        return width
    ones, alls = 0, -1
    for w in words:
        ones |= w
        alls &= w
    return ((ones ^ alls) & ((1 << width) - 1)).bit_count()


def _fifo(eng: EngineSpec, width: int) -> Memory:
    return Memory("fifo", _p(eng, "FIFO_DEPTH", 16), width + 1)


def _mac_memories(eng: EngineSpec) -> list[Memory]:
    """conv2d, dense: weight and parameter ROMs, line buffer, output FIFO of PE lanes."""
    wdep, wwid, ldep, lwid = mac_geometry(eng)
    pe = _p(eng, "PE")
    nf = (_p(eng, "OC") if eng.module == "conv2d" else _p(eng, "N_OUT")) // pe
    return [Memory("weights", wdep, rom_width(eng, "_w.mem", wwid), True),
            Memory("params", nf, rom_width(eng, "_p.mem", pe * PARAM_LANE_BITS), True),
            Memory("line_buffer", ldep, lwid), _fifo(eng, pe * _p(eng, "OUT_W", 8))]


def _pool_memories(eng: EngineSpec) -> list[Memory]:
    """maxpool, avgpool: line buffer and output FIFO of SIMD lanes."""
    simd = _p(eng, "SIMD")
    ldep = (_p(eng, "KH") + _p(eng, "SH")) * _p(eng, "W") * (_p(eng, "C") // simd)
    return [Memory("line_buffer", ldep, simd * 8), _fifo(eng, simd * _p(eng, "OUT_W", 8))]


def _gwap_memories(eng: EngineSpec) -> list[Memory]:
    hwc, c = _p(eng, "H") * _p(eng, "W") * _p(eng, "C"), _p(eng, "C")
    return [Memory("weights", hwc, rom_width(eng, "_w.mem", 8), True),
            Memory("params", c, rom_width(eng, "_p.mem", 22), True),
            Memory("acc", c, 32), _fifo(eng, _p(eng, "OUT_W", 8))]


def _accumulator_memories(eng: EngineSpec) -> list[Memory]:
    """One accumulator per channel, then the output FIFO (global_avgpool)."""
    return [Memory("acc", _p(eng, "C"), 32), _fifo(eng, _p(eng, "OUT_W", 8))]


def _prelu_memories(eng: EngineSpec) -> list[Memory]:
    return [Memory("m_neg", _p(eng, "C"), rom_width(eng, "_neg.mem", 16), True),
            _fifo(eng, _p(eng, "OUT_W", 8))]


def _mul_memories(eng: EngineSpec) -> list[Memory]:
    gate = [Memory("gate", _p(eng, "C"), 9)] if eng.params.get("GATE") else []
    return [*gate, _fifo(eng, _p(eng, "OUT_W", 8))]


def _no_memories(eng: EngineSpec) -> list[Memory]:
    """A multiplexer (concat)."""
    return []


def _fifo_memories(eng: EngineSpec) -> list[Memory]:
    """Only the output FIFO (element-wise engines)."""
    return [_fifo(eng, _p(eng, "OUT_W", 8))]


def _mac_features(eng: EngineSpec) -> dict[str, float]:
    wdep, _, ldep, _ = mac_geometry(eng)
    pe, simd = _p(eng, "PE"), _p(eng, "SIMD")
    return {"one": 1.0, "mults": multipliers(eng), "pe": pe,
            "rq": 0 if _p(eng, "UNIT_M", 0) else pe, "simd": simd,
            "packed": pe * simd * _p(eng, "PACK", 0), "addr": _log2(wdep) + _log2(ldep)}


def _pool_features(eng: EngineSpec) -> dict[str, float]:
    return {"one": 1.0, "simd": _p(eng, "SIMD"), "addr": _log2(_pool_memories(eng)[0].depth)}


def _stream_features(eng: EngineSpec) -> dict[str, float]:
    """One element per cycle: a constant and the element counter."""
    return {"one": 1.0, "addr": _log2(eng.in_beats)}


@dataclass(frozen=True)
class CostModel:
    """An engine's part of the estimator.

    Attributes:
        memories: its memories (ROMs, line buffer, accumulators, its output FIFO).
        features: the quantities its fitted LUT/FF/DSP functions are linear in.
    """

    memories: Callable[[EngineSpec], list[Memory]]
    features: Callable[[EngineSpec], dict[str, float]]


_MAC = CostModel(_mac_memories, _mac_features)
_POOL = CostModel(_pool_memories, _pool_features)
_STREAM = CostModel(_fifo_memories, _stream_features)
COSTS: dict[str, CostModel] = {
    "conv2d": _MAC, "dense": _MAC, "maxpool": _POOL, "avgpool": _POOL,
    "global_avgpool": CostModel(_accumulator_memories, _stream_features),
    "gwap": CostModel(_gwap_memories, _stream_features),
    "reduce_channels": _STREAM, "add": _STREAM,
    "mul": CostModel(_mul_memories, _stream_features),
    "concat": CostModel(_no_memories, _stream_features),
    "requant": _STREAM, "sigmoid": _STREAM,
    "prelu": CostModel(_prelu_memories, _stream_features),
}


def cost_model(eng: EngineSpec) -> CostModel:
    """The cost model of an engine's module.

    Raises:
        NotImplementedError: the module has none.
    """
    model = COSTS.get(eng.module)
    if model is None:
        raise NotImplementedError(f"no cost model for engine module {eng.module} "
                                  "(hw/estimate/cost.py COSTS)")
    return model


def memories(eng: EngineSpec) -> list[Memory]:
    """The memories of one engine (ROMs, line buffer, accumulators, its output FIFO)."""
    return cost_model(eng).memories(eng)


def features(eng: EngineSpec) -> dict[str, float]:
    """The quantities the module's LUT/FF/DSP functions are linear in."""
    return cost_model(eng).features(eng)


def memory_cost(mems: list[Memory]) -> Cost:
    """Block RAMs of `mems` (distributed RAM is inside the fitted LUTs)."""
    maps = [map_memory(m) for m in mems]
    return Cost(ramb18=sum(m.ramb18 for m in maps), ramb36=sum(m.ramb36 for m in maps))


def fitted(module: str, feats: dict[str, float], calib: Calibration) -> Cost:
    """LUT, FF and DSP of `module` from its fitted functions.

    Raises:
        NotImplementedError: `module` has no calibration.
    """
    fit = calib.modules.get(module)
    if fit is None:
        raise NotImplementedError(f"no calibration for engine module {module} "
                                  "(run `make calibrate`)")
    lut, ff, dsp = (sum(coef * feats[k] for k, coef in fit[q].items())
                    for q in ("lut", "ff", "dsp"))
    return Cost(max(lut, 0.0), max(ff, 0.0), max(round(dsp), 0))


def engine_cost(eng: EngineSpec, calib: Calibration) -> Cost:
    """Resources of one engine."""
    return fitted(eng.module, features(eng), calib) + memory_cost(memories(eng))


def fifo_cost(width: int, depth: int, calib: Calibration) -> Cost:
    """Resources of one `fifo.sv` between engines."""
    feats = {"one": 1.0, "width": float(width), "addr": _log2(depth),
             "lutram": float(map_memory(Memory("fifo", depth, width + 1)).lutram)}
    return (fitted("fifo", feats, calib)
            + memory_cost([Memory("fifo", depth, width + 1)]))


def fork_cost(width: int, outs: int, calib: Calibration) -> Cost:
    """Resources of one `broadcast.sv` to `outs` readers."""
    return fitted("broadcast", {"one": 1.0, "outs": float(outs), "width": float(width)}, calib)

