"""Input and output records in DDR: per image, every graph input (or output) as HWC bytes at
its offset, each padded to 8 bytes (`Program.inputs`/`outputs` give the offsets)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hw.gen.seq.compiler import Program


def pack_inputs(program: Program, x: np.ndarray | Mapping[str, np.ndarray]) -> bytes:
    """Input records of a batch: `[N, H, W, C]` for one input, or a batch per input name."""
    feeds = {program.inputs[0][0]: x} if isinstance(x, np.ndarray) else dict(x)
    n = len(next(iter(feeds.values())))
    out = np.zeros((n, program.header.input_bytes), np.uint8)
    for name, offset in program.inputs:
        flat = np.asarray(feeds[name]).reshape(n, -1)
        out[:, offset:offset + flat.shape[1]] = flat.astype(
            np.int8 if program.views[name].signed else np.uint8).view(np.uint8)
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
