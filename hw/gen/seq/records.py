"""Input and output records in DDR: per image, every graph input (or output) as HWC bytes at
its offset, each padded to 8 bytes (`Program.inputs`/`outputs` give the offsets); an input
the program reads stacked (`Program.stacked`) as its KH row-shifted copies (`stack_rows`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hw.gen.seq.compiler import Program


def stack_rows(x: np.ndarray, kh: int, pad_t: int, zero_point: int) -> np.ndarray:
    """`[N, H, W, C]` → `[N, H, W, KH·C]`: channel block i of row y holds row y + i − pad_t,
    the zero point outside the image."""
    n, h, w, c = x.shape
    padded = np.full((n, h + kh - 1, w, c), zero_point, x.dtype)
    padded[:, pad_t:pad_t + h] = x
    return np.concatenate([padded[:, i:i + h] for i in range(kh)], axis=3)


def pack_inputs(program: Program, x: np.ndarray | Mapping[str, np.ndarray]) -> bytes:
    """Input records of a batch: `[N, H, W, C]` for one input, or a batch per input name."""
    feeds = {program.inputs[0][0]: x} if isinstance(x, np.ndarray) else dict(x)
    n = len(next(iter(feeds.values())))
    out = np.zeros((n, program.header.input_bytes), np.uint8)
    for name, offset in program.inputs:
        view = program.views[name]
        values = np.asarray(feeds[name]).reshape(n, *view.shape).astype(
            np.int8 if view.signed else np.uint8)
        if name in program.stacked:
            values = stack_rows(values, *program.stacked[name], view.zero_point)
        flat = values.reshape(n, -1).view(np.uint8)
        out[:, offset:offset + flat.shape[1]] = flat
    return out.tobytes()


def unpack_outputs(program: Program, raw: bytes, images: int) -> dict[str, np.ndarray]:
    """Every graph output `[N, *shape]` in its dtype, from `images` output records."""
    rec = np.frombuffer(raw, np.uint8)[:images * program.header.output_bytes].reshape(
        images, program.header.output_bytes)
    out = {}
    for name, offset in program.outputs:
        view = program.views[name]
        size = math.prod(view.shape)
        out[name] = rec[:, offset:offset + size].view(
            np.int8 if view.signed else np.uint8).reshape(images, *view.shape)
    return out
