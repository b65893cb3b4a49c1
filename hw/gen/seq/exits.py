"""Early exits on the layer-sequential engine (docs/early_exit.md): the EXIT instruction's table
in the data block, its decision, the result record, and which instructions a batch runs.

An EXIT reads its exit point's logits (view a; view b too at a point that averages two) and a
table at ddr_off: one 8-byte word `T` (uint32), `len_a`, `len_b` (uint16), then `len_a` +
`len_b` uint32 LUT entries (LUT a, then LUT b). For each image of the batch not yet done:
`S_a = Σ_j LUT_a[max(a) − a_j]` (0 beyond the table); when `S_a ≤ T` the image leaves: its
result record (`RESULT`, 4 bytes: class uint16, point, 1) is written and the image is done.
A last point has `T = ALWAYS` (S fits int31, so it always passes); one that averages picks the
first maximum of `E^a_j·S_b + E^b_j·S_a`, otherwise the first maximum of a. The controller
keeps a per-image done mask for the batch (cleared by the EXIT of point 0); when every image of
the batch is done it continues at the EXIT's `next`: the STORE of the result records. Images
of a batch that left while others go on are still computed by the later instructions (their
records are kept): work is saved when a whole batch has left, so batch 1 saves the most.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from base.errors import HccrError
from hw.gen.seq.isa import Instruction, Opcode
from quant import golden, ir

RESULT = "exit_result"  # the result record's pseudo tensor (activation buffer and output)
RESULT_SHAPE = (1, 1, 4)  # class low, class high, exit point, 1 (a record was written)
ALWAYS = 2**31 - 1  # the threshold of a last point: every image passes
EXIT_CLASS, EXIT_POINT = "exit:class", "exit:point"  # the result's fields as results name them


def with_result(model: ir.Model) -> ir.Model:
    """`model` with the result record as a tensor, when it has exits (the compiler places it
    as a region and stores it like an output)."""
    if not model.exits:
        return model
    if RESULT in model.tensors:
        raise HccrError(f"tensor '{RESULT}': the name is the engine's exit record")
    spec = ir.TensorSpec(RESULT, RESULT_SHAPE, "uint8", 1.0, 0)
    return dataclasses.replace(model, tensors={**model.tensors, RESULT: spec})


def emit_ready(b: Any, done: set[str]) -> None:
    """Emit the EXIT of each next exit point whose logits are all complete (`b`: the
    compiler's builder; `done`: the tensors complete so far)."""
    from hw.gen.seq.compiler import _view_fields  # the compiler imports this module

    points = b.model.exits
    emitted = sum(ins.opcode == Opcode.EXIT for ins in b.instructions)
    while emitted < len(points) and set(points[emitted].logits) <= done:
        point = points[emitted]
        off, size = b.blob(table(point, emitted == len(points) - 1))
        views = [_view_fields(p, b.view(t)) for p, t in zip("ab", point.logits, strict=False)]
        b.emit(Opcode.EXIT, point.name, (), **{k: v for f in views for k, v in f.items()},
               **_view_fields("y", b.view(RESULT)), point=emitted, ddr_off=off,
               ddr_bytes=size)
        emitted += 1


def emit_result_store(b: Any, offset: int) -> int:
    """Emit the STORE of the result record at `offset` of the output record, when the model
    has exits; the output record's size after it."""
    from hw.gen.seq.compiler import ALIGN, _view_fields  # the compiler imports this module

    if not b.model.exits:
        return offset
    b.emit(Opcode.STORE, RESULT, (), **_view_fields("a", b.view(RESULT)), ddr_off=offset,
           ddr_bytes=RESULT_SHAPE[2])
    return offset + ALIGN


def link(instructions: Sequence[Instruction]) -> None:
    """Point every EXIT's `next` at the STORE of the result record."""
    store = [i for i, ins in enumerate(instructions)
             if ins.opcode == Opcode.STORE and ins.op == RESULT]
    for ins in instructions:
        if ins.opcode == Opcode.EXIT:
            ins.fields["next"] = store[0]


def check_whole(model: ir.Model, batch: int, need: Callable[[int], int], cap: int) -> None:
    """Refuse a batch of a model with exits that does not fit the activation buffer whole:
    the compiler would split it (the head run image by image), and an EXIT there cannot end
    the batch. `need(b)`: the bytes a whole batch of b needs; `cap`: the buffer's.

    Raises:
        HccrError: names the first exit point, the bytes and the largest batch that fits
            (none when one image does not fit: the compiler's own error says why).
    """
    if not model.exits or batch == 1 or need(1) > cap:
        return
    fits = max(b for b in range(1, batch) if need(b) <= cap)
    raise HccrError(f"exit '{model.exits[0].name}': a batch of {batch} needs {need(batch):,} "
                    f"bytes of activations, more than the engine's {cap:,}-byte buffer, and a "
                    "model with early exits runs each batch whole (an EXIT ends the batch); "
                    f"use a batch of at most {fits}")


def result_offset(instructions: Sequence[Instruction]) -> int | None:
    """Where the result record lies in an output record (None: a program without exits)."""
    for ins in instructions:
        if ins.opcode == Opcode.EXIT:
            return instructions[ins["next"]]["ddr_off"]
    return None


def table(point: ir.ExitPoint, last: bool) -> bytes:
    """An exit point's table in the data block (module doc)."""
    luts = [np.asarray(lut, "<u4") for lut in point.luts]
    luts += [np.zeros(0, "<u4")] * (2 - len(luts))
    threshold = ALWAYS if last or point.threshold is None else point.threshold
    head = np.array([threshold], "<u4").tobytes() + np.array(
        [len(luts[0]), len(luts[1])], "<u2").tobytes()
    return head + luts[0].tobytes() + luts[1].tobytes()


def parse_table(raw: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(T, LUT a, LUT b) of an exit table's bytes."""
    threshold = int(raw[0:4].copy().view("<u4")[0])
    len_a, len_b = (int(v) for v in raw[4:8].copy().view("<u2"))
    entries = raw[8:8 + 4 * (len_a + len_b)].copy().view("<u4").astype(np.int64)
    return threshold, entries[:len_a], entries[len_a:]


def decide(a: np.ndarray, b: np.ndarray | None, raw: np.ndarray) -> tuple[bool, int]:
    """(whether the image leaves, its class) for one image's logits (int64, any shape) and
    its point's table bytes: the EXIT instruction's rule."""
    threshold, lut_a, lut_b = parse_table(raw)
    a = a.reshape(1, -1)
    ea = golden.exit_terms(a, lut_a)
    passed = int(ea.sum()) <= threshold
    if b is None:
        return passed, int(a.argmax())
    eb = golden.exit_terms(b.reshape(1, -1), lut_b)
    return passed, int((ea * eb.sum() + eb * ea.sum()).argmax())


def result_record(cls: int, point: int) -> np.ndarray:
    """The 4 bytes EXIT writes for an image that leaves."""
    return np.array([cls & 0xFF, cls >> 8, point, 1], np.uint8).reshape(RESULT_SHAPE)


def read_results(raw: bytes, output_bytes: int, offset: int, images: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class, exit point, whether a record was written) per image from `images` output
    records (offset: the result's)."""
    rec = np.frombuffer(raw, np.uint8)[:images * output_bytes].reshape(images, output_bytes)
    res = rec[:, offset:offset + 4].astype(np.int64)
    return res[:, 0] | res[:, 1] << 8, res[:, 2], res[:, 3] == 1


def unpack_results(raw: bytes, output_bytes: int, offset: int, images: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(class, exit point) per image from `images` output records (offset: the result's).

    Raises:
        ValueError: an image without a result record (names the first 8).
    """
    classes, points, written = read_results(raw, output_bytes, offset, images)
    if not written.all():
        raise ValueError(f"images {np.flatnonzero(~written)[:8].tolist()} have no exit record")
    return classes, points


def executed(body: Sequence[Instruction], points: Sequence[int]) -> list[tuple[int, int]]:
    """(instruction index, images it runs for) of one batch whose images leave at `points`:
    the controller's walk (an EXIT runs for the images not yet done, every other instruction
    for the whole batch; once all are done, on to the EXIT's `next`)."""
    left, index, out = len(points), 0, []
    while index < len(body):
        ins = body[index]
        out.append((index, left if ins.opcode == Opcode.EXIT else len(points)))
        if ins.opcode == Opcode.END:
            break
        if ins.opcode == Opcode.EXIT:
            left -= sum(p == ins["point"] for p in points)
            if left == 0:
                index = ins["next"]
                continue
        index += 1
    return out

