"""docs/seq_program.md, generated from the program format's tables (`python -m
hw.gen.seq.docs` rewrites it; a test keeps it equal to this output)."""

from __future__ import annotations

from base.paths import ROOT
from hw.gen.seq.compiler import ALIGN, PARAM_BYTES
from hw.gen.seq.cycles import OVERHEAD
from hw.gen.seq.cycles import __doc__ as CYCLES
from hw.gen.seq.isa import FIELDS, HEADER, RECORD_BYTES, SEMANTICS, Bcast, field_table

PATH = ROOT / "docs" / "seq_program.md"


def program_doc() -> str:
    """The whole page."""
    opcodes = "\n".join(f"| {op.value} | `{op.name}` | {text} |" for op, text in
                        SEMANTICS.items())
    bcast = ", ".join(f"{b.value} = {b.name.lower()}" for b in Bcast)
    return f"""# Layer-sequential engine: program and DDR image

Generated from `hw/gen/seq/isa.py` by `python -m hw.gen.seq.docs`; do not edit by hand.

The engine runs a *program* that the compiler (`hw/gen/seq/compiler.py`) makes from an
integer IR model. Four DDR areas, each at a base address written into the engine's
registers (docs/seq_registers.md):

| area | register | contents |
|---|---|---|
| program | `PROGRAM_BASE` | a header, then the instructions, {RECORD_BYTES} bytes each |
| data | `DATA_BASE` | weights, per-channel parameters and tables, each block {ALIGN}-byte aligned |
| input | `INPUT_BASE` | one *input record* per image, `input_bytes` each |
| output | `OUTPUT_BASE` | one *output record* per image, `output_bytes` each |

Records and instructions are little-endian: bit 0 of a record is bit 0 of its first byte,
and the fields below follow each other from bit 0 up (a field an opcode does not use is 0).

## Header

{field_table(HEADER)}

The engine refuses a program whose magic, version, PE or SIMD differ from its own
(`ERROR_CODE` 3). Images run in batches of `batch`: every instruction runs for each image of
the batch before the next instruction, so a weight tile fetched once serves the batch.

## Instruction

{field_table(FIELDS)}

### Opcodes

`sat(v)` clips `v` to the output dtype's range (lower limit `zy` when `relu` is set);
`rq(acc, M, s) = (acc·M + r) >> s` with `r = 2^(s−1)` (0 when s = 0), an arithmetic shift,
as in the integer IR. MUL's `bcast`: {bcast}.

| code | opcode | semantics |
|---|---|---|
{opcodes}

### Views

A view (`a`, `b`, `y`) is a tensor in the on-chip activation buffer: pixel `(h, w)`, channel
`c` of the batch's image `n` is the byte at
`base + n·act_image_bytes + (h·width + w)·pitch + c`. A concat's inputs are views of its
output at channel offsets (`pitch` = the concat's channels), a reshape is a second view of
its input's bytes. Values are int8 when `signed` is set, else uint8.

## Data block

- **MAC** (conv2d; dense is a conv whose kernel covers its whole input): `tiles` tiles of
  `tile_bytes` each, tile `t` serving output channels `t·PE … t·PE + PE − 1`. A tile is PE
  parameter words of {PARAM_BYTES} bytes (folded bias int32, multiplier uint16, shift uint8,
  one pad byte), then for each tap `(i, j)` (row-major) and each chunk `k` of SIMD input channels a
  PE×SIMD block of int8 weights, `block[q][s] = w[i, j, k·SIMD + s, t·PE + q]`, zero past
  the last channel; the tile is zero-padded to a multiple of {ALIGN} bytes. This is the order
  in which the array consumes them: one block per cycle. The array's operands are int8: a
  uint8 input enters as `x − 128`, its zero point as `za' = za − 128` (`za' = za` for int8),
  and a padded or masked lane holds `za'`; so the array sums `x'·w` over every lane and the
  parameter word holds `bias' = bias − za'·Σw` (the sum over all of the channel's weights),
  which makes the total `bias + Σ (x − za)·w` with padding contributing 0. The zero point
  costs the hardware nothing at run time.
- **LUT**: 256 bytes, entry `v − lo` for input value `v`.
- **PRELU**: the negative-slope multipliers, uint16 per channel.
- **GWAP**: one parameter word per channel (as a MAC tile's, bias 0), then the weights
  `[H, W, C]` int8 in HWC order.

## Input and output records

An image's input record holds every graph input, HWC bytes, each starting at a multiple of
{ALIGN} bytes; its output record likewise holds every graph output, written by STORE
instructions as soon as the output is computed. An input whose first conv reads it
*stacked* (`stacked` in `program.json`: KH and pad_t) is in its record as `[H, W, KH·C]`:
channel block i of row y holds input row y + i − pad_t, the input's zero point where that
row lies outside the image (`hw.gen.seq.records.stack_rows`; the driver packs it so), so
that the conv reads one KH·KW·C-byte run per output pixel.

## Timing

{CYCLES}
`OVERHEAD` = {OVERHEAD} cycles.
"""


def main() -> None:
    PATH.write_text(program_doc())


if __name__ == "__main__":
    main()
