"""Slow, obviously correct reference for the IR ops: Python ints, one loop per output element.

Written from the DESIGN table alone, independently of `quant/golden.py` (no shared helpers), so
that the two can check each other. Test use only: each function takes `(op, xs, ins, out)` like
the golden ones, with `xs` NumPy batches `[N, H, W, C]`, and returns a NumPy array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Xs = Sequence[np.ndarray]
Specs = Sequence[Any]  # quant.ir.TensorSpec, not imported: this module stands alone

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int32": (-(2**31), 2**31 - 1)}


def rq(acc: int, m: int, s: int) -> int:
    """(acc*M + r) >> s with Python ints (>> floors); r = 2^(s-1) if s > 0 else 0."""
    acc, m, s = int(acc), int(m), int(s)
    r = 2 ** (s - 1) if s > 0 else 0
    return (acc * m + r) >> s


def clip_out(v: int, out: Any, relu: bool = False) -> int:
    """clip(z_out + v, lo, hi), lo raised to z_out by a fused relu."""
    lo, hi = RANGES[out.dtype]
    if relu:
        lo = out.zero_point
    return min(max(out.zero_point + v, lo), hi)


def check_acc(name: str, acc: int) -> int:
    """Return acc, asserting that it fits int32."""
    assert -(2**31) <= acc <= 2**31 - 1, f"{name}: accumulator {acc} outside int32"
    return acc


def _array(values: list, out: Any) -> np.ndarray:
    return np.array(values, dtype=np.int64).astype(out.dtype)


def conv2d(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    x = xs[0].tolist()
    zx = ins[0].zero_point
    n_img, h, w, cin = xs[0].shape
    kh, kw = op.kernel
    sh, sw = op.stride
    top, bottom, left, right = op.padding
    cout = op.weight.shape[3]
    wt = op.weight.tolist()
    ho = (h + top + bottom - kh) // sh + 1
    wo = (w + left + right - kw) // sw + 1
    res = []
    for n in range(n_img):
        img = []
        for oy in range(ho):
            row = []
            for ox in range(wo):
                pix = []
                for co in range(cout):
                    acc = int(op.bias[co])
                    for ky in range(kh):
                        for kx in range(kw):
                            iy = oy * sh + ky - top
                            ix = ox * sw + kx - left
                            for ci in range(cin):
                                inside = 0 <= iy < h and 0 <= ix < w
                                v = x[n][iy][ix][ci] if inside else zx
                                acc += (v - zx) * wt[ky][kx][ci][co]
                    check_acc(op.name, acc)
                    y = rq(acc, int(op.multiplier[co]), int(op.shift[co]))
                    pix.append(clip_out(y, out, op.relu))
                row.append(pix)
            img.append(row)
        res.append(img)
    return _array(res, out)


def dense(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    n_img, h, w, c = xs[0].shape
    x = xs[0].tolist()
    zx = ins[0].zero_point
    n_out = op.weight.shape[1]
    wt = op.weight.tolist()
    res = []
    for n in range(n_img):
        pix = []
        for o in range(n_out):
            acc = int(op.bias[o])
            for yy in range(h):
                for xx in range(w):
                    for ci in range(c):
                        k = (yy * w + xx) * c + ci
                        acc += (x[n][yy][xx][ci] - zx) * wt[k][o]
            check_acc(op.name, acc)
            pix.append(clip_out(rq(acc, int(op.multiplier[o]), int(op.shift[o])), out, op.relu))
        res.append([[pix]])
    return _array(res, out)


def _windows(op: Any, shape: Sequence[int], padding: Sequence[int]
             ) -> Iterator[tuple[int, int, int, int, list[tuple[int, int]]]]:
    """(n, oy, ox, c, list of in-bounds (iy, ix)) for each output element of a pooling op."""
    n_img, h, w, c = shape
    kh, kw = op.kernel
    sh, sw = op.stride
    top, bottom, left, right = padding
    ho = (h + top + bottom - kh) // sh + 1
    wo = (w + left + right - kw) // sw + 1
    for n in range(n_img):
        for oy in range(ho):
            for ox in range(wo):
                for ch in range(c):
                    pos = [(oy * sh + ky - top, ox * sw + kx - left)
                           for ky in range(kh) for kx in range(kw)]
                    yield n, oy, ox, ch, [(a, b) for a, b in pos if 0 <= a < h and 0 <= b < w]


def _nest(flat: list, shape: Sequence[int]) -> list:
    """Rebuild a nested list of the given shape from row-major flat values."""
    for d in reversed(shape[1:]):
        flat = [flat[i : i + d] for i in range(0, len(flat), d)]
    return flat


def _pool_shape(op: Any, shape: Sequence[int], padding: Sequence[int]
                ) -> tuple[int, int, int, int]:
    n_img, h, w, c = shape
    kh, kw = op.kernel
    sh, sw = op.stride
    top, bottom, left, right = padding
    return n_img, (h + top + bottom - kh) // sh + 1, (w + left + right - kw) // sw + 1, c


def maxpool(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    x = xs[0].tolist()
    vals = [max(x[n][a][b][ch] for a, b in pos)
            for n, _, _, ch, pos in _windows(op, xs[0].shape, op.padding)]
    return _array(_nest(vals, _pool_shape(op, xs[0].shape, op.padding)), out)


def avgpool(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    x = xs[0].tolist()
    zx = ins[0].zero_point
    vals = []
    for n, _, _, ch, pos in _windows(op, xs[0].shape, (0, 0, 0, 0)):
        acc = check_acc(op.name, sum(x[n][a][b][ch] - zx for a, b in pos))
        vals.append(clip_out(rq(acc, op.multiplier, op.shift), out))
    return _array(_nest(vals, _pool_shape(op, xs[0].shape, (0, 0, 0, 0))), out)


def _global_sum(op: Any, xs: Xs, ins: Specs, out: Any, wt: list | None,
                scale: Callable[[int], tuple[int, int]]) -> np.ndarray:
    """Per image and channel, the sum over every pixel of (x - zero point) times the weight
    `wt[y][x][c]` (1 without `wt`), checked and requantised with `scale(channel)` = (M, s)."""
    n_img, h, w, c = xs[0].shape
    x = xs[0].tolist()
    zx = ins[0].zero_point
    res = []
    for n in range(n_img):
        pix = []
        for ch in range(c):
            acc = 0
            for yy in range(h):
                for xx in range(w):
                    acc += (x[n][yy][xx][ch] - zx) * (1 if wt is None else wt[yy][xx][ch])
            check_acc(op.name, acc)
            pix.append(clip_out(rq(acc, *scale(ch)), out))
        res.append([[pix]])
    return _array(res, out)


def global_avgpool(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    return _global_sum(op, xs, ins, out, None, lambda ch: (op.multiplier, op.shift))


def gwap(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    return _global_sum(op, xs, ins, out, op.weight.tolist(),
                       lambda ch: (int(op.multiplier[ch]), int(op.shift[ch])))


def reduce_channels(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    n_img, h, w, c = xs[0].shape
    x = xs[0].tolist()
    zx = ins[0].zero_point
    res = []
    for n in range(n_img):
        img = []
        for yy in range(h):
            row = []
            for xx in range(w):
                vals = x[n][yy][xx]
                if op.mode == "max":
                    row.append([max(vals)])
                else:
                    acc = check_acc(op.name, sum(v - zx for v in vals))
                    row.append([clip_out(rq(acc, op.multiplier, op.shift), out)])
            img.append(row)
        res.append(img)
    return _array(res, out)


def _elementwise(xs: Xs, fn: Callable[[int, int, int, int, int], int]) -> list:
    """Apply fn(n, y, x, c, v1) to every element of the first input, as nested lists."""
    n_img, h, w, c = xs[0].shape
    a = xs[0].tolist()
    return [[[[fn(n, yy, xx, ch, a[n][yy][xx][ch]) for ch in range(c)] for xx in range(w)]
             for yy in range(h)] for n in range(n_img)]


def add(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    b = xs[1].tolist()
    z1, z2 = ins[0].zero_point, ins[1].zero_point
    m1, m2 = op.multipliers

    def one(n: int, yy: int, xx: int, ch: int, v: int) -> int:
        acc = check_acc(op.name, (v - z1) * m1 + (b[n][yy][xx][ch] - z2) * m2)
        return clip_out(rq(acc, 1, op.shift), out)

    return _array(_elementwise(xs, one), out)


def mul(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    b = xs[1].tolist()
    _, h2, w2, c2 = xs[1].shape
    z1, z2 = ins[0].zero_point, ins[1].zero_point

    def one(n: int, yy: int, xx: int, ch: int, v: int) -> int:
        other = b[n][yy if h2 > 1 else 0][xx if w2 > 1 else 0][ch if c2 > 1 else 0]
        acc = check_acc(op.name, (v - z1) * (other - z2))
        return clip_out(rq(acc, op.multiplier, op.shift), out)

    return _array(_elementwise(xs, one), out)


def concat(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    lists = [x.tolist() for x in xs]
    n_img, h, w, _ = xs[0].shape
    res = [[[[v for part in lists for v in part[n][yy][xx]] for xx in range(w)] for yy in range(h)]
           for n in range(n_img)]
    return _array(res, out)


def requant(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    zx = ins[0].zero_point

    def one(n: int, yy: int, xx: int, ch: int, v: int) -> int:
        return clip_out(rq(check_acc(op.name, v - zx), op.multiplier, op.shift), out)

    return _array(_elementwise(xs, one), out)


def sigmoid(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    lut = op.lut.tolist()
    lo_in = RANGES[ins[0].dtype][0]
    return _array(_elementwise(xs, lambda n, yy, xx, ch, v: lut[v - lo_in]), out)


def prelu(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    zx = ins[0].zero_point

    def one(n: int, yy: int, xx: int, ch: int, v: int) -> int:
        m = op.multiplier_pos if v >= zx else int(op.multiplier_neg[ch])
        return clip_out(rq(check_acc(op.name, (v - zx) * m), 1, op.shift), out)

    return _array(_elementwise(xs, one), out)


def reshape(op: Any, xs: Xs, ins: Specs, out: Any) -> np.ndarray:
    flat = []
    for img in xs[0].tolist():
        for row in img:
            for pix in row:
                flat.extend(pix)
    return _array(_nest(flat, (xs[0].shape[0], *op.shape)), out)


REFERENCE = {
    "conv2d": conv2d, "dense": dense, "maxpool": maxpool, "avgpool": avgpool,
    "global_avgpool": global_avgpool, "gwap": gwap, "reduce_channels": reduce_channels,
    "add": add, "mul": mul, "concat": concat, "requant": requant, "sigmoid": sigmoid,
    "prelu": prelu, "reshape": reshape,
}


def run(model: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor of the model, computed op by op with the reference functions."""
    values = {k: np.asarray(v) for k, v in feeds.items()}
    for op in model.ops:
        values[op.output] = REFERENCE[op.kind](
            op, [values[t] for t in op.inputs], [model.tensors[t] for t in op.inputs],
            model.tensors[op.output])
    return values
