"""A MAC's first weight tile fetched under the previous MAC (docs/sequential_engine.md).

The compiler names in each MAC the first tile of the next MAC in program order (`pf_words`,
`pf_gap`); the engine fetches it into the free tile buffer once the MAC's own tiles are
fetched, and the next MAC to run starts on it when its first tile is that one (same DDR offset
and size), else drops it and fetches its own (an EXIT that jumps, a `once` instruction a short
batch skips)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from hw.gen.seq.isa import FIELDS, Instruction, Opcode

WORD = 8  # the fields count 8-byte words
_BITS = {f.name: f.bits for f in FIELDS}


def target(ins: Instruction) -> tuple[int, int] | None:
    """(DDR offset, bytes) of the tile a MAC prefetches, or None."""
    if ins.opcode != Opcode.MAC or not ins["pf_words"]:
        return None
    end = ins["ddr_off"] + ins["tiles"] * ins["tile_bytes"]
    return end + WORD * ins["pf_gap"], WORD * ins["pf_words"]


def link(instructions: Sequence[Instruction]) -> None:
    """Point each MAC's prefetch at the next MAC's first tile where the fields can say it."""
    macs = [ins for ins in instructions if ins.opcode == Opcode.MAC]
    gap_limit = 1 << (_BITS["pf_gap"] - 1)
    for cur, nxt in itertools.pairwise(macs):
        gap, rest = divmod(nxt["ddr_off"] - cur["ddr_off"] - cur["tiles"] * cur["tile_bytes"],
                           WORD)
        words, odd = divmod(nxt["tile_bytes"], WORD)
        if rest or odd or not -gap_limit <= gap < gap_limit or words >> _BITS["pf_words"]:
            continue
        cur.fields["pf_words"] = words
        if gap:
            cur.fields["pf_gap"] = gap


def hits(body: Sequence[Instruction], walk: Iterable[tuple[int, int]]) -> list[bool]:
    """Per step (instruction index, images) of a walk: whether it is a MAC whose first tile
    the previous MAC that ran prefetched."""
    out, pending = [], None
    for index, images in walk:
        ins = body[index]
        runs = ins.opcode == Opcode.MAC and not (ins["once"] and ins["slot"] >= images)
        out.append(runs and pending == (ins["ddr_off"], ins["tile_bytes"]))
        if runs:
            pending = target(ins)
    return out
