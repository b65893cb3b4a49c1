"""Bit-exact NumPy integer inference of an IR v1 model: the source of truth for every back end.

`run` evaluates a model on a batch and returns every tensor. Each op kind also has its own
function, `fn(op, xs, ins, out) -> y` (listed in `OP_FUNCTIONS`): `xs` are the input batches
`[N, H, W, C]`, `ins` their `TensorSpec`s and `out` the output's; `y` has the output's dtype.
Arithmetic is on integers, held in int64 or, for the multiply-accumulate ops, in float64 where
`mac_dtype` proves every partial sum exact (float64 BLAS is then bit-exact and much faster);
an accumulator that leaves int32 raises `OverflowError`.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from quant import ir

INT32_MIN, INT32_MAX = ir.DTYPES["int32"]
FLOAT64_EXACT = 2**53  # float64 holds every integer of magnitude below 2^53 exactly
WEIGHT_MAX = 128  # largest |w| of an int8 weight
BLOCK_BYTES = 2**21  # a convolution's im2col block + accumulators per step (about an L2 cache)
SPLIT_ELEMENTS = 2**16  # smallest batch (elements over all tensors) that `run` splits in threads


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
    """`rq(acc, M, s) = (acc * M + r) >> s`, `r = 2^(s-1)` if s > 0 else 0.

    `multiplier` and `shift` are scalars or per-channel arrays broadcast along the last axis.
    Integer `acc` is computed in int64 (`>>` is NumPy's arithmetic shift, a floor). A float64
    `acc` (integers of magnitude at most 2^31, as `_finish` checks) gives the same integers in
    float64 as `floor(acc * (M * 2^-s) + 1/2)`, which is `floor((acc * M + 2^(s-1)) / 2^s)`
    computed without rounding: `M * 2^-s` is exact, so is `acc * M * 2^-s` (`acc * M` has
    fewer than 53 significant bits and a power of two only moves the point), and so is the
    sum (`|acc * M + 2^(s-1)| < 2^46 + 2^45`); at s = 0 the floor drops the added 1/2.
    """
    if np.asarray(acc).dtype.kind == "f":
        y = acc * np.ldexp(np.asarray(multiplier, np.float64), -np.asarray(shift, np.int64))
        y += 0.5
        return np.floor(y, out=y)
    m = np.asarray(multiplier, np.int64)
    s = np.asarray(shift, np.int64)
    y = acc * m
    y += (np.int64(1) << s) >> 1
    y >>= s
    return y


def saturate(y: np.ndarray, out: ir.TensorSpec, relu: bool = False) -> np.ndarray:
    """`clip(z_out + y, lo, hi)` in the output dtype; `lo` is raised to `z_out` by a fused relu."""
    lo = out.zero_point if relu else out.lo
    z = y + out.zero_point
    return np.clip(z, lo, out.hi, out=z).astype(out.dtype)


def _finish(name: str, acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int,
            out: ir.TensorSpec, relu: bool = False) -> np.ndarray:
    """Check that `acc` (integers, in int64 or exact float64) fits int32, then requantize and
    saturate it."""
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise OverflowError(f"{name}: accumulator left int32 at run time "
                            f"(range {int(acc.min())}..{int(acc.max())})")
    return saturate(requantize(acc, multiplier, shift), out, relu)


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


def _pad(x: np.ndarray, padding: Sequence[int], value: int, shift: int = 0,
         dtype: np.dtype | None = None) -> np.ndarray:
    """`x - shift` in `dtype` (default: x's), framed by `padding` `[t, b, l, r]` of `value`."""
    top, bottom, left, right = padding
    n, h, w, c = x.shape
    y = np.empty((n, top + h + bottom, left + w + right, c), dtype or x.dtype)
    for frame in (y[:, :top], y[:, top + h :], y[:, :, :left], y[:, :, left + w :]):
        frame[...] = value
    np.subtract(x, shift, out=y[:, top : top + h, left : left + w], dtype=y.dtype)
    return y


def _im2col(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int]) -> np.ndarray:
    """`[N * Ho * Wo, kh * kw * C]`: each output pixel's window of a padded batch, in the
    weight's `[kh, kw, C]` order (2-D, so that `@` is one BLAS matmul, not one per row; a
    view of the batch itself for a 1×1 kernel at stride 1)."""
    taps = list(_taps(x, kernel, stride))
    n, ho, wo, c = taps[0][2].shape
    if len(taps) == 1:
        return taps[0][2].reshape(-1, c)
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
    x = _pad(xs[0], op.padding, 0, ins[0].zero_point, dtype)
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


def run(model: ir.Model, x: np.ndarray | Mapping[str, np.ndarray], workers: int | None = None
        ) -> dict[str, np.ndarray]:
    """Run the integer model on a batch.

    Args:
        model: a valid IR model (see `ir.check`).
        x: `[N, H, W, C]` integers for a single-input model, or a batch per input name.
        workers: threads, each evaluating a contiguous part of the batch (default: one per CPU
            core, at most one per image; one for batches under `SPLIT_ELEMENTS` tensor
            elements, where starting threads costs more than it saves). BLAS runs
            single-threaded meanwhile: its own threads synchronise on every small matmul and
            stall whenever another process holds a core.

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
    n = len(values[model.inputs[0]])
    if workers is None:
        small = n * sum(math.prod(t.shape) for t in model.tensors.values()) < SPLIT_ELEMENTS
        workers = 1 if small else os.cpu_count() or 1
    bounds = np.linspace(0, n, max(1, min(workers, n)) + 1).astype(int)
    with _blas().limit(limits=1, user_api="blas"):
        if len(bounds) == 2:
            return _evaluate(model, values)
        with ThreadPoolExecutor(len(bounds) - 1) as pool:
            parts = list(pool.map(lambda a, b: _evaluate(model, {k: v[a:b] for k, v in
                                                                 values.items()}),
                                  bounds[:-1], bounds[1:]))
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


@functools.cache
def _blas() -> ThreadpoolController:
    """The loaded thread pools, BLAS's among them (looked up once: the search takes ~0.4 ms)."""
    return ThreadpoolController()


def _evaluate(model: ir.Model, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every op in order on checked input batches; returns every tensor."""
    for op in model.ops:
        ins = [model.tensors[t] for t in op.inputs]
        values[op.output] = OP_FUNCTIONS[op.kind](
            op, [values[t] for t in op.inputs], ins, model.tensors[op.output])
    return values


def run_chunked(model: ir.Model, x: np.ndarray, chunk: int = 100,
                advance: Callable[[int], None] | None = None,
                keep: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """`run` over a large single-input batch in chunks (bounded memory); same result.

    Args:
        advance: called with the number of images done after each chunk (progress bars).
        keep: the tensors to return (default: every tensor); memory grows only with these.
    """
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(x), chunk):
        for name, value in run(model, x[start : start + chunk]).items():
            if keep is None or name in keep:
                parts.setdefault(name, []).append(value)
        if advance is not None:
            advance(len(x[start : start + chunk]))
    return {name: np.concatenate(values) for name, values in parts.items()}


# ---------------------------------------------------------------------- early exits (IR v2)


def exit_terms(logits: np.ndarray, lut: Sequence[int]) -> np.ndarray:
    """`E_j = LUT[max_k l_k - l_j]` (0 beyond the table), int64 `[N, K]`, for 8-bit logits
    `[N, ..., K]`: the fixed-point `exp(l_j - l_max)` of the exit rule (docs/early_exit.md)."""
    q = logits.reshape(len(logits), -1).astype(np.int64)
    table = np.append(np.asarray(lut, np.int64), 0)
    return table[np.minimum(q.max(axis=1, keepdims=True) - q, len(table) - 1)]


def _exit_point(point: ir.ExitPoint, tensors: Mapping[str, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
    """(class, whether the image may leave here) per image at one exit point."""
    logits = [tensors[t].reshape(len(tensors[t]), -1) for t in point.logits]
    if len(logits) == 2:
        ea, eb = (exit_terms(q, lut) for q, lut in zip(logits, point.luts, strict=True))
        score = ea * eb.sum(axis=1, keepdims=True) + eb * ea.sum(axis=1, keepdims=True)
        return score.argmax(axis=1), np.ones(len(score), bool)
    classes = logits[0].argmax(axis=1)
    if point.threshold is None:
        return classes, np.ones(len(classes), bool)
    return classes, exit_terms(logits[0], point.luts[0]).sum(axis=1) <= point.threshold


def exit_decide(model: ir.Model, tensors: Mapping[str, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
    """(class, exit point) per image of an IR v2 model, from its exits' logits in `tensors`.

    An image leaves at the first point whose test `sum_j LUT[l_max - l_j] <= T` passes; the
    last point takes the rest. A point's class is the first index of its logits' maximum; at
    a point averaging logits a and b, the first index of the maximum of
    `E^a_j * S^b + E^b_j * S^a` (`S = sum_j E_j`): the sum of both softmax probabilities, times
    `S^a * S^b`, in int64.
    """
    if not model.exits:
        raise ValueError(f"model '{model.name}' has no exit table (IR v1)")
    n = len(tensors[model.exits[0].logits[0]])
    classes, points = np.zeros(n, np.int64), np.full(n, -1, np.int64)
    for i, point in enumerate(model.exits):
        cls, passed = _exit_point(point, tensors)
        take = (points < 0) & passed
        classes[take], points[take] = cls[take], i
    return classes, points


def exit_stages(model: ir.Model) -> list[list[ir.Op]]:
    """The ops each exit point adds, in model order: point i's are those its logits need that
    no earlier point needs (the last point also gets every op left), so an image leaving at
    point i runs stages 0..i, a valid topological order."""
    producer = {op.output: op for op in model.ops}
    done: set[str] = set()
    stages = []
    for point in model.exits:
        need: set[str] = set()
        stack = list(point.logits)
        while stack:
            op = producer.get(stack.pop())
            if op is not None and op.name not in need and op.name not in done:
                need.add(op.name)
                stack.extend(op.inputs)
        stages.append(need)
        done |= need
    stages[-1] |= {op.name for op in model.ops} - done
    return [[op for op in model.ops if op.name in stage] for stage in stages]


def exit_macs(model: ir.Model) -> list[int]:
    """Multiply-accumulates per image that leaves at each exit point (stages 0..i)."""
    macs, total = [], 0
    for stage in exit_stages(model):
        total += sum(op.macs([model.tensors[t] for t in op.inputs], model.tensors[op.output])
                     for op in stage)
        macs.append(total)
    return macs


def run_exits(model: ir.Model, x: np.ndarray, chunk: int = 100
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class, exit point, MACs done) per image of a single-input IR v2 model.

    The whole network runs (in chunks of `chunk` images, keeping only the exits' logits);
    the decision needs only the logits, so it equals an engine that stops at the exit.
    """
    names = {t for point in model.exits for t in point.logits}
    parts: dict[str, list[np.ndarray]] = {t: [] for t in names}
    for start in range(0, len(x), chunk):
        tensors = run(model, x[start : start + chunk])
        for t in names:
            parts[t].append(tensors[t])
    classes, points = exit_decide(model, {t: np.concatenate(v) for t, v in parts.items()})
    return classes, points, np.asarray(exit_macs(model), np.int64)[points]
