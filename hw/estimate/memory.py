"""Which primitives Yosys `synth_xilinx -family xc7` maps one memory onto.

The rules and costs of Yosys's `memory_libmap` for 7-series (share/xilinx/brams_xc4v.txt,
lutrams_xc5v.txt): a block RAM is a RAMB18 (cost 129; 16K×1, 8K×2, 4K×4, 2K×9, 1K×18 and
512×36 in simple dual port) or a RAMB36 (cost 257; 32K×1 … 1K×36, 512×72); distributed RAM
is RAM32M (32×6, cost 8) or RAM64M (64×3, cost 8), four LUTs each. The cheapest option wins;
ROMs marked `rom_style = "block"` always take block RAM; Yosys first drops the ROM's constant
bit columns (`hw.estimate.cost.rom_width`), and a ROM with none left takes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# (depth, width) per primitive, then its cost.
RAMB18 = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
RAMB36 = ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72))
LUTRAM = ((32, 6), (64, 3))
COST_18, COST_36, COST_LUTRAM = 129, 257, 8
LUTS_PER_LUTRAM = 4


@dataclass(frozen=True)
class Memory:
    """One memory of an engine: `depth` words of `width` bits; `block` if forced to BRAM."""

    name: str
    depth: int
    width: int
    block: bool = False


@dataclass(frozen=True)
class Mapping:
    """Primitives for one memory."""

    ramb18: int = 0
    ramb36: int = 0
    lutram: int = 0

    @property
    def bram36(self) -> float:
        return self.ramb36 + self.ramb18 / 2


def _tiles(depth: int, width: int, shapes: tuple[tuple[int, int], ...]) -> int:
    """Fewest primitives of one kind covering depth × width."""
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in shapes)


def map_memory(mem: Memory) -> Mapping:
    """The cheapest mapping of `mem` (see the module doc)."""
    if mem.depth == 0 or mem.width == 0:
        return Mapping()
    n18, n36 = _tiles(mem.depth, mem.width, RAMB18), _tiles(mem.depth, mem.width, RAMB36)
    block = (Mapping(ramb18=n18) if n18 * COST_18 < n36 * COST_36 else Mapping(ramb36=n36))
    block_cost = min(n18 * COST_18, n36 * COST_36)
    if mem.block:
        return block
    nlut = _tiles(mem.depth, mem.width, LUTRAM)
    return Mapping(lutram=nlut) if nlut * COST_LUTRAM <= block_cost else block
