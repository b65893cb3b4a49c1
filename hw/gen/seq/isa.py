"""The layer-sequential engine's program format: one table of fields, read by the compiler,
the NumPy program model, the driver and the docs (docs/seq_program.md is generated from it).

A program is a header followed by instructions, each `WORDS` little-endian 64-bit words.
Every field has a fixed bit position inside its record (`FIELDS`, LSB first over the record);
a field an opcode does not use is zero. Tensor views name on-chip activation-buffer regions:
pixel `(y, x)` channel `c` of image `b` is the byte at
`base + b·act_image_bytes + (y·w + x)·pitch + c`, so a concat is its inputs written at channel
offsets of one region and a reshape is a second view of the same bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import NamedTuple

WORD_BITS = 64
WORDS = 8  # 64-bit words per instruction and per header
MAGIC = 0x51455348  # "HSEQ"
VERSION = 1
POOL_ROW = 64  # MAC pool: most pooled pixels per row (the write-back's line buffer)


class Opcode(enum.IntEnum):
    """What an instruction does (`SEMANTICS` says how)."""

    END = 0
    LOAD = 1
    STORE = 2
    MAC = 3
    REQUANT = 4
    ADD = 5
    MUL = 6
    LUT = 7
    PRELU = 8
    MAXPOOL = 9
    AVGPOOL = 10
    GAVG = 11
    GWAP = 12
    CHMAX = 13
    CHMEAN = 14
    COPY = 15
    EXIT = 16


SEMANTICS: dict[Opcode, str] = {
    Opcode.END: "end of the program: the batch is done",
    Opcode.LOAD: "image bytes from DDR (INPUT_BASE + image·input_bytes + ddr_off) into view y",
    Opcode.STORE: "view a into the image's output record (OUTPUT_BASE + image·output_bytes + off)",
    Opcode.MAC: "conv2d / dense on the PE×SIMD array: y = sat(zy + rq(bias + Σ_window "
                "(a − za)·w, M[c], s[c])), pads contribute 0, tiles from DDR; with `pool`, "
                "y is the 2×2 stride-2 max pool of that",
    Opcode.REQUANT: "y = sat(zy + rq(a − za, mult, shift))",
    Opcode.ADD: "y = sat(zy + ((a − za)·mult + (b − zb)·mult2 + r) >> shift)",
    Opcode.MUL: "y = sat(zy + rq((a − za)·(b − zb), mult, shift)), b broadcast per `bcast`",
    Opcode.LUT: "y = table[a − lo(a)], the 256-byte table from DDR (sigmoid)",
    Opcode.PRELU: "y = sat(zy + ((a − za)·(mult if a ≥ za else M_neg[c]) + r) >> shift)",
    Opcode.MAXPOOL: "y = max over the window (pads never win)",
    Opcode.AVGPOOL: "y = sat(zy + rq(Σ window (a − za), mult, shift))",
    Opcode.GAVG: "global average pool: y[c] = sat(zy + rq(Σ_hw (a − za), mult, shift))",
    Opcode.GWAP: "y[c] = sat(zy + rq(Σ_hw (a − za)·w[h, w, c], M[c], s[c])), w from DDR",
    Opcode.CHMAX: "y[h, w] = max_c a[h, w, c]",
    Opcode.CHMEAN: "y[h, w] = sat(zy + rq(Σ_c (a − za), mult, shift))",
    Opcode.COPY: "y = a (a concat input that cannot be written in place)",
    Opcode.EXIT: "early exit `point` (docs/early_exit.md): for each image of the batch not yet "
                 "done, the exit test on logits a (and b: averaging) with the table at ddr_off; "
                 "when it passes, y = (class, point) and the image is done; when every image "
                 "of the batch is done, continue at instruction `next`",
}


class Bcast(enum.IntEnum):
    """How MUL's second input `b` spreads over `a`."""

    NONE = 0
    CHANNEL = 1  # b is [1, 1, C]: one value per channel
    PIXEL = 2  # b is [H, W, 1]: one value per pixel


class Field(NamedTuple):
    name: str
    bits: int
    signed: bool
    doc: str


def _view(p: str, what: str) -> list[Field]:
    return [Field(f"{p}_base", 20, False, f"{what}: activation-buffer byte address"),
            Field(f"{p}_pitch", 16, False, f"{what}: bytes from one pixel to the next"),
            Field(f"{p}_h", 12, False, f"{what}: height"),
            Field(f"{p}_w", 12, False, f"{what}: width"),
            Field(f"{p}_c", 16, False, f"{what}: channels"),
            Field(f"{p}_zp", 9, True, f"{what}: zero point"),
            Field(f"{p}_signed", 1, False, f"{what}: 1 int8, 0 uint8")]


FIELDS: tuple[Field, ...] = (
    Field("opcode", 5, False, "`Opcode`"),
    Field("relu", 1, False, "MAC: the output's lower limit is its zero point"),
    Field("bcast", 2, False, "MUL: `Bcast` of input b"),
    Field("row", 1, False, "MAC: reduce by kernel rows (KW·IC contiguous bytes), else by taps"),
    *_view("a", "input a"), *_view("b", "input b"), *_view("y", "output y"),
    Field("kh", 8, False, "window height (MAC, MAXPOOL, AVGPOOL)"),
    Field("kw", 8, False, "window width"),
    Field("sh", 4, False, "vertical stride"),
    Field("sw", 4, False, "horizontal stride"),
    Field("pad_t", 4, False, "rows of padding above"),
    Field("pad_b", 4, False, "rows of padding below"),
    Field("pad_l", 4, False, "columns of padding left"),
    Field("pad_r", 4, False, "columns of padding right"),
    Field("mult", 16, False, "scalar multiplier M (1 … 2^15), ADD's M1, PRELU's M_pos"),
    Field("mult2", 16, False, "ADD's M2"),
    Field("shift", 6, False, "scalar shift s (0 … 46)"),
    Field("ddr_off", 32, False, "byte offset from DATA_BASE of the op's parameters "
          "(LOAD/STORE: offset inside the image's input/output record)"),
    Field("ddr_bytes", 32, False, "bytes at ddr_off (MAC: the whole weight + parameter block)"),
    Field("tiles", 16, False, "MAC: output-channel tiles of PE channels"),
    Field("tile_bytes", 23, False, "MAC: bytes of one tile (parameters, then weights)"),
    Field("pool", 1, False, "MAC: y is the 2×2 stride-2 max pool of the conv's output "
          f"(2·y_h × 2·y_w pixels), pooled at the write-back (y_w at most {POOL_ROW})"),
    Field("point", 8, False, "EXIT: the exit point's index"),
    Field("next", 16, False, "EXIT: the instruction to continue at once the batch is done"),
    Field("once", 1, False, "run for one image of the batch only, image `slot`, at the "
          "addresses given (no image offset); skipped when the batch has no image `slot`"),
    Field("slot", 8, False, "once: the image of the batch it runs for"),
    Field("pf_words", 15, False, "MAC: 8-byte words of the tile to prefetch (the next MAC's "
          "first) into the free tile buffer once this MAC's tiles are fetched; 0: none"),
    Field("pf_gap", 15, True, "MAC: 8-byte words from the end of this MAC's block to the tile "
          "to prefetch"),
)

HEADER: tuple[Field, ...] = (
    Field("magic", 32, False, f"0x{MAGIC:08X}"),
    Field("version", 8, False, "program format version"),
    Field("pe", 8, False, "PE lanes the program was compiled for"),
    Field("simd", 8, False, "SIMD lanes the program was compiled for"),
    Field("batch", 8, False, "images per pass over the weights"),
    Field("instructions", 24, False, "instructions after the header"),
    Field("act_bytes", 24, False, "activation-buffer bytes the program needs"),
    Field("act_image_bytes", 24, False, "activation-buffer bytes between two images"),
    Field("input_bytes", 24, False, "bytes of one input record in DDR (multiple of 8)"),
    Field("output_bytes", 24, False, "bytes of one output record in DDR (multiple of 8)"),
    Field("data_bytes", 32, False, "bytes of the data block (weights, parameters, tables)"),
    Field("unit_m", 1, False, "1: compiled for a shift-only engine (every requantiser M is 1)"),
)

for _table in (FIELDS, HEADER):
    assert sum(f.bits for f in _table) <= WORDS * WORD_BITS, "record wider than WORDS words"


def _pack(table: tuple[Field, ...], values: dict[str, int]) -> bytes:
    acc, pos = 0, 0
    for f in table:
        v = int(values.get(f.name, 0))
        lo, hi = (-(1 << (f.bits - 1)), (1 << (f.bits - 1)) - 1) if f.signed else (
            0, (1 << f.bits) - 1)
        if not lo <= v <= hi:
            raise ValueError(f"field {f.name} = {v} does not fit {f.bits} bits")
        acc |= (v & ((1 << f.bits) - 1)) << pos
        pos += f.bits
    return acc.to_bytes(WORDS * WORD_BITS // 8, "little")


def _unpack(table: tuple[Field, ...], raw: bytes) -> dict[str, int]:
    acc, pos, out = int.from_bytes(raw, "little"), 0, {}
    for f in table:
        v = (acc >> pos) & ((1 << f.bits) - 1)
        if f.signed and v >> (f.bits - 1):
            v -= 1 << f.bits
        out[f.name] = v
        pos += f.bits
    return out


RECORD_BYTES = WORDS * WORD_BITS // 8


@dataclass
class Instruction:
    """One instruction; `fields` holds the non-zero fields by name. `produces` (IR tensors
    complete after it) and `op` (the IR op it comes from) are compiler notes, not encoded."""

    opcode: Opcode
    fields: dict[str, int] = field(default_factory=dict)
    op: str = ""
    produces: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> int:
        return self.fields.get(name, 0)

    def encode(self) -> bytes:
        return _pack(FIELDS, {**self.fields, "opcode": int(self.opcode)})

    @classmethod
    def decode(cls, raw: bytes) -> Instruction:
        values = _unpack(FIELDS, raw)
        return cls(Opcode(values.pop("opcode")), {k: v for k, v in values.items() if v})


@dataclass(frozen=True)
class Header:
    """The program header (field meanings in `HEADER`)."""

    pe: int
    simd: int
    batch: int
    instructions: int
    act_bytes: int
    act_image_bytes: int
    input_bytes: int
    output_bytes: int
    data_bytes: int
    version: int = VERSION
    magic: int = MAGIC
    unit_m: int = 0

    def encode(self) -> bytes:
        return _pack(HEADER, {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def decode(cls, raw: bytes) -> Header:
        return cls(**_unpack(HEADER, raw))


def field_table(table: tuple[Field, ...]) -> str:
    """A Markdown table of a record's fields with their bit positions."""
    rows, pos = ["| bits | field | signed | meaning |", "|---|---|---|---|"], 0
    for f in table:
        rows.append(f"| {pos + f.bits - 1}:{pos} | `{f.name}` | {'yes' if f.signed else ''} "
                    f"| {f.doc} |")
        pos += f.bits
    return "\n".join(rows)
