"""Cycles of a layer-sequential program, instruction by instruction: the engine's timing
contract (the RTL is built to it and its simulation is checked against it).

Per instruction, for a batch of B images (`ceil`: ⌈·⌉; C: the channels a pass walks):
- every instruction: `OVERHEAD` (fetch of its 64 bytes, decode, pipeline fill and drain);
  a `once` instruction runs for B = 1 (only `OVERHEAD` when the batch has no image `slot`);
- MAC: per output-channel tile, B·HO·WO·S·⌈L/SIMD⌉ array cycles (HO×WO: the conv's output,
  twice y's rows and columns when its max pool is fused, hw/gen/seq/pools.py), one chunk of SIMD
  contiguous input bytes per cycle: S = KH·KW segments of L = IC bytes (tap by tap), or, in
  row mode, S = KH kernel rows of L = KW·IC bytes (lanes of columns outside the image are
  masked); tiles stream from DDR double-buffered with the next tile's read issued while the
  current one's words arrive, so a tile costs max(its compute + `TILE_DRAIN`, the next tile's
  transfer), and only the first fetch's latency shows (plus `MAC_SETUP` per instruction);
  the first fetch is free when the previous MAC prefetched that tile (hw/gen/seq/prefetch.py),
  and a MAC that prefetches waits for the prefetched tile beyond its last tile's compute:
  its transfer, plus the DDR latency unless the tile queues behind the MAC's only tile;
- element-wise passes (COPY, REQUANT, LUT, PRELU): B·H·W·⌈C/SIMD⌉, twice that for ADD/MUL
  (two operands through one read port);
- window passes (MAXPOOL, AVGPOOL): B·HO·WO·KH·KW·⌈C/SIMD⌉;
- reductions (GAVG, GWAP, CHMAX, CHMEAN): B·H·W·⌈C/SIMD⌉ plus one write pass;
- LOAD/STORE: per image, DDR latency + bytes / DDR bytes per cycle, or the buffer accesses
  when a strided view (pitch ≠ C) takes more: one piece of at most one pixel per cycle;
- parameter fetches: DDR latency + bytes / DDR bytes per cycle;
- EXIT (hw/gen/seq/exits.py): for each image not yet done, one byte of the K logits per cycle
  in 2 passes (max, then Σ LUT), 6 when averaging (both tensors, then the scores), plus
  `EXIT_IMAGE`; the instructions an EXIT skips cost nothing (`batch_cycles`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hw.gen.seq import exits, pools, prefetch
from hw.gen.seq.compiler import Program, mac_segments
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.isa import Instruction, Opcode

OVERHEAD = 16
MAC_SETUP = 52  # MAC: setup of its address steps, the last tile's write-back
TILE_DRAIN = 1  # MAC: a tile's START cycle (its pixels drain under the next tile's beats)
EXIT_IMAGE = 16  # EXIT: per image, the passes' pipeline drains and the record's write
ELEMENTWISE = {Opcode.COPY, Opcode.REQUANT, Opcode.LUT, Opcode.PRELU}
BINARY = {Opcode.ADD, Opcode.MUL}
WINDOWED = {Opcode.MAXPOOL, Opcode.AVGPOOL}
REDUCTIONS = {Opcode.GAVG, Opcode.GWAP, Opcode.CHMAX, Opcode.CHMEAN}


def ddr_cycles(nbytes: int, cfg: EngineConfig) -> int:
    """One DDR transfer: latency, then the bytes at the board's sustained rate."""
    return cfg.ddr_latency + math.ceil(nbytes / cfg.ddr_bytes_per_cycle) if nbytes else 0


def _io_beats(ins: Instruction, cfg: EngineConfig) -> int:
    """Beats of a LOAD/STORE after its latency: the DDR transfer, or its buffer accesses when
    more (a strided view takes pieces of at most one pixel: up to min(8, SIMD) bytes written
    per cycle, SIMD read)."""
    p = "y" if ins.opcode == Opcode.LOAD else "a"
    h, w, c = ins[f"{p}_h"], ins[f"{p}_w"], ins[f"{p}_c"]
    width = min(8, cfg.simd) if ins.opcode == Opcode.LOAD else cfg.simd
    pieces = (math.ceil(ins["ddr_bytes"] / 8) if ins[f"{p}_pitch"] == c
              else h * w * math.ceil(c / width))
    return max(math.ceil(ins["ddr_bytes"] / cfg.ddr_bytes_per_cycle), pieces)


def mac_beats(ins: Instruction, simd: int, batch: int) -> int:
    """A MAC's array beats for one output-channel tile over a batch (module doc)."""
    segments, length = mac_segments((ins["kh"], ins["kw"]), ins["a_c"], bool(ins["row"]))
    return batch * math.prod(pools.conv_shape(ins)) * segments * math.ceil(length / simd)


def instruction_cycles(ins: Instruction, cfg: EngineConfig, batch: int,
                       prefetched: bool = False) -> int:
    """Cycles of one instruction over a batch (module doc); `prefetched`: a MAC whose first
    tile the previous MAC fetched."""
    op = ins.opcode
    if ins["once"]:  # one image, or skipped (fetched only) past a short last batch
        if ins["slot"] >= batch:
            return OVERHEAD
        batch = 1
    if op == Opcode.END:
        return OVERHEAD
    chunks = math.ceil(ins["a_c"] / cfg.simd)
    taps = ins["kh"] * ins["kw"]
    if op == Opcode.MAC:
        compute = mac_beats(ins, cfg.simd, batch)
        transfer = math.ceil(ins["tile_bytes"] / cfg.ddr_bytes_per_cycle)
        first = 0 if prefetched else cfg.ddr_latency + transfer
        tail = 0
        if pf := prefetch.target(ins):
            queued = ins["tiles"] == 1 and not prefetched
            tail = max(0, (0 if queued else cfg.ddr_latency)
                       + math.ceil(pf[1] / cfg.ddr_bytes_per_cycle) - compute)
        return (OVERHEAD + MAC_SETUP + first + tail
                + ins["tiles"] * max(compute + TILE_DRAIN, transfer))
    if op in (Opcode.LOAD, Opcode.STORE):
        return OVERHEAD + batch * (cfg.ddr_latency + _io_beats(ins, cfg))
    params = ddr_cycles(ins["ddr_bytes"], cfg)
    if op == Opcode.EXIT:
        return OVERHEAD + params + batch * ((6 if ins["b_c"] else 2) * ins["a_c"] + EXIT_IMAGE)
    pixels = ins["a_h"] * ins["a_w"]
    if op in ELEMENTWISE:
        work = pixels * chunks
    elif op in BINARY:
        work = 2 * pixels * chunks
    elif op in WINDOWED:
        work = ins["y_h"] * ins["y_w"] * taps * chunks
    elif op in REDUCTIONS:
        work = pixels * chunks + math.ceil(ins["y_c"] / cfg.simd)
    else:
        raise ValueError(f"no cycle model for {op!r}")
    return OVERHEAD + params + batch * work


def walk_cycles(body: Sequence[Instruction], cfg: EngineConfig,
                walk: Sequence[tuple[int, int]]) -> list[int]:
    """Cycles of each step (instruction index, images) of a walk through `body`."""
    return [instruction_cycles(body[i], cfg, n, hit)
            for (i, n), hit in zip(walk, prefetch.hits(body, walk), strict=True)]


def batch_cycles(body: Sequence[Instruction], cfg: EngineConfig, points: Sequence[int]) -> int:
    """Cycles of one batch whose images leave at exit `points` (one per image): the
    instructions it runs (`exits.executed`), each for its images."""
    return sum(walk_cycles(body, cfg, exits.executed(body, points)))


def program_cycles(program: Program, images: int | None = None) -> list[tuple[str, str, int]]:
    """(op, opcode, cycles) of every instruction over a batch of `images` (default: a whole
    batch), every instruction run."""
    body, n = program.instructions, images or program.header.batch
    cycles = walk_cycles(body, program.config, [(i, n) for i in range(len(body))])
    return [(ins.op, ins.opcode.name, c) for ins, c in zip(body, cycles, strict=True)]


def image_cycles(program: Program) -> float:
    """Cycles per image: a batch's cycles over its images."""
    return sum(c for _, _, c in program_cycles(program)) / program.header.batch
