"""Bit-exact NumPy integer inference of an IR v1 model: the source of truth for every back end.

`run` evaluates a model on a batch and returns every tensor. Each op kind also has its own
function, `fn(op, xs, ins, out) -> y` (listed in `OP_FUNCTIONS`): `xs` are the input batches
`[N, H, W, C]`, `ins` their `TensorSpec`s and `out` the output's; `y` has the output's dtype.
Arithmetic is on integers, held in int64 or, for the multiply-accumulate ops, in float64 where
`mac_dtype` proves every partial sum exact (float64 BLAS is then bit-exact and much faster);
an accumulator that leaves int32 raises `OverflowError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from quant import ir

INT32_MIN, INT32_MAX = ir.DTYPES["int32"]
FLOAT64_EXACT = 2**53  # float64 holds every integer of magnitude below 2^53 exactly
WEIGHT_MAX = 128  # largest |w| of an int8 weight
BLOCK_BYTES = 2**21  # a convolution's im2col block + accumulators per step (about an L2 cache)


def mac_dtype(spec: ir.TensorSpec, terms: int) -> np.dtype:
    """The dtype in which `bias + sum of terms products (x - zx) * w` is computed exactly.

    Whatever order BLAS adds in, every partial sum is an integer of magnitude at most
    `terms * max|x - zx| * 128 + 2^31` (int8 weights, int32 bias). Below 2^53 each one, and
    each product, is a float64 integer, so no addition or fused multiply-add rounds: float64
    is exact. Beyond that (never for int8/uint8 inputs below 2.7e11 terms), int64.
    """
    bound = terms * spec.max_offset * WEIGHT_MAX + 2**31
    return np.dtype(np.float64 if bound < FLOAT64_EXACT else np.int64)


def requantize(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int
               ) -> np.ndarray:
    """`rq(acc, M, s) = (acc * M + r) >> s` in int64, `r = 2^(s-1)` if s > 0 else 0.

    `multiplier` and `shift` are scalars or per-channel arrays broadcast along the last axis;
    `>>` is NumPy's arithmetic shift (floor).
    """
    m = np.asarray(multiplier, np.int64)
    s = np.asarray(shift, np.int64)
    y = acc * m
    y += (np.int64(1) << s) >> 1
    y >>= s
    return y


def saturate(y: np.ndarray, out: ir.TensorSpec, relu: bool = False) -> np.ndarray:
    """`clip(z_out + y, lo, hi)` in the output dtype; `lo` is raised to `z_out` by a fused relu."""
    lo = out.zero_point if relu else out.lo
    return np.clip(out.zero_point + y, lo, out.hi).astype(out.dtype)


def _finish(name: str, acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int,
            out: ir.TensorSpec, relu: bool = False) -> np.ndarray:
    """Check that `acc` (integers, in int64 or exact float64) fits int32, then requantize and
    saturate it."""
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise OverflowError(f"{name}: accumulator left int32 at run time "
                            f"(range {int(acc.min())}..{int(acc.max())})")
    return saturate(requantize(acc.astype(np.int64, copy=False), multiplier, shift), out, relu)


def _centred(x: np.ndarray, spec: ir.TensorSpec, dtype: np.dtype | type = np.int64
             ) -> np.ndarray:
    """`x - zx` in `dtype`."""
    y = x.astype(dtype)
    y -= spec.zero_point
    return y


def _taps(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int]
          ) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield `(i, j, view)` per kernel tap of an already padded `[N, H, W, C]` batch.

    `view[n, y, x]` is the input pixel under tap `(i, j)` of output pixel `(y, x)`.
    """
    (kh, kw), (sh, sw) = kernel, stride
    ho = (x.shape[1] - kh) // sh + 1
    wo = (x.shape[2] - kw) // sw + 1
    for i in range(kh):
        for j in range(kw):
            yield i, j, x[:, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]


def _pad(x: np.ndarray, padding: Sequence[int], value: int) -> np.ndarray:
    top, bottom, left, right = padding
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _im2col(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int]) -> np.ndarray:
    """`[N * Ho * Wo, kh * kw * C]`: each output pixel's window of a padded batch, in the
    weight's `[kh, kw, C]` order (2-D, so that `@` is one BLAS matmul, not one per row)."""
    taps = list(_taps(x, kernel, stride))
    n, ho, wo, c = taps[0][2].shape
    cols = np.empty((n, ho, wo, *kernel, c), x.dtype)
    for i, j, view in taps:
        cols[:, :, :, i, j] = view
    return cols.reshape(n * ho * wo, -1)


def conv2d(op: ir.Conv2d, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
           out: ir.TensorSpec) -> np.ndarray:
    """`acc = bias + sum (x - zx) * w`; padded positions hold zx, i.e. contribute 0.

    One im2col matmul in `mac_dtype` per block of images (about `BLOCK_BYTES` of columns and
    accumulators), so that the block stays in cache through requantisation.
    """
    kh, kw, cin, cout = op.weight.shape
    dtype = mac_dtype(ins[0], kh * kw * cin)
    x = _pad(_centred(xs[0], ins[0], dtype), op.padding, 0)
    w = op.weight.reshape(-1, cout).astype(dtype)
    y = np.empty((len(x), *out.shape), out.dtype)
    step = max(1, BLOCK_BYTES // (y[0, ..., 0].size * (kh * kw * cin + cout) * dtype.itemsize))
    for start in range(0, len(x), step):
        acc = _im2col(x[start : start + step], op.kernel, op.stride) @ w
        acc += op.bias
        y[start : start + step] = _finish(op.name, acc, op.multiplier, op.shift, out,
                                          op.relu).reshape(-1, *out.shape)
    return y


def dense(op: ir.Dense, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
          out: ir.TensorSpec) -> np.ndarray:
    """`acc = bias + x_flat @ w` over the HWC-flattened input (in `mac_dtype`); output
    `[N, 1, 1, out]`."""
    dtype = mac_dtype(ins[0], op.weight.shape[0])
    x = _centred(xs[0], ins[0], dtype).reshape(len(xs[0]), -1)
    acc = x @ op.weight.astype(dtype)
    acc += op.bias
    return _finish(op.name, acc, op.multiplier, op.shift, out, op.relu).reshape(len(x), 1, 1, -1)


def maxpool(op: ir.MaxPool, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
            out: ir.TensorSpec) -> np.ndarray:
    """Max over each window; pads never win.

    Pads hold the input dtype's minimum: every window has a real element (pad < kernel) and it
    is >= the pad, so a pad never changes the result.
    """
    x = _pad(xs[0], op.padding, ins[0].lo)
    taps = [view for _, _, view in _taps(x, op.kernel, op.stride)]
    return np.maximum.reduce(taps).astype(out.dtype)


def avgpool(op: ir.AvgPool, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
            out: ir.TensorSpec) -> np.ndarray:
    """`acc = sum (x - zx)` over each window (no padding), then rq."""
    taps = _taps(_centred(xs[0], ins[0]), op.kernel, op.stride)
    acc = sum(view for _, _, view in taps)
    return _finish(op.name, acc, op.multiplier, op.shift, out)


def global_avgpool(op: ir.GlobalAvgPool, xs: Sequence[np.ndarray],
                   ins: Sequence[ir.TensorSpec], out: ir.TensorSpec) -> np.ndarray:
    """`acc = sum_hw (x - zx)`, then rq; output `[N, 1, 1, C]`."""
    acc = _centred(xs[0], ins[0]).sum(axis=(1, 2), keepdims=True)
    return _finish(op.name, acc, op.multiplier, op.shift, out)


def gwap(op: ir.Gwap, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
         out: ir.TensorSpec) -> np.ndarray:
    """`acc = sum_hw (x - zx) * w[h, w, c]` (in `mac_dtype`), then per-channel rq; output
    `[N, 1, 1, C]`."""
    h, w, _ = op.weight.shape
    dtype = mac_dtype(ins[0], h * w)
    x = _centred(xs[0], ins[0], dtype)
    acc = (x * op.weight.astype(dtype)).sum(axis=(1, 2), keepdims=True)
    return _finish(op.name, acc, op.multiplier, op.shift, out)


def reduce_channels(op: ir.ReduceChannels, xs: Sequence[np.ndarray],
                    ins: Sequence[ir.TensorSpec], out: ir.TensorSpec) -> np.ndarray:
    """Over C: max (output keeps the input's quantisation) or rq of `sum (x - zx)`."""
    if op.mode == "max":
        return xs[0].max(axis=3, keepdims=True).astype(out.dtype)
    acc = _centred(xs[0], ins[0]).sum(axis=3, keepdims=True)
    return _finish(op.name, acc, op.multiplier, op.shift, out)


def add(op: ir.Add, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
        out: ir.TensorSpec) -> np.ndarray:
    """`acc = (x1 - z1) * M1 + (x2 - z2) * M2`, then `(acc + r) >> s`."""
    m1, m2 = op.multipliers
    acc = _centred(xs[0], ins[0]) * m1 + _centred(xs[1], ins[1]) * m2
    return _finish(op.name, acc, 1, op.shift, out)


def mul(op: ir.Mul, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
        out: ir.TensorSpec) -> np.ndarray:
    """`acc = (x1 - z1) * (x2 - z2)`, x2 broadcast from `[1, 1, C]` or `[H, W, 1]`, then rq."""
    acc = _centred(xs[0], ins[0]) * _centred(xs[1], ins[1])
    return _finish(op.name, acc, op.multiplier, op.shift, out)


def concat(op: ir.Concat, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
           out: ir.TensorSpec) -> np.ndarray:
    """Concatenate along C (inputs and output share their quantisation)."""
    return np.concatenate(xs, axis=3).astype(out.dtype)


def requant(op: ir.Requant, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
            out: ir.TensorSpec) -> np.ndarray:
    """`acc = x - zx`, then rq into the output's dtype and zero point."""
    return _finish(op.name, _centred(xs[0], ins[0]), op.multiplier, op.shift, out)


def sigmoid(op: ir.Sigmoid, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
            out: ir.TensorSpec) -> np.ndarray:
    """`y = lut[x - lo_in]`."""
    return op.lut[xs[0].astype(np.int64) - ins[0].lo].astype(out.dtype)


def prelu(op: ir.Prelu, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
          out: ir.TensorSpec) -> np.ndarray:
    """`acc = (x - zx) * (M_pos if x >= zx else M_neg[c])`, then `(acc + r) >> s`."""
    x = _centred(xs[0], ins[0])
    m = np.where(x >= 0, op.multiplier_pos, op.multiplier_neg.astype(np.int64))
    return _finish(op.name, x * m, 1, op.shift, out)


def reshape(op: ir.Reshape, xs: Sequence[np.ndarray], ins: Sequence[ir.TensorSpec],
            out: ir.TensorSpec) -> np.ndarray:
    """Reinterpret each image's HWC row-major data with the new shape."""
    return xs[0].reshape(len(xs[0]), *op.shape).astype(out.dtype)


OpFunction = Callable[[ir.Op, Sequence[np.ndarray], Sequence[ir.TensorSpec], ir.TensorSpec],
                      np.ndarray]
# Each op kind of the registry (`ir.OPS`) is the function of the same name in this module.
OP_FUNCTIONS: dict[str, OpFunction] = {
    kind: fn for kind in ir.OPS if callable(fn := globals().get(kind))}


def _feed(name: str, x: object, spec: ir.TensorSpec) -> np.ndarray:
    """Check one input batch against its spec and return it in the spec's dtype."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != tuple(spec.shape):
        raise ValueError(f"input '{name}': expected [N, {', '.join(map(str, spec.shape))}], "
                         f"got {list(x.shape)}")
    if x.dtype.kind not in "iu":
        raise ValueError(f"input '{name}': expected integers, got {x.dtype}")
    if x.size and (x.min() < spec.lo or x.max() > spec.hi):
        raise ValueError(f"input '{name}': values {x.min()}..{x.max()} outside {spec.dtype}")
    return x.astype(spec.dtype)


def run(model: ir.Model, x: np.ndarray | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the integer model on a batch.

    Args:
        model: a valid IR model (see `ir.check`).
        x: `[N, H, W, C]` integers for a single-input model, or a batch per input name.

    Returns:
        Every tensor (graph inputs included) by name, `[N, *shape]` in its declared dtype.

    Raises:
        ValueError: an input is missing, misshapen or out of its dtype's range.
        OverflowError: an accumulator left int32 (names the layer).
    """
    feeds = {model.inputs[0]: x} if isinstance(x, np.ndarray) else dict(x)
    if set(feeds) != set(model.inputs):
        raise ValueError(f"model inputs are {list(model.inputs)}, got {sorted(feeds)}")
    values = {name: _feed(name, feeds[name], model.tensors[name]) for name in model.inputs}
    for op in model.ops:
        ins = [model.tensors[t] for t in op.inputs]
        values[op.output] = OP_FUNCTIONS[op.kind](
            op, [values[t] for t in op.inputs], ins, model.tensors[op.output])
    return values


def run_chunked(model: ir.Model, x: np.ndarray, chunk: int = 100,
                advance: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """`run` over a large single-input batch in chunks (bounded memory); same result.

    Args:
        advance: called with the number of images done after each chunk (progress bars).
    """
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(x), chunk):
        for name, value in run(model, x[start : start + chunk]).items():
            parts.setdefault(name, []).append(value)
        if advance is not None:
            advance(len(x[start : start + chunk]))
    return {name: np.concatenate(values) for name, values in parts.items()}
