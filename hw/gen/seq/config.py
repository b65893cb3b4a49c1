"""One configuration of the layer-sequential engine: what is generated once, before any
network is compiled for it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from base.errors import HccrError
from hw.boards import Board
from quant import ir

TILE_BYTES = 64 * 1024  # default weight-tile buffer
BRAM_SHARE = 0.9  # of the device's block RAM for the buffers, by default
ACT_LIMIT = 1 << 20  # the program's 20-bit activation addresses
IP_INSTANCE = "seq_engine_0"  # the engine's cell in the board's block design (PYNQ's IP name)
BRAM18_ROWS = 2048  # bytes stored 8 bits wide in one RAMB18 (2K × 9: its parity unused)
# Ops whose multipliers the vector unit's product stage applies (ADD's two, REQUANT's M,
# PRELU's M_pos and M_neg): their requantiser gets M = 1, so a shift-only engine runs them.
PRODUCT_STAGE_M = frozenset({"add", "requant", "prelu"})


@dataclass(frozen=True)
class EngineConfig:
    """Parameters of one generated engine.

    Attributes:
        pe: output channels computed at once (MAC array rows).
        simd: input elements per PE per cycle (MAC array columns); also the vector unit's
            lanes and the activation buffer's read width in bytes.
        act_bytes: activation-buffer capacity (all images of a batch).
        tile_bytes: capacity of one of the two weight-tile buffers (double-buffered).
        axi_bytes: AXI4 data width in bytes (64-bit bus: 8).
        ddr_bytes_per_cycle: sustained DDR bytes per engine cycle the board gives (planning
            and the simulated DDR model).
        ddr_latency: cycles from a read request to its first data beat.
        clock_mhz: engine clock.
        max_c: most channels of a PRELU, GAVG or GWAP (the vector unit's per-channel RAMs).
        unit_m: shift-only requantisers (RTL parameter UNIT_M: no multiplier, no DSP48):
            programs for it carry every requantiser M = 1 (power-of-two IRs).
    """

    pe: int = 8
    simd: int = 16
    act_bytes: int = 256 * 1024
    tile_bytes: int = 16 * 1024
    axi_bytes: int = 8
    ddr_bytes_per_cycle: float = 8.0
    ddr_latency: int = 40
    clock_mhz: float = 200.0
    max_c: int = 1024
    unit_m: bool = False

    def __post_init__(self) -> None:
        for name in ("pe", "simd", "act_bytes", "tile_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"engine {name} must be ≥ 1, got {getattr(self, name)}")
        if self.pe > 255 or self.simd > 255:
            raise ValueError(f"PE {self.pe} and SIMD {self.simd} must be ≤ 255")
        if self.act_bytes > ACT_LIMIT:
            raise ValueError(f"activation buffer {self.act_bytes} B > 1 MiB (20-bit address)")


# (PE, SIMD) of the engine that fits xc7z020 shift-only (Yosys: 162 DSP48E1, 121 RAMB36,
# 44,587 LUT; docs/measurements.md): `hccr rtl --mode sequential`'s and the demo's default.
DEFAULT_ARRAY = (16, 16)


def rtl_problems(config: EngineConfig) -> list[str]:
    """What the RTL engine (hw/rtl/seq/) cannot be generated with; the program model is
    general, the hardware is not."""
    simd, pe = config.simd, config.pe
    why = []
    if simd & (simd - 1) or not 4 <= simd <= 64:
        why.append(f"SIMD {simd}: the RTL engine takes a power of two 4..64")
    if pe > simd or pe * simd % 8:
        why.append(f"PE {pe}: the RTL engine needs PE ≤ SIMD and PE·SIMD a multiple of 8")
    for name in ("act_bytes", "max_c"):
        if getattr(config, name) % simd:
            why.append(f"{name} {getattr(config, name)}: not a multiple of SIMD {simd}")
    return why


def board_config(board: Board, pe: int, simd: int, act_bytes: int | None = None,
                 tile_bytes: int = TILE_BYTES, clock_mhz: float = 200.0,
                 unit_m: bool = False) -> EngineConfig:
    """An engine for `board`: its DDR rate at `clock_mhz`, and by default the largest
    activation buffer (whole RAMB18s of 2K × 9 per bank, at most `ACT_LIMIT`) whose block RAM
    fits in `BRAM_SHARE` of the device's beside the two weight-tile buffers (PE·SIMD/8 lanes
    of 64-bit words, 512 × 72 per RAMB36)."""
    if act_bytes is None:
        lanes = max(pe * simd // 8, 1)
        tiles = lanes * math.ceil(2 * math.ceil(tile_bytes / 8 / lanes) / 512)
        ramb18s = int(2 * (BRAM_SHARE * board.device.bram36 - tiles)) // simd
        act_bytes = min(max(ramb18s, 1) * BRAM18_ROWS * simd, ACT_LIMIT // simd * simd)
    return EngineConfig(pe=pe, simd=simd, act_bytes=act_bytes, tile_bytes=tile_bytes,
                        ddr_bytes_per_cycle=board.ddr_bytes_per_cycle(clock_mhz),
                        clock_mhz=clock_mhz, unit_m=unit_m)


def unit_m_problem(op: ir.Op) -> str | None:
    """Why `op` needs a requantiser multiplier (M ≠ 1), or None when a shift-only engine
    runs it."""
    m = getattr(op, "multiplier", None)
    if op.kind not in PRODUCT_STAGE_M and m is not None and (np.asarray(m) != 1).any():
        return f"{op.name}: {op.kind} multiplier {int(np.max(m))} ≠ 1"
    return None


def shift_only(model: ir.Model) -> bool:
    """Whether every op of `model` runs on a shift-only engine (a power-of-two IR)."""
    return not any(unit_m_problem(op) for op in model.ops)


def check_unit_m(op: ir.Op, config: EngineConfig) -> None:
    """Refuse an op whose requantiser would need M ≠ 1 on a shift-only engine.

    Raises:
        HccrError: naming the op and its multiplier.
    """
    why = unit_m_problem(op) if config.unit_m else None
    if why:
        raise HccrError(f"{why}, but the engine is shift-only (unit_m: power-of-two IRs "
                        "only)")
