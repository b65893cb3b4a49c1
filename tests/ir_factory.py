"""Random valid IR models for tests: one op of any kind, or a small graph using every kind.

Back-end tests (golden, HLS, RTL) reuse them:

    model = single_op("conv2d", rng, shape=(8, 8, 3), kernel=(3, 1), relu=True)
    feeds = random_batch(model, rng, n=4)

A keyword fixes that parameter and the rest are drawn from `rng`; an unknown keyword raises
`TypeError`. Multipliers and shifts are drawn so that most outputs land inside the output
range, with about one channel in seven at a corner (saturating, or shifted to nothing).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from quant import ir

EIGHT_BIT = ("int8", "uint8")
Params = dict[str, Any]
Rng = np.random.Generator
Specs = Sequence[ir.TensorSpec]
Built = tuple[ir.Op, ir.TensorSpec]


def spec(name: str, shape: Sequence[int], dtype: str, zero_point: int, scale: float = 0.05
         ) -> ir.TensorSpec:
    """A tensor spec with the given fields."""
    return ir.TensorSpec(name, tuple(int(d) for d in shape), dtype, float(scale), int(zero_point))


def random_spec(rng: np.random.Generator, name: str, shape: Sequence[int],
                dtype: str | None = None, zero_point: int | None = None) -> ir.TensorSpec:
    """A spec with a random 8-bit dtype and zero point (often at a range end) unless given."""
    dtype = dtype or str(rng.choice(EIGHT_BIT))
    lo, hi = ir.DTYPES[dtype]
    if zero_point is None:
        zero_point = int(rng.choice([lo, hi, int(rng.integers(max(lo, -300), min(hi, 300) + 1))],
                                    p=[0.05, 0.05, 0.9]))
    return spec(name, shape, dtype, zero_point, float(rng.uniform(0.005, 0.2)))


def rq_params(rng: np.random.Generator, acc_size: float, n: int | None = None,
              corners: float = 0.14) -> tuple[Any, Any]:
    """Random multiplier(s) and shift(s) mapping accumulators of about `acc_size` to ~2^5.

    Args:
        rng: the generator.
        acc_size: typical `|acc|`.
        n: number of channels (int32 arrays), or None for Python int scalars.
        corners: share of channels set to M = 2^15, s = 0 (saturating) or s = 46.
    """
    size = 1 if n is None else n
    m = np.rint(np.exp2(rng.uniform(0, 15, size))).astype(np.int64)
    s = np.rint(np.log2(acc_size * m)) - 5 + rng.integers(-2, 3, size)
    s = np.clip(s, 0, ir.S_MAX).astype(np.int64)
    corner = rng.random(size)
    saturating = corner < corners * 0.6
    m[saturating] = ir.M_MAX
    s[saturating] = 0
    s[(corner >= corners * 0.6) & (corner < corners)] = ir.S_MAX
    if n is None:
        return int(m[0]), int(s[0])
    return m.astype(np.int32), s.astype(np.int32)


def _take(p: Params, key: str, draw: Callable[[], Any]) -> Any:
    return p.pop(key) if key in p else draw()


def _rq(rng: np.random.Generator, p: Params, acc_size: float, n: int | None = None
        ) -> tuple[Any, Any]:
    return rq_params(rng, acc_size, n, p.get("corners", 0.14))


def _pair(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int]:
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def _window(rng: np.random.Generator, p: Params, hw: Sequence[int], padded: bool
            ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int]]:
    """Kernel (1..3 each, so k x 1 and 1 x k too), stride (1..2) and padding (< kernel)."""
    fixed = (p.pop("kernel", None), p.pop("stride", None), p.pop("padding", None) if padded
             else (0, 0, 0, 0))
    h, w = hw
    for _ in range(100):
        kh, kw = fixed[0] or _pair(rng, 1, 3)
        stride = fixed[1] or _pair(rng, 1, 2)
        pad = fixed[2] or tuple(int(rng.integers(0, k)) for k in (kh, kh, kw, kw))
        if h + pad[0] + pad[1] >= kh and w + pad[2] + pad[3] >= kw:
            return (kh, kw), tuple(stride), tuple(pad)
    raise ValueError(f"no window {fixed} fits a {h}x{w} input")


def _weights(rng: np.random.Generator, p: Params, shape: Sequence[int]) -> tuple[np.ndarray, int]:
    bits = _take(p, "weight_bits", lambda: int(rng.choice([8, 8, int(rng.integers(2, 8))])))
    half = 2 ** (bits - 1)
    return rng.integers(-half, half, shape).astype(np.int8), bits


def _out_spec(rng: np.random.Generator, p: Params, name: str, op: ir.Op,
              ins: Sequence[ir.TensorSpec], dtypes: Sequence[str] = ("int8", "uint8", "int32")
              ) -> ir.TensorSpec:
    dtype = _take(p, "out_dtype", lambda: str(rng.choice(dtypes, p=_dtype_odds(dtypes))))
    return random_spec(rng, name, op.output_shape(ins), dtype, p.pop("out_zero_point", None))


def _dtype_odds(dtypes: Sequence[str]) -> list[float]:
    weights = [0.2 if d == "int32" else 1.0 for d in dtypes]
    return [w / sum(weights) for w in weights]


def _kept_spec(name: str, op: ir.Op, ins: Sequence[ir.TensorSpec]) -> ir.TensorSpec:
    return dataclasses.replace(ins[0], name=name, shape=op.output_shape(ins))


def _names(name: str, ins: Sequence[ir.TensorSpec]) -> dict[str, Any]:
    return {"name": name, "inputs": tuple(t.name for t in ins), "output": name}


def _conv2d(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    h, w, cin = ins[0].shape
    kernel, stride, padding = _window(rng, p, (h, w), padded=True)
    cout = _take(p, "cout", lambda: int(rng.integers(1, 6)))
    weight, bits = _weights(rng, p, (*kernel, cin, cout))
    taps = kernel[0] * kernel[1] * cin
    m, s = _rq(rng, p, math.sqrt(taps) * 2 ** (bits - 2) * 64 + 1, cout)
    op = ir.Conv2d(**_names(name, ins), kernel=kernel, stride=stride, padding=padding,
                   weight=weight, bias=rng.integers(-(2**13), 2**13, cout).astype(np.int32),
                   multiplier=m, shift=s, relu=_take(p, "relu", lambda: bool(rng.integers(2))),
                   weight_bits=bits)
    return op, _out_spec(rng, p, name, op, ins)


def _dense(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    n_in = math.prod(ins[0].shape)
    cout = _take(p, "cout", lambda: int(rng.integers(1, 7)))
    weight, bits = _weights(rng, p, (n_in, cout))
    m, s = _rq(rng, p, math.sqrt(n_in) * 2 ** (bits - 2) * 64 + 1, cout)
    op = ir.Dense(**_names(name, ins), weight=weight,
                  bias=rng.integers(-(2**13), 2**13, cout).astype(np.int32), multiplier=m,
                  shift=s, relu=_take(p, "relu", lambda: bool(rng.integers(2))), weight_bits=bits)
    return op, _out_spec(rng, p, name, op, ins)


def _maxpool(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    kernel, stride, padding = _window(rng, p, ins[0].shape[:2], padded=True)
    op = ir.MaxPool(**_names(name, ins), kernel=kernel, stride=stride, padding=padding)
    return op, _kept_spec(name, op, ins)


def _avgpool(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    kernel, stride, _ = _window(rng, p, ins[0].shape[:2], padded=False)
    m, s = _rq(rng, p, kernel[0] * kernel[1] * 32)
    op = ir.AvgPool(**_names(name, ins), kernel=kernel, stride=stride, multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _global_avgpool(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    m, s = _rq(rng, p, ins[0].shape[0] * ins[0].shape[1] * 32)
    op = ir.GlobalAvgPool(**_names(name, ins), multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _gwap(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    h, w, c = ins[0].shape
    m, s = _rq(rng, p, math.sqrt(h * w) * 64 * 64, c)
    op = ir.Gwap(**_names(name, ins), weight=rng.integers(-128, 128, (h, w, c)).astype(np.int8),
                 multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _reduce_channels(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    mode = _take(p, "mode", lambda: str(rng.choice(["mean", "max"])))
    if mode == "max":
        op = ir.ReduceChannels(**_names(name, ins), mode=mode)
        return op, _kept_spec(name, op, ins)
    m, s = _rq(rng, p, ins[0].shape[2] * 32)
    op = ir.ReduceChannels(**_names(name, ins), mode=mode, multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _add(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    m1, s = _rq(rng, p, 64)
    m2 = int(np.clip(np.rint(m1 * np.exp2(rng.uniform(-2, 2))), 1, ir.M_MAX))
    op = ir.Add(**_names(name, ins), multipliers=(m1, m2), shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _mul(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    m, s = _rq(rng, p, 64 * 64)
    op = ir.Mul(**_names(name, ins), multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _concat(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    op = ir.Concat(**_names(name, ins))
    return op, _kept_spec(name, op, ins)


def _requant(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    m, s = _rq(rng, p, 64)
    op = ir.Requant(**_names(name, ins), multiplier=m, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _sigmoid(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    p["out_dtype"] = dtype = p.get("out_dtype") or str(rng.choice(EIGHT_BIT))
    lo, hi = ir.DTYPES[dtype]
    op = ir.Sigmoid(**_names(name, ins), lut=rng.integers(lo, hi + 1, 256).astype(dtype))
    return op, _out_spec(rng, p, name, op, ins)


def _prelu(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    m_pos, s = _rq(rng, p, 64)
    m_neg = rng.integers(1, m_pos + 1, ins[0].shape[2]).astype(np.int32)
    op = ir.Prelu(**_names(name, ins), multiplier_pos=m_pos, multiplier_neg=m_neg, shift=s)
    return op, _out_spec(rng, p, name, op, ins)


def _reshape(rng: Rng, p: Params, name: str, ins: Specs) -> Built:
    h, w, c = ins[0].shape
    n = h * w * c
    shapes = [(w, h, c), (c, w, h), (1, 1, n), (1, n, 1), (n, 1, 1)]
    shape = _take(p, "shape", lambda: shapes[int(rng.integers(len(shapes)))])
    op = ir.Reshape(**_names(name, ins), shape=tuple(shape))
    return op, _kept_spec(name, op, ins)


# Each op kind of the registry (`ir.OPS`) is built by the function `_<kind>` above.
OP_FACTORIES = {kind: fn for kind in ir.OPS if callable(fn := globals().get(f"_{kind}"))}


def make_op(kind: str, rng: np.random.Generator, name: str, ins: Sequence[ir.TensorSpec],
            **params: Any) -> tuple[ir.Op, ir.TensorSpec]:
    """A random valid op reading `ins`, and its output spec (named like the op).

    Args:
        kind: the op kind.
        rng: the generator.
        name: the op's and its output tensor's name.
        ins: the input specs.
        **params: fixed fields or choices, by op: `kernel`, `stride`, `padding`, `cout`,
            `relu`, `weight_bits`, `mode`, `shape`, `corners` (see `rq_params`), and
            `out_dtype`, `out_zero_point` for ops whose output quantisation is free.
    """
    p = dict(params)
    op, out = OP_FACTORIES[kind](rng, p, name, ins)
    p.pop("corners", None)
    if p:
        raise TypeError(f"{kind}: unknown parameters {sorted(p)}")
    return op, out


def single_op(kind: str, rng: np.random.Generator, **params: Any) -> ir.Model:
    """A model of one random op of `kind` with random input(s) "x" (and "x2", ...) and output "y".

    Args:
        kind: the op kind.
        rng: the generator.
        **params: those of `make_op`, plus `shape` (of x, HWC), `in_dtype`, `in_zero_point`,
            `shape2` (mul's second input) and `channels` (concat's input channel counts).
            For reshape, `shape` is the input's shape and `to` the new shape.
    """
    p = dict(params)
    shape = p.pop("shape", None) or (*_pair(rng, 1, 6), int(rng.integers(1, 5)))
    x = random_spec(rng, "x", shape, p.pop("in_dtype", None), p.pop("in_zero_point", None))
    h, w, c = x.shape
    ins = [x]
    if kind == "add":
        ins.append(random_spec(rng, "x2", x.shape))
    elif kind == "mul":
        ins.append(random_spec(rng, "x2", _take(p, "shape2", lambda: [(1, 1, c), (h, w, 1)][
            int(rng.integers(2))])))
    elif kind == "concat":
        channels = _take(p, "channels", lambda: rng.integers(1, 4, int(rng.integers(2, 4))))
        ins = [dataclasses.replace(x, name="x" if i == 0 else f"x{i + 1}", shape=(h, w, int(ci)))
               for i, ci in enumerate(channels)]
    if kind == "reshape" and "to" in p:
        p["shape"] = p.pop("to")
    op, out = make_op(kind, rng, "y", ins, **p)
    return ir.Model(f"single_{kind}", {t.name: t for t in (*ins, out)}, (op,),
                    tuple(t.name for t in ins), (out.name,))


def random_batch(model: ir.Model, rng: np.random.Generator, n: int = 3
                 ) -> dict[str, np.ndarray]:
    """Random `[n, H, W, C]` values per graph input, a fifth of them at lo, hi or the zero point."""
    feeds = {}
    for name in model.inputs:
        t = model.tensors[name]
        x = rng.integers(t.lo, t.hi, (n, *t.shape), endpoint=True)
        corner = rng.random(x.shape) < 0.2
        x[corner] = rng.choice([t.lo, t.hi, t.zero_point], int(corner.sum()))
        feeds[name] = x.astype(t.dtype)
    return feeds


def all_ops_graph(rng: np.random.Generator, size: int = 6, fc_dtype: str = "int32"
                  ) -> ir.Model:
    """A small CBAM/ECA-like network using every op kind, with two outputs (fc, eca).

    Args:
        rng: the generator.
        size: side of the uint8 input image (even).
        fc_dtype: the dtype of the final dense layer's output.
    """
    tensors = {"image": spec("image", (size, size, 1), "uint8", 0, 1 / 255)}
    ops: list[ir.Op] = []

    def layer(kind: str, name: str, inputs: Sequence[str], **params: Any) -> ir.TensorSpec:
        if "out_dtype" in params and "out_zero_point" not in params:
            lo = 0 if params["out_dtype"] == "uint8" else -8
            params["out_zero_point"] = int(rng.integers(lo, lo + 17))
        op, out = make_op(kind, rng, name, [tensors[t] for t in inputs], corners=0.0, **params)
        ops.append(op)
        tensors[name] = out
        return out

    same = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1)}
    layer("conv2d", "conv1", ["image"], cout=4, relu=True, out_dtype="int8", **same)
    layer("prelu", "prelu1", ["conv1"], out_dtype="int8")
    layer("maxpool", "pool1", ["prelu1"], kernel=(2, 2), stride=(2, 2), padding=(0, 0, 0, 0))
    layer("global_avgpool", "gap", ["pool1"], out_dtype="int8")
    layer("dense", "fc_att", ["gap"], cout=4, out_dtype="int8")
    layer("sigmoid", "att_c", ["fc_att"], out_dtype="uint8")
    x_c = layer("mul", "x_c", ["pool1", "att_c"], out_dtype="int8")
    layer("reduce_channels", "c_max", ["x_c"], mode="max")
    layer("reduce_channels", "c_mean", ["x_c"], mode="mean", out_dtype="int8",
          out_zero_point=x_c.zero_point)
    tensors["c_mean"] = dataclasses.replace(tensors["c_mean"], scale=x_c.scale)
    layer("concat", "c_cat", ["c_max", "c_mean"])
    layer("conv2d", "att_s_logit", ["c_cat"], cout=1, out_dtype="int8", **same)
    layer("sigmoid", "att_s", ["att_s_logit"], out_dtype="uint8")
    layer("mul", "x_s", ["x_c", "att_s"], out_dtype="int8")
    layer("add", "res", ["x_s", "pool1"], out_dtype="int8")
    layer("requant", "res_u8", ["res"], out_dtype="uint8")
    layer("avgpool", "apool", ["res_u8"], kernel=(2, 2), stride=(1, 1), out_dtype="int8")
    layer("gwap", "gw", ["apool"], out_dtype="int8")
    layer("reshape", "gw_t", ["gw"], shape=(1, 4, 1))
    layer("conv2d", "eca", ["gw_t"], kernel=(1, 3), stride=(1, 1), padding=(0, 0, 1, 1), cout=1,
          out_dtype="int8")
    layer("dense", "fc", ["pool1"], cout=5, out_dtype=fc_dtype)
    return ir.Model("all_ops", tensors, tuple(ops), ("image",), ("fc", "eca"))


def conv_chain(rng: np.random.Generator, shape: Sequence[int], cout: int = 8,
               window: tuple[Any, Any, Any] = ((3, 3), (1, 1), (1, 1, 1, 1)),
               pool: tuple[Any, Any, Any] | None = ((3, 3), (2, 2), (1, 1, 1, 1)),
               in_dtype: str = "uint8", pool_kind: str = "maxpool") -> ir.Model:
    """x → conv → PReLU → [pool] → 1×1 conv "head": a chain whose early feature maps are the
    largest tensors (what the layer-sequential compiler runs in row bands).

    Args:
        window, pool: (kernel, stride, padding) of the conv and of the pool (None: none; an
            avgpool takes no padding).
        pool_kind: maxpool or avgpool.
    """
    steps: list[tuple[str, dict[str, Any]]] = [
        ("conv2d", dict(zip(("kernel", "stride", "padding"), window, strict=True), cout=cout,
                        out_dtype="int8")),
        ("prelu", {"out_dtype": "int8"})]
    if pool is not None:
        if pool_kind == "maxpool":
            params = dict(zip(("kernel", "stride", "padding"), pool, strict=True))
        else:
            params = {"kernel": pool[0], "stride": pool[1], "out_dtype": "int8"}
        steps.append((pool_kind, params))
    steps.append(("conv2d", {"kernel": (1, 1), "stride": (1, 1), "padding": (0, 0, 0, 0),
                             "cout": 4, "out_dtype": "int8"}))
    return op_chain(rng, "conv_chain", random_spec(rng, "x", shape, in_dtype), steps)


def op_chain(rng: np.random.Generator, name: str, x: ir.TensorSpec,
             steps: Sequence[tuple[str, dict[str, Any]]]) -> ir.Model:
    """x → one op per (kind, `make_op` params) step, each on the previous output; the last
    op's output is "head"."""
    tensors, ops = [x], []
    for i, (kind, params) in enumerate(steps):
        op, out = make_op(kind, rng, "head" if i == len(steps) - 1 else f"{kind}{i}",
                          [tensors[-1]], **params)
        ops.append(op)
        tensors.append(out)
    return ir.Model(name, {t.name: t for t in tensors}, tuple(ops), ("x",), ("head",))
