"""The NumPy model of the layer-sequential engine: it executes an encoded program on an
activation buffer and a DDR image as the hardware does (same addresses, same data-block
layout), so that a program can be checked against golden before any RTL runs.

It reads only what the engine reads: the encoded program, the data block and the input
records. Arithmetic is the IR's (golden's requantiser); sums are exact in float64 (int8
operands, reductions far below 2^53).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hw.gen.seq import exits, pools
from hw.gen.seq.compiler import mac_segments
from hw.gen.seq.isa import RECORD_BYTES, Bcast, Header, Instruction, Opcode
from quant.golden import requantize

Hook = Callable[[int, int, np.ndarray], None]  # (instruction, image, the image's buffer slot)


def decode(program: bytes) -> tuple[Header, list[Instruction]]:
    """Split an encoded program into its header and instructions."""
    header = Header.decode(program[:RECORD_BYTES])
    body = program[RECORD_BYTES:]
    return header, [Instruction.decode(body[i * RECORD_BYTES:(i + 1) * RECORD_BYTES])
                    for i in range(header.instructions)]


def _index(ins: Instruction, p: str, base: int) -> np.ndarray:
    h, w, c, pitch = ins[f"{p}_h"], ins[f"{p}_w"], ins[f"{p}_c"], ins[f"{p}_pitch"]
    pixels = np.arange(h * w, dtype=np.int64)[:, None] * pitch
    return (base + ins[f"{p}_base"] + pixels + np.arange(c)).reshape(h, w, c)


def read_view(act: np.ndarray, ins: Instruction, p: str, base: int = 0) -> np.ndarray:
    """View `p` (a, b or y) of an instruction as `[H, W, C]` int64 values."""
    raw = act[_index(ins, p, base)]
    return (raw.view(np.int8) if ins[f"{p}_signed"] else raw).astype(np.int64)


def _limits(ins: Instruction) -> tuple[int, int]:
    lo, hi = (-128, 127) if ins["y_signed"] else (0, 255)
    return (ins["y_zp"] if ins["relu"] else lo), hi


def _finish(ins: Instruction, acc: np.ndarray, mult: np.ndarray | int,
            shift: np.ndarray | int) -> np.ndarray:
    lo, hi = _limits(ins)
    return np.clip(ins["y_zp"] + requantize(acc, mult, shift), lo, hi)


def _windows(x: np.ndarray, ins: Instruction, pad_value: int,
             shape: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Per tap (i, j): the input under it for every output pixel (`shape`: the output's rows
    and columns, y's by default)."""
    x = np.pad(x, ((ins["pad_t"], ins["pad_b"]), (ins["pad_l"], ins["pad_r"]), (0, 0)),
               constant_values=pad_value)
    kh, kw, sh, sw = ins["kh"], ins["kw"], ins["sh"], ins["sw"]
    ho, wo = shape or (ins["y_h"], ins["y_w"])
    return [x[i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]


def _channel_params(raw: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bias int32, multiplier, shift) of `n` 8-byte parameter words."""
    p = raw[:n * 8].reshape(n, 8)
    return (p[:, 0:4].copy().view("<i4")[:, 0].astype(np.int64),
            p[:, 4:6].copy().view("<u2")[:, 0].astype(np.int64), p[:, 6].astype(np.int64))


def _mac(ins: Instruction, x: np.ndarray, data: np.ndarray, pe: int, simd: int) -> np.ndarray:
    kh, kw, cin, cout = ins["kh"], ins["kw"], ins["a_c"], ins["y_c"]
    segments, length = mac_segments((kh, kw), cin, bool(ins["row"]))
    chunks = -(-length // simd)
    block = data[ins["ddr_off"]:ins["ddr_off"] + ins["ddr_bytes"]]
    tiles = block.reshape(ins["tiles"], ins["tile_bytes"])
    bias, mult, shift = (np.concatenate(v)[:cout] for v in zip(
        *(_channel_params(t, pe) for t in tiles), strict=True))
    w = tiles[:, pe * 8:pe * 8 + segments * chunks * pe * simd].view(np.int8).reshape(
        -1, segments, chunks, pe, simd).transpose(1, 2, 4, 0, 3).reshape(
        segments, chunks * simd, -1)[:, :length, :cout].reshape(kh, kw, cin, cout)
    w = w.astype(np.float64)
    # the array's int8 operands: uint8 enters as x − 128; pads and masked lanes hold za'
    offset = 0 if ins["a_signed"] else 128
    ho, wo = pools.conv_shape(ins)
    acc = np.zeros((ho, wo, cout))
    for t, view in enumerate(_windows(x - offset, ins, ins["a_zp"] - offset, (ho, wo))):
        acc += view.astype(np.float64) @ w[t // kw, t % kw]
    y = _finish(ins, acc.astype(np.int64) + bias, mult, shift)
    if ins["pool"]:  # the 2×2 stride-2 max pool of the write-back (hw/gen/seq/pools.py)
        y = y.reshape(ins["y_h"], 2, ins["y_w"], 2, cout).max(axis=(1, 3))
    return y


def _vector(ins: Instruction, act: np.ndarray, base: int, data: np.ndarray) -> np.ndarray:
    a = read_view(act, ins, "a", base)
    za, op = ins["a_zp"], ins.opcode
    params = data[ins["ddr_off"]:ins["ddr_off"] + ins["ddr_bytes"]]
    if op == Opcode.COPY:
        return a
    if op == Opcode.REQUANT:
        return _finish(ins, a - za, ins["mult"], ins["shift"])
    if op == Opcode.ADD:
        b = read_view(act, ins, "b", base) - ins["b_zp"]
        return _finish(ins, (a - za) * ins["mult"] + b * ins["mult2"], 1, ins["shift"])
    if op == Opcode.MUL:
        b = read_view(act, ins, "b", base) - ins["b_zp"]
        if ins["bcast"] != Bcast.NONE:
            b = np.broadcast_to(b, a.shape)
        return _finish(ins, (a - za) * b, ins["mult"], ins["shift"])
    if op == Opcode.LUT:
        return params.view(np.int8 if ins["y_signed"] else np.uint8).astype(np.int64)[
            a - (-128 if ins["a_signed"] else 0)]
    if op == Opcode.PRELU:
        neg = params.copy().view("<u2").astype(np.int64)[:ins["a_c"]]
        return _finish(ins, (a - za) * np.where(a >= za, ins["mult"], neg), 1, ins["shift"])
    if op == Opcode.MAXPOOL:
        return np.maximum.reduce(_windows(a, ins, -128 if ins["a_signed"] else 0))
    if op == Opcode.AVGPOOL:
        return _finish(ins, sum(_windows(a - za, ins, 0)), ins["mult"], ins["shift"])
    if op == Opcode.GAVG:
        return _finish(ins, (a - za).sum(axis=(0, 1), keepdims=True), ins["mult"],
                       ins["shift"])
    if op == Opcode.GWAP:
        c = ins["a_c"]
        _, mult, shift = _channel_params(params, c)
        w = params[c * 8:c * 8 + a.size].view(np.int8).reshape(a.shape).astype(np.int64)
        return _finish(ins, ((a - za) * w).sum(axis=(0, 1), keepdims=True), mult, shift)
    if op == Opcode.CHMAX:
        return a.max(axis=2, keepdims=True)
    if op == Opcode.CHMEAN:
        return _finish(ins, (a - za).sum(axis=2, keepdims=True), ins["mult"], ins["shift"])
    raise ValueError(f"opcode {op!r} is not a vector instruction")


def write_view(act: np.ndarray, ins: Instruction, base: int, y: np.ndarray) -> None:
    act[_index(ins, "y", base)] = y.astype(np.int8 if ins["y_signed"] else np.uint8).view(
        np.uint8)


def _exit(ins: Instruction, act: np.ndarray, base: int, data: np.ndarray) -> bool:
    """EXIT for one image (hw/gen/seq/exits.py): whether it leaves (its record written)."""
    b = read_view(act, ins, "b", base) if ins["b_c"] else None
    passed, cls = exits.decide(read_view(act, ins, "a", base), b,
                               data[ins["ddr_off"]:ins["ddr_off"] + ins["ddr_bytes"]])
    if passed:
        write_view(act, ins, base, exits.result_record(cls, ins["point"]))
    return passed


def execute(program: bytes, data: bytes, inputs: bytes, images: int,
            act_bytes: int | None = None, hook: Hook | None = None, skip: bool = True
            ) -> bytes:
    """Run `images` images through an encoded program, as the engine does.

    Args:
        program: header + instructions (what PROGRAM_BASE points at).
        data: the data block (DATA_BASE).
        inputs: `images` input records of `header.input_bytes` each (INPUT_BASE).
        act_bytes: the activation buffer's size (default: what the program needs).
        hook: called after each instruction for each image of a batch it runs for, with the
            activation buffer from that image's slot on (addresses as in image 0; a `once`
            instruction's from 0, its addresses as given).
        skip: take EXIT's jumps (as the engine); False runs every instruction for every
            image (EXIT still writes each image's first passing exit), so that every tensor
            can be compared with golden.

    Returns:
        `images` output records of `header.output_bytes` each (what lands at OUTPUT_BASE).
    """
    header, body = decode(program)
    act = np.zeros(act_bytes or header.act_bytes, np.uint8)
    blob = np.frombuffer(data, np.uint8)
    src = np.frombuffer(inputs, np.uint8)
    out = np.zeros(images * header.output_bytes, np.uint8)
    for first in range(0, images, header.batch):
        batch = range(first, min(first + header.batch, images))
        done = np.zeros(len(batch), bool)  # EXIT: the controller's per-image done mask
        index = 0
        while index < len(body):
            ins = body[index]
            if ins.opcode == Opcode.END:
                break
            for slot, image in enumerate(batch):
                if ins["once"] and slot != ins["slot"]:
                    continue
                base = 0 if ins["once"] else slot * header.act_image_bytes
                if ins.opcode == Opcode.LOAD:
                    start = image * header.input_bytes + ins["ddr_off"]
                    act[_index(ins, "y", base).reshape(-1)] = src[start:start + ins["ddr_bytes"]]
                elif ins.opcode == Opcode.STORE:
                    start = image * header.output_bytes + ins["ddr_off"]
                    out[start:start + ins["ddr_bytes"]] = act[_index(ins, "a", base).reshape(-1)]
                elif ins.opcode == Opcode.EXIT:
                    done[slot] = done[slot] or _exit(ins, act, base, blob)
                elif ins.opcode == Opcode.MAC:
                    write_view(act, ins, base, _mac(ins, read_view(act, ins, "a", base), blob,
                                                    header.pe, header.simd))
                else:
                    write_view(act, ins, base, _vector(ins, act, base, blob))
                if hook is not None:
                    hook(index, image, act[base:])
            jump = ins.opcode == Opcode.EXIT and skip and done.all()
            index = ins["next"] if jump else index + 1
    return out.tobytes()
