"""One configuration of the layer-sequential engine: what is generated once, before any
network is compiled for it."""

from __future__ import annotations

from dataclasses import dataclass

from hw.boards import Board

TILE_BYTES = 64 * 1024  # default weight-tile buffer
BRAM_SHARE = 0.9  # of the device's block RAM for the buffers, by default


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

    def __post_init__(self) -> None:
        for name in ("pe", "simd", "act_bytes", "tile_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"engine {name} must be ≥ 1, got {getattr(self, name)}")
        if self.pe > 255 or self.simd > 255:
            raise ValueError(f"PE {self.pe} and SIMD {self.simd} must be ≤ 255")
        if self.act_bytes > 1 << 20:
            raise ValueError(f"activation buffer {self.act_bytes} B > 1 MiB (20-bit address)")


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
                 tile_bytes: int = TILE_BYTES, clock_mhz: float = 200.0) -> EngineConfig:
    """An engine for `board`: its DDR rate at `clock_mhz`, and by default an activation
    buffer of `BRAM_SHARE` of the device's block RAM less the two weight-tile buffers (a
    multiple of SIMD)."""
    if act_bytes is None:
        act_bytes = int(BRAM_SHARE * board.device.bram_bytes - 2 * tile_bytes) // simd * simd
    return EngineConfig(pe=pe, simd=simd, act_bytes=act_bytes, tile_bytes=tile_bytes,
                        ddr_bytes_per_cycle=board.ddr_bytes_per_cycle(clock_mhz),
                        clock_mhz=clock_mhz)
