"""Integer IR, versions 1 and 2: the contract every back end reads (DESIGN.md, "Integer IR").

A `Model` holds `TensorSpec`s (HWC, one image) and ops in topological order, one frozen
dataclass per op kind. `OPS` (kind -> class) is the op registry: each class declares its
fields, shape inference and checks, and the traits the back ends read (how it walks its
input, its multiply-accumulates, whether the layer-sequential engine fuses it on write, why
it has no RTL engine); every layer finds its own part of an op by the op's kind
(docs/ops.md). On disk it is `model.json` plus
`weights.npz`, whose arrays are named `<op>.<field>`; scalar and list fields stay in the JSON.
`validate` lists every problem, each naming its layer; `check`, `load` and `save` raise
`IRError` with all of them on one line. Version 2 adds a model-level table of early exits
(`ExitPoint`, docs/early_exit.md); a model without exits is written and read as version 1.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import ClassVar

import numpy as np

IR_VERSION = 2  # the newest version; a model without exits is written as version 1
IR_VERSIONS = (1, 2)
DTYPES: dict[str, tuple[int, int]] = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int32": (-(2**31), 2**31 - 1),
}
INT32_MAX = 2**31 - 1
NAME_MAX = 128  # op and tensor names become file names, Verilog and C++ identifiers
_IDENTIFIER = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{NAME_MAX - 1}}}\Z")
M_MAX = 2**15  # multipliers lie in [1, M_MAX]
S_MAX = 46  # shifts lie in [0, S_MAX]

COMMON_FIELDS = ("name", "inputs", "output")
_TOP_KEYS = {"ir_version", "name", "tensors", "ops", "inputs", "outputs"}
_EXIT_KEYS = {"name", "logits", "luts", "threshold"}
EXIT_LUT_MAX = 256  # an 8-bit logit difference d = max - l lies in [0, 255]
_TENSOR_KEYS = {"shape", "dtype", "scale", "zero_point"}
# Field name -> (required length or None for any, lowest value, highest value).
_FIELD_RULES: dict[str, tuple[int | None, float, float]] = {
    "kernel": (2, 1, math.inf),
    "stride": (2, 1, math.inf),
    "padding": (4, 0, math.inf),
    "shape": (3, 1, math.inf),
    "multiplier": (None, 1, M_MAX),
    "multipliers": (2, 1, M_MAX),
    "multiplier_pos": (None, 1, M_MAX),
    "multiplier_neg": (None, 1, M_MAX),
    "shift": (None, 0, S_MAX),
    "weight_bits": (None, 2, 8),
}


# How an op reads its first input before its first output (`Op.reads`).
WINDOW = "window"  # a window of complete rows (a line buffer)
TENSOR = "tensor"  # the whole tensor
PIXEL = "pixel"  # one pixel (or one element)
VIEW = "view"  # nothing: the data is reinterpreted, no arithmetic
READS = (WINDOW, TENSOR, PIXEL, VIEW)
# What the layer-sequential engine does with an op that is not on its MAC array (`Op.on_write`).
PASS = "pass"  # a vector pass of its own
IN_PLACE = "in place"  # no pass: its inputs are written into its bytes, or it reads theirs
AFTER_CONV = "after conv"  # fused into the write-back of the conv2d before it, else a pass
ON_WRITE = (PASS, IN_PLACE, AFTER_CONV)


class IRError(ValueError):
    """An invalid IR model or IR folder.

    Attributes:
        where: the file, folder or model the problems were found in.
        problems: one message per problem, each naming its layer or tensor.
    """

    def __init__(self, where: str, problems: Sequence[str]) -> None:
        self.where = where
        self.problems = list(problems)
        super().__init__(f"{where}: {'; '.join(self.problems)}")

    def __reduce__(self) -> tuple[type[IRError], tuple[str, list[str]]]:
        return IRError, (self.where, self.problems)


class _Problem(ValueError):
    """One problem found while checking an op; caught and collected by `validate`."""


def _expect(ok: bool, message: str) -> None:
    if not ok:
        raise _Problem(message)


@dataclass(frozen=True)
class TensorSpec:
    """One activation tensor: `real = scale * (q - zero_point)`."""

    name: str
    shape: tuple[int, int, int]
    dtype: str
    scale: float
    zero_point: int

    @property
    def lo(self) -> int:
        """Smallest value of the dtype."""
        return DTYPES[self.dtype][0]

    @property
    def hi(self) -> int:
        """Largest value of the dtype."""
        return DTYPES[self.dtype][1]

    @property
    def max_offset(self) -> int:
        """Largest `|q - zero_point|` over the dtype's range."""
        return max(self.hi - self.zero_point, self.zero_point - self.lo)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool(np.array_equal(a, b)))
    return a == b


@dataclass(frozen=True, kw_only=True, eq=False)
class Op:
    """Fields every op has; subclasses add the fields of their row in the DESIGN table.

    Class attributes (the op's entry in the registry, docs/ops.md):
        kind: the `op` string in `model.json`; golden's function, `hw/hls/<kind>.py`,
            `hw/rtl/<kind>.sv` and the tests are named after it.
        arity: number of inputs (0: one or more).
        ARRAYS: fields stored in `weights.npz`, with their allowed dtypes.
        reads: what it reads of its first input before its first output (`READS`).
        mac_array: a multiply-accumulate over int8 weights `[..., cin, cout]` that runs on a
            PE x SIMD MAC array (`mac_shape`).
        on_write: what the layer-sequential engine does with it when not on the MAC array
            (`ON_WRITE`).
        no_engine: why it has no RTL engine `hw/rtl/<kind>.sv` (empty: it has one).
    """

    kind: ClassVar[str]
    arity: ClassVar[int] = 1
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {}
    reads: ClassVar[str] = PIXEL
    mac_array: ClassVar[bool] = False
    on_write: ClassVar[str] = PASS
    no_engine: ClassVar[str] = ""

    name: str
    inputs: tuple[str, ...]
    output: str

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            _same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        """Output shape for these input specs.

        Raises:
            ValueError: the fields disagree with each other or with the inputs.
        """
        raise NotImplementedError

    def check_output(self, ins: Sequence[TensorSpec], out: TensorSpec) -> None:
        """Check the output's dtype/scale/zero point where the op constrains them.

        Raises:
            ValueError: they break the op's rule.
        """

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        """Worst-case `|acc|` from weight magnitudes and input ranges (None: no accumulator)."""
        return None

    def macs(self, ins: Sequence[TensorSpec], out: TensorSpec) -> int:
        """Multiply-accumulates per image: the MAC array's of a `mac_array` op, else none
        (0, e.g. sums and comparisons)."""
        return math.prod(self.mac_shape(ins, out)) if self.mac_array else 0

    def mac_shape(self, ins: Sequence[TensorSpec], out: TensorSpec) -> tuple[int, int, int]:
        """(output channels, reduction length, output pixels) of a `mac_array` op."""
        raise NotImplementedError(f"{self.kind} does not run on a MAC array")


def _window_shape(hw: tuple[int, int], kernel: Sequence[int], stride: Sequence[int],
                  padding: Sequence[int]) -> tuple[int, int]:
    (h, w), (kh, kw), (sh, sw) = hw, kernel, stride
    hp, wp = h + padding[0] + padding[1], w + padding[2] + padding[3]
    _expect(hp >= kh and wp >= kw, f"kernel {kh}x{kw} larger than the padded input {hp}x{wp}")
    return (hp - kh) // sh + 1, (wp - kw) // sw + 1


def _per_channel(op: Op, n: int, names: Sequence[str]) -> None:
    for name in names:
        shape = getattr(op, name).shape
        _expect(shape == (n,), f"{name} has shape {list(shape)}, expected [{n}]")


def _keeps_quant(ins: Sequence[TensorSpec], out: TensorSpec) -> None:
    for t in (*ins[1:], out):
        _expect((t.dtype, t.scale, t.zero_point) == (ins[0].dtype, ins[0].scale, ins[0].zero_point),
                f"tensor '{t.name}' must share dtype, scale and zero point with '{ins[0].name}'")


@dataclass(frozen=True, kw_only=True, eq=False)
class _SameQuant(Op):
    """An op whose inputs and output share dtype, scale and zero point."""

    def check_output(self, ins: Sequence[TensorSpec], out: TensorSpec) -> None:
        _keeps_quant(ins, out)


@dataclass(frozen=True, kw_only=True, eq=False)
class _PerElement(Op):
    """An op with one multiply per element of its first input."""

    def macs(self, ins: Sequence[TensorSpec], out: TensorSpec) -> int:
        return math.prod(ins[0].shape)


def _weighted_bound(weight: np.ndarray, bias: np.ndarray | None, offset: int) -> int:
    """max over output channels of |bias| + sum |w| * offset; weight is [taps, channels]."""
    sums = np.abs(weight.astype(np.int64)).sum(axis=0).tolist()
    biases = [0] * len(sums) if bias is None else np.abs(bias.astype(np.int64)).tolist()
    return max(b + s * offset for b, s in zip(biases, sums, strict=True))


_RQ_ARRAYS = {"bias": ("int32",), "multiplier": ("int32",), "shift": ("int32",)}


@dataclass(frozen=True, kw_only=True, eq=False)
class Conv2d(Op):
    """Standard convolution (groups = 1); weight `[kh, kw, cin, cout]`."""

    kind: ClassVar[str] = "conv2d"
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {"weight": ("int8",), **_RQ_ARRAYS}
    reads: ClassVar[str] = WINDOW
    mac_array: ClassVar[bool] = True

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    weight: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    relu: bool = False
    weight_bits: int = 8

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        h, w, c = ins[0].shape
        _expect(self.weight.ndim == 4,
                f"weight must be [kh, kw, cin, cout], got shape {list(self.weight.shape)}")
        kh, kw, cin, cout = self.weight.shape
        _expect(tuple(self.kernel) == (kh, kw),
                f"kernel {list(self.kernel)} != weight's [{kh}, {kw}]")
        _expect(cin == c, f"weight has cin={cin}, input '{ins[0].name}' has C={c}")
        _per_channel(self, cout, ("bias", "multiplier", "shift"))
        return (*_window_shape((h, w), self.kernel, self.stride, self.padding), cout)

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        flat = self.weight.reshape(-1, self.weight.shape[-1])
        return _weighted_bound(flat, self.bias, ins[0].max_offset)

    def mac_shape(self, ins: Sequence[TensorSpec], out: TensorSpec) -> tuple[int, int, int]:
        kh, kw, cin, cout = self.weight.shape
        return cout, kh * kw * cin, out.shape[0] * out.shape[1]


@dataclass(frozen=True, kw_only=True, eq=False)
class Dense(Op):
    """Fully connected on the HWC-flattened input; weight `[in, out]`, output `[1, 1, out]`."""

    kind: ClassVar[str] = "dense"
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {"weight": ("int8",), **_RQ_ARRAYS}
    reads: ClassVar[str] = TENSOR
    mac_array: ClassVar[bool] = True

    weight: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    relu: bool = False
    weight_bits: int = 8

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        n_in = math.prod(ins[0].shape)
        _expect(self.weight.ndim == 2,
                f"weight must be [in, out], got shape {list(self.weight.shape)}")
        _expect(self.weight.shape[0] == n_in,
                f"weight has {self.weight.shape[0]} inputs, input '{ins[0].name}' has {n_in}")
        _per_channel(self, self.weight.shape[1], ("bias", "multiplier", "shift"))
        return 1, 1, self.weight.shape[1]

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return _weighted_bound(self.weight, self.bias, ins[0].max_offset)

    def mac_shape(self, ins: Sequence[TensorSpec], out: TensorSpec) -> tuple[int, int, int]:
        n_in, n_out = self.weight.shape
        return n_out, n_in, 1


@dataclass(frozen=True, kw_only=True, eq=False)
class MaxPool(_SameQuant):
    """Max over each window; padded positions never win, so each side's pad < kernel."""

    kind: ClassVar[str] = "maxpool"
    reads: ClassVar[str] = WINDOW
    on_write: ClassVar[str] = AFTER_CONV

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        kh, kw = self.kernel
        top, bottom, left, right = self.padding
        _expect(max(top, bottom) < kh and max(left, right) < kw,
                f"padding {list(self.padding)} must be smaller than kernel {list(self.kernel)}")
        return (*_window_shape(ins[0].shape[:2], self.kernel, self.stride, self.padding),
                ins[0].shape[2])


@dataclass(frozen=True, kw_only=True, eq=False)
class AvgPool(Op):
    """Window sum of `x - zx` (no padding), requantised with scalar multiplier and shift."""

    kind: ClassVar[str] = "avgpool"
    reads: ClassVar[str] = WINDOW

    kernel: tuple[int, int]
    stride: tuple[int, int]
    multiplier: int
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        return (*_window_shape(ins[0].shape[:2], self.kernel, self.stride, (0, 0, 0, 0)),
                ins[0].shape[2])

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return self.kernel[0] * self.kernel[1] * ins[0].max_offset


@dataclass(frozen=True, kw_only=True, eq=False)
class GlobalAvgPool(Op):
    """Sum of `x - zx` over H and W, requantised; output `[1, 1, C]`."""

    kind: ClassVar[str] = "global_avgpool"
    reads: ClassVar[str] = TENSOR

    multiplier: int
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        return 1, 1, ins[0].shape[2]

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        h, w, _ = ins[0].shape
        return h * w * ins[0].max_offset


@dataclass(frozen=True, kw_only=True, eq=False)
class Gwap(_PerElement):
    """Global weighted average pooling: `sum_hw (x - zx) * w[h, w, c]`, per-channel rq."""

    kind: ClassVar[str] = "gwap"
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "weight": ("int8",), "multiplier": ("int32",), "shift": ("int32",)}
    reads: ClassVar[str] = TENSOR

    weight: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _expect(self.weight.shape == ins[0].shape,
                f"weight has shape {list(self.weight.shape)}, input '{ins[0].name}' is "
                f"{list(ins[0].shape)}")
        _per_channel(self, ins[0].shape[2], ("multiplier", "shift"))
        return 1, 1, ins[0].shape[2]

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return _weighted_bound(self.weight.reshape(-1, self.weight.shape[-1]), None,
                               ins[0].max_offset)


@dataclass(frozen=True, kw_only=True, eq=False)
class ReduceChannels(Op):
    """Mean (rq of the sum of `x - zx`) or max over C; output `[H, W, 1]`."""

    kind: ClassVar[str] = "reduce_channels"

    mode: str
    multiplier: int | None = None
    shift: int | None = None

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _expect(self.mode in ("mean", "max"), f"mode '{self.mode}' is not mean or max")
        has_rq = (self.multiplier is not None, self.shift is not None)
        if self.mode == "mean":
            _expect(all(has_rq), "mode mean needs multiplier and shift")
        else:
            _expect(not any(has_rq), "mode max takes no multiplier or shift")
        return *ins[0].shape[:2], 1

    def check_output(self, ins: Sequence[TensorSpec], out: TensorSpec) -> None:
        if self.mode == "max":
            _keeps_quant(ins, out)

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return ins[0].shape[2] * ins[0].max_offset if self.mode == "mean" else None


@dataclass(frozen=True, kw_only=True, eq=False)
class Add(Op):
    """`acc = (x1 - z1) * M1 + (x2 - z2) * M2`, then `(acc + r) >> s`; same-shape inputs."""

    kind: ClassVar[str] = "add"
    arity: ClassVar[int] = 2

    multipliers: tuple[int, int]
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _expect(ins[0].shape == ins[1].shape,
                f"inputs have different shapes {list(ins[0].shape)} and {list(ins[1].shape)}")
        return ins[0].shape

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return sum(m * t.max_offset for m, t in zip(self.multipliers, ins, strict=True))


@dataclass(frozen=True, kw_only=True, eq=False)
class Mul(_PerElement):
    """`acc = (x1 - z1) * (x2 - z2)`, x2 `[1, 1, C]` or `[H, W, 1]` broadcast, then rq."""

    kind: ClassVar[str] = "mul"
    arity: ClassVar[int] = 2

    multiplier: int
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        h, w, c = ins[0].shape
        _expect(ins[1].shape in ((1, 1, c), (h, w, 1)),
                f"second input '{ins[1].name}' has shape {list(ins[1].shape)}, expected "
                f"[1, 1, {c}] or [{h}, {w}, 1]")
        return ins[0].shape

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return ins[0].max_offset * ins[1].max_offset


@dataclass(frozen=True, kw_only=True, eq=False)
class Concat(_SameQuant):
    """Concatenation along C; inputs and output share dtype, scale and zero point."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[int] = 0
    on_write: ClassVar[str] = IN_PLACE

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        hw = ins[0].shape[:2]
        for t in ins:
            _expect(t.shape[:2] == hw, f"input '{t.name}' is {list(t.shape)}, expected H, W = "
                                       f"{list(hw)}")
        return *hw, sum(t.shape[2] for t in ins)


@dataclass(frozen=True, kw_only=True, eq=False)
class Requant(Op):
    """`acc = x - zx`, then rq: changes scale, zero point and dtype."""

    kind: ClassVar[str] = "requant"

    multiplier: int
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        return ins[0].shape

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return ins[0].max_offset


@dataclass(frozen=True, kw_only=True, eq=False)
class Sigmoid(Op):
    """Table look-up `y = lut[x - lo_in]` on an 8-bit input; the LUT has the output dtype."""

    kind: ClassVar[str] = "sigmoid"
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {"lut": ("int8", "uint8")}

    lut: np.ndarray

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _expect(ins[0].dtype in ("int8", "uint8"),
                f"input '{ins[0].name}' is {ins[0].dtype}, a LUT needs int8 or uint8")
        _expect(self.lut.shape == (256,), f"lut has shape {list(self.lut.shape)}, expected [256]")
        return ins[0].shape

    def check_output(self, ins: Sequence[TensorSpec], out: TensorSpec) -> None:
        _expect(out.dtype == self.lut.dtype.name,
                f"lut is {self.lut.dtype.name} but output '{out.name}' is {out.dtype}")


@dataclass(frozen=True, kw_only=True, eq=False)
class Prelu(_PerElement):
    """`acc = (x - zx) * (M_pos if x >= zx else M_neg[c])`, then `(acc + r) >> s`."""

    kind: ClassVar[str] = "prelu"
    ARRAYS: ClassVar[dict[str, tuple[str, ...]]] = {"multiplier_neg": ("int32",)}

    multiplier_pos: int
    multiplier_neg: np.ndarray
    shift: int

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _per_channel(self, ins[0].shape[2], ("multiplier_neg",))
        return ins[0].shape

    def acc_bound(self, ins: Sequence[TensorSpec]) -> int | None:
        return ins[0].max_offset * max(self.multiplier_pos, *self.multiplier_neg.tolist())


@dataclass(frozen=True, kw_only=True, eq=False)
class Reshape(_SameQuant):
    """Reinterpret the HWC row-major data with a new shape (same element count)."""

    kind: ClassVar[str] = "reshape"
    reads: ClassVar[str] = VIEW
    on_write: ClassVar[str] = IN_PLACE
    no_engine: ClassVar[str] = ("wiring: the HWC stream passes unchanged, only its shape is read "
                                "differently")

    shape: tuple[int, int, int]

    def output_shape(self, ins: Sequence[TensorSpec]) -> tuple[int, int, int]:
        _expect(math.prod(self.shape) == math.prod(ins[0].shape),
                f"shape {list(self.shape)} does not hold the {math.prod(ins[0].shape)} elements "
                f"of '{ins[0].name}'")
        return tuple(self.shape)


OPS: dict[str, type[Op]] = {cls.kind: cls for cls in (
    Conv2d, Dense, MaxPool, AvgPool, GlobalAvgPool, Gwap, ReduceChannels, Add, Mul, Concat,
    Requant, Sigmoid, Prelu, Reshape)}


def op_fields(cls: type[Op]) -> list[str]:
    """The op-specific field names of an op class (everything but name, inputs, output)."""
    return [f.name for f in fields(cls) if f.name not in COMMON_FIELDS]


@dataclass(frozen=True)
class ExitPoint:
    """One exit point of an early-exit cascade (IR v2; the rule is in docs/early_exit.md).

    Attributes:
        name: the exit's name.
        logits: its 8-bit `[1, 1, K]` logits tensor(s), graph outputs; two at the last point
            average their softmax probabilities.
        luts: one table per logits tensor, `LUT[d] ~ 2^F * exp(-d * scale)` (d beyond the
            table: 0), when the point tests or averages; empty for a plain argmax.
        threshold: `T`: an image leaves here when `sum_j LUT[max - l_j] <= T`; None at the
            last point, which takes every image that reaches it.
    """

    name: str
    logits: tuple[str, ...]
    luts: tuple[tuple[int, ...], ...] = ()
    threshold: int | None = None


@dataclass(frozen=True)
class Model:
    """An IR model: tensors by name, ops in topological order, graph inputs and outputs, and
    (IR v2) the early-exit points in the order an image meets them."""

    name: str
    tensors: dict[str, TensorSpec]
    ops: tuple[Op, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    exits: tuple[ExitPoint, ...] = ()


# ---------------------------------------------------------------------------------- validation


def _log2_ceil(n: int) -> int:
    return (n - 1).bit_length()


def _tensor_problems(key: str, t: TensorSpec) -> list[str]:
    where = f"tensor '{key}'"
    problems = []
    if t.name != key:
        problems.append(f"{where}: name field says '{t.name}'")
    if not (isinstance(t.shape, tuple | list) and len(t.shape) == 3
            and all(isinstance(d, int | np.integer) and d >= 1 for d in t.shape)):
        problems.append(f"{where}: shape {list(t.shape)} is not [H, W, C] of positive integers")
    if t.dtype not in DTYPES:
        problems.append(f"{where}: dtype '{t.dtype}' is not one of {', '.join(DTYPES)}")
    elif not (isinstance(t.zero_point, int | np.integer) and t.lo <= t.zero_point <= t.hi):
        problems.append(f"{where}: zero_point {t.zero_point!r} outside {t.dtype} [{t.lo}, {t.hi}]")
    if not (isinstance(t.scale, float | int) and math.isfinite(t.scale) and t.scale > 0):
        problems.append(f"{where}: scale {t.scale!r} is not a positive finite number")
    return problems


def _graph_problems(model: Model) -> list[str]:
    problems = []
    for kind, names in (("input", model.inputs), ("output", model.outputs)):
        if not names:
            problems.append(f"graph has no {kind}s")
        problems += [f"graph {kind} '{t}' is not a declared tensor"
                     for t in names if t not in model.tensors]
    producer = {t: "the graph input" for t in model.inputs}
    later = {op.output for op in model.ops}
    seen_ops: set[str] = set()
    for op in model.ops:
        if op.name in seen_ops:
            problems.append(f"{op.name}: duplicate op name")
        seen_ops.add(op.name)
        for t in op.inputs:
            if t not in model.tensors:
                problems.append(f"{op.name}: input '{t}' is not a declared tensor")
            elif t not in producer:
                problems.append(f"{op.name}: input '{t}' is used before it is produced "
                                "(ops not in topological order)" if t in later
                                else f"{op.name}: input '{t}' is never produced")
        if op.output not in model.tensors:
            problems.append(f"{op.name}: output '{op.output}' is not a declared tensor")
        elif op.output in producer:
            problems.append(f"{op.name}: tensor '{op.output}' is already produced by "
                            f"{producer[op.output]}")
        else:
            producer[op.output] = op.name
    problems += [f"tensor '{t}': never produced" for t in model.tensors if t not in producer]
    return problems


def _name_problems(model: Model) -> list[str]:
    """Op and tensor names every back end can use as a file name and an identifier."""
    named = [("op", op.name) for op in model.ops] + [("tensor", t) for t in model.tensors]
    return [f"{kind} name {name!r} is not an identifier (ASCII letters, digits and _, not "
            f"starting with a digit, at most {NAME_MAX} characters)"
            for kind, name in named if not _IDENTIFIER.match(name)]


def _field_problems(op: Op) -> list[str]:
    """Array dtypes, integer types and value ranges of the op's own fields."""
    problems = []
    for name, dtypes in op.ARRAYS.items():
        value = getattr(op, name)
        got = value.dtype.name if isinstance(value, np.ndarray) else type(value).__name__
        if got not in dtypes:
            problems.append(f"{name} must be an array of {' or '.join(dtypes)}, got {got}")
    if problems:
        return problems
    for f in fields(op):
        value = getattr(op, f.name)
        if f.name in COMMON_FIELDS or value is None or f.type in ("bool", "str"):
            continue
        values = np.asarray(value)
        if values.dtype.kind not in "iu":
            problems.append(f"{f.name} must be integer, got {value!r}")
            continue
        length, lo, hi = _FIELD_RULES.get(f.name, (None, -math.inf, math.inf))
        if length is not None and values.shape != (length,):
            problems.append(f"{f.name} must have {length} values, got {values.tolist()}")
        elif values.size and (values.min() < lo or values.max() > hi):
            shown = values.tolist() if values.size <= 4 else f"{values.min()}..{values.max()}"
            problems.append(f"{f.name} outside [{lo}, {hi}]: {shown}")
    bits = getattr(op, "weight_bits", 8)
    if not problems and bits != 8:
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        if op.weight.size and (op.weight.min() < lo or op.weight.max() > hi):
            problems.append(f"weight values {op.weight.min()}..{op.weight.max()} exceed the "
                            f"signed {bits}-bit range [{lo}, {hi}]")
    return problems


def _op_problems(op: Op, ins: Sequence[TensorSpec], out: TensorSpec) -> list[str]:
    """Problems of one op whose input and output tensors are declared and valid."""
    arity_ok = len(ins) == op.arity if op.arity else len(ins) >= 1
    if not arity_ok:
        return [f"takes {op.arity or 'one or more'} input(s), got {len(ins)}"]
    problems = _field_problems(op)
    if problems:
        return problems
    try:
        shape = op.output_shape(ins)
        op.check_output(ins, out)
    except _Problem as exc:
        return [str(exc)]
    if tuple(shape) != tuple(out.shape):
        return [f"output shape {list(shape)} != {list(out.shape)} declared for '{out.name}'"]
    bound = op.acc_bound(ins)
    if bound is not None and bound > INT32_MAX:
        return [f"accumulator may reach 2^{_log2_ceil(bound)}"]
    return []


def _lut_problems(lut: Sequence[int], classes: int) -> list[str]:
    """An exit LUT: 1..256 entries, non-negative, non-increasing, LUT[0] >= 1, and the sum of
    `classes` entries fits int32."""
    if not 1 <= len(lut) <= EXIT_LUT_MAX:
        return [f"has {len(lut)} entries, expected 1..{EXIT_LUT_MAX}"]
    values = np.asarray(lut, np.int64)
    if values.min() < 0 or values[0] < 1 or (np.diff(values) > 0).any():
        return ["must be non-negative and non-increasing with LUT[0] >= 1"]
    if classes * int(values[0]) > INT32_MAX:
        return [f"sum of {classes} entries may reach {classes * int(values[0])} (beyond int32)"]
    return []


def _exit_point_problems(model: Model, e: ExitPoint, last: bool) -> list[str]:
    """One exit point's rules (docs/early_exit.md), each message naming the exit."""
    problems = []
    if not 1 <= len(e.logits) <= (2 if last else 1):
        problems.append(f"takes {'one or two logits tensors' if last else 'one logits tensor'}"
                        f" (only the last point averages two), got {len(e.logits)}")
    for t in e.logits:
        spec = model.tensors.get(t)
        if spec is None or t not in model.outputs:
            problems.append(f"logits '{t}' is not a graph output")
        elif spec.dtype not in ("int8", "uint8") or tuple(spec.shape[:2]) != (1, 1):
            problems.append(f"logits '{t}' must be an 8-bit [1, 1, K] tensor, is {spec.dtype} "
                            f"{list(spec.shape)}")
    if last and e.threshold is not None:
        problems.append("the last point takes every image: its threshold must be null")
    elif not last and not (isinstance(e.threshold, int) and 0 <= e.threshold <= INT32_MAX):
        problems.append(f"threshold {e.threshold!r} is not an integer in [0, 2^31 - 1]")
    needed = len(e.logits) if e.threshold is not None or len(e.logits) == 2 else 0
    if len(e.luts) != needed:
        problems.append(f"needs {needed} LUT(s) (one per logits tensor when it tests or "
                        f"averages), got {len(e.luts)}")
    if len(e.luts) != needed or not needed:
        return problems
    classes = max((model.tensors[t].shape[2] for t in e.logits if t in model.tensors),
                  default=1)
    for t, lut in zip(e.logits, e.luts, strict=True):
        problems += [f"LUT of '{t}' {p}" for p in _lut_problems(lut, classes)]
    if len(e.luts) == 2 and not problems and 2 * classes * e.luts[0][0] * e.luts[1][0] >= 2**63:
        problems.append("the averaged score E^a * S^b + E^b * S^a may leave int64")
    return problems


def _exit_problems(model: Model) -> list[str]:
    """The exit table (IR v2): at least two points, unique names, one class count, and each
    point's rules."""
    if not model.exits:
        return []
    problems = []
    if len(model.exits) < 2:
        problems.append("exits: a table needs an early exit and a last point")
    names = [e.name for e in model.exits]
    problems += [f"exit '{n}': duplicate name" for n in sorted(set(names))
                 if names.count(n) > 1]
    for i, e in enumerate(model.exits):
        last = i == len(model.exits) - 1
        problems += [f"exit '{e.name}': {p}" for p in _exit_point_problems(model, e, last)]
    classes = {model.tensors[t].shape[2] for e in model.exits for t in e.logits
               if t in model.tensors}
    if len(classes) > 1:
        problems.append(f"exits: logits have different class counts {sorted(classes)}")
    return problems


def validate(model: Model) -> list[str]:
    """Every problem of the model, each message naming its layer or tensor (empty: valid).

    Checks op and tensor names (identifiers, safe as file names), tensors (dtype, shape, zero
    point, scale), the graph (each tensor produced once, ops in
    topological order, inputs and outputs declared), each op's arity, array dtypes and field
    ranges, its output shape and constraints, and the worst-case accumulator: `|bias| +
    sum |w| * max|x - zx|` (or the op's equivalent) must fit int32. Then `acc * M + r` fits
    int64 without a check of its own: `|acc| < 2^31`, `M <= 2^15` and `r <= 2^45` keep it
    below 2^47.
    """
    by_tensor = {k: _tensor_problems(k, t) for k, t in model.tensors.items()}
    problems = [p for found in by_tensor.values() for p in found]
    problems += _name_problems(model) + _graph_problems(model)
    problems += _exit_problems(model)
    for op in model.ops:
        if all(by_tensor.get(t) == [] for t in (*op.inputs, op.output)):
            ins = [model.tensors[t] for t in op.inputs]
            problems += [f"{op.name}: {p}" for p in _op_problems(op, ins, model.tensors[op.output])]
    return problems


def check(model: Model, where: str | None = None) -> None:
    """Raise `IRError` listing every problem of the model, if any.

    Args:
        model: the model.
        where: what to name in the message (default: the model's name).
    """
    problems = validate(model)
    if problems:
        raise IRError(where or f"IR '{model.name}'", problems)


# ---------------------------------------------------------------------------------- JSON + npz


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return int(value) if isinstance(value, np.integer) else value


def to_json(model: Model) -> tuple[dict, dict[str, np.ndarray]]:
    """The `model.json` document and the `weights.npz` arrays of a model."""
    arrays: dict[str, np.ndarray] = {}
    ops = []
    for op in model.ops:
        entry: dict[str, object] = {"name": op.name, "op": op.kind, "inputs": list(op.inputs),
                                    "output": op.output}
        for name in op_fields(type(op)):
            value = getattr(op, name)
            if name in op.ARRAYS:
                arrays[f"{op.name}.{name}"] = value
            elif value is not None:
                entry[name] = _json_value(value)
        ops.append(entry)
    doc = {
        "ir_version": 2 if model.exits else 1,
        "name": model.name,
        "tensors": {k: {"shape": _json_value(tuple(t.shape)), "dtype": t.dtype,
                        "scale": float(t.scale), "zero_point": int(t.zero_point)}
                    for k, t in model.tensors.items()},
        "ops": ops,
        "inputs": list(model.inputs),
        "outputs": list(model.outputs),
    }
    if model.exits:
        doc["exits"] = [{"name": e.name, "logits": list(e.logits),
                         "luts": [list(lut) for lut in e.luts], "threshold": e.threshold}
                        for e in model.exits]
    return doc, arrays


def _dumps(doc: dict) -> str:
    """JSON text with one line per top-level key, tensor and op."""
    def block(value: object) -> str:
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
            return "{\n" + ",\n".join(rows) + "\n }"
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return "[\n" + ",\n".join(f"  {json.dumps(v)}" for v in value) + "\n ]"
        return json.dumps(value)

    return "{\n" + ",\n".join(f" {json.dumps(k)}: {block(v)}" for k, v in doc.items()) + "\n}\n"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_from_json(value: object, type_: str) -> object:
    """Convert a JSON field value to its dataclass type (a string annotation)."""
    if type_.startswith("tuple"):
        ok = isinstance(value, list) and all(_is_int(v) for v in value)
        value = tuple(value) if ok else value
    elif type_ == "bool":
        ok = isinstance(value, bool)
    elif type_ == "str":
        ok = isinstance(value, str)
    else:
        ok = _is_int(value)
    _expect(ok, f"must be {type_}, got {value!r}")
    return value


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _op_from_json(i: int, entry: object, arrays: Mapping[str, np.ndarray], used: set[str],
                  problems: list[str], version: int = IR_VERSION) -> Op | None:
    """Build one op from its JSON entry, appending problems (each naming the op) on failure."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        problems.append(f"ops[{i}]: not an object with a string 'name'")
        return None
    name = entry["name"]
    kind = entry.get("op")
    cls = OPS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        problems.append(f"{name}: op {kind!r} unsupported")
        used.update(k for k in arrays if k.rsplit(".", 1)[0] == name)  # reported once, above
        return None
    start = len(problems)
    rest = {k: v for k, v in entry.items() if k not in (*COMMON_FIELDS, "op")}
    groups = rest.pop("groups", 1)
    if groups != 1:
        problems.append(f"{name}: groups={groups} unsupported (standard conv only)")
    if not _str_list(entry.get("inputs")) or not isinstance(entry.get("output"), str):
        problems.append(f"{name}: needs 'inputs' (list of names) and 'output' (a name)")
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        if f.name in COMMON_FIELDS:
            continue
        if f.name in cls.ARRAYS:
            key = f"{name}.{f.name}"
            used.add(key)
            if key in arrays:
                kwargs[f.name] = arrays[key]
            else:
                problems.append(f"{name}: array '{key}' missing from weights.npz")
        elif f.name in rest:
            try:
                kwargs[f.name] = _field_from_json(rest.pop(f.name), f.type)
            except _Problem as exc:
                problems.append(f"{name}: field '{f.name}' {exc}")
        elif f.default is MISSING:
            problems.append(f"{name}: missing field '{f.name}'")
    problems += [f"{name}: unknown field '{k}' (IR v{version} has no private extensions)"
                 for k in rest]
    if len(problems) > start:
        return None
    return cls(name=name, inputs=tuple(entry["inputs"]), output=entry["output"], **kwargs)


def _tensor_from_json(key: str, entry: object, problems: list[str]) -> TensorSpec | None:
    if not isinstance(entry, dict) or set(entry) != _TENSOR_KEYS:
        problems.append(f"tensor '{key}': needs exactly the keys {sorted(_TENSOR_KEYS)}")
        return None
    shape, dtype, scale, zp = (entry[k] for k in ("shape", "dtype", "scale", "zero_point"))
    if not (isinstance(shape, list) and all(_is_int(d) for d in shape) and isinstance(dtype, str)
            and isinstance(scale, float | int) and not isinstance(scale, bool) and _is_int(zp)):
        problems.append(f"tensor '{key}': shape must be a list of integers, dtype a string, "
                        "scale a number and zero_point an integer")
        return None
    return TensorSpec(key, tuple(shape), dtype, float(scale), zp)


def from_json(doc: object, arrays: Mapping[str, np.ndarray], where: str = "model.json") -> Model:
    """Build a model from a parsed `model.json` document and its `weights.npz` arrays.

    Only the structure is checked here (known ops and fields, JSON types, arrays present, no
    extra arrays); `validate` checks the semantics.

    Raises:
        IRError: listing every structural problem, each naming its op or tensor.
    """
    if not isinstance(doc, dict):
        raise IRError(where, ["the top level must be a JSON object"])
    version = doc.get("ir_version", IR_VERSION)
    if type(version) is not int or version not in IR_VERSIONS:
        raise IRError(where, [f"ir_version {version!r} unsupported (this reader knows "
                              f"{' and '.join(map(str, IR_VERSIONS))})"])
    keys = _TOP_KEYS | ({"exits"} if version >= 2 else set())
    problems = [f"unknown key '{k}' (IR v{version} has no private extensions)"
                for k in doc if k not in keys]
    problems += [f"missing key '{k}'" for k in sorted(keys - doc.keys())]
    if problems:
        raise IRError(where, problems)
    if not (isinstance(doc["name"], str) and isinstance(doc["tensors"], dict)
            and isinstance(doc["ops"], list) and _str_list(doc["inputs"])
            and _str_list(doc["outputs"])):
        raise IRError(where, ["name must be a string, tensors an object, ops a list, inputs and "
                              "outputs lists of names"])
    tensors = {k: _tensor_from_json(k, v, problems) for k, v in doc["tensors"].items()}
    used: set[str] = set()
    ops = [_op_from_json(i, e, arrays, used, problems, version)
           for i, e in enumerate(doc["ops"])]
    problems += [f"weights.npz: unexpected array '{k}'" for k in arrays if k not in used]
    exits = _exits_from_json(doc.get("exits"), problems) if version >= 2 else []
    if problems:
        raise IRError(where, problems)
    return Model(doc["name"], tensors, tuple(ops), tuple(doc["inputs"]),  # type: ignore[arg-type]
                 tuple(doc["outputs"]), tuple(exits))  # type: ignore[arg-type]


def _exits_from_json(entries: object, problems: list[str]) -> list[ExitPoint | None]:
    """The v2 exit table, appending a problem (naming the entry) for each malformed one."""
    if not isinstance(entries, list) or not entries:
        problems.append("exits must be a non-empty list (IR v2)")
        return []
    exits: list[ExitPoint | None] = []
    for i, e in enumerate(entries):
        ok = isinstance(e, dict) and set(e) == _EXIT_KEYS and isinstance(e["name"], str) and (
            _str_list(e["logits"]) and isinstance(e["luts"], list)
            and all(isinstance(lut, list) and all(map(_is_int, lut)) for lut in e["luts"])
            and (e["threshold"] is None or _is_int(e["threshold"])))
        if not ok:
            problems.append(f"exits[{i}]: needs exactly {sorted(_EXIT_KEYS)}: name a string, "
                            "logits a list of names, luts lists of integers, threshold an "
                            "integer or null")
        exits.append(ExitPoint(e["name"], tuple(e["logits"]), tuple(map(tuple, e["luts"])),
                               e["threshold"]) if ok else None)
    return exits


def save(model: Model, directory: str | Path) -> Path:
    """Check the model, then write `model.json` and `weights.npz` into `directory`.

    Returns:
        The directory.

    Raises:
        IRError: the model is invalid (nothing is written).
    """
    directory = Path(directory)
    check(model)
    doc, arrays = to_json(model)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.json").write_text(_dumps(doc))
    np.savez(directory / "weights.npz", **arrays)
    return directory


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load(directory: str | Path) -> Model:
    """Read and check the model in `directory` (`model.json` + `weights.npz`).

    Raises:
        IRError: one line naming the file and the problems (missing file, bad JSON, bad npz,
            unknown op or field, missing array, any `validate` problem).
    """
    directory = Path(directory)
    json_path, npz_path = directory / "model.json", directory / "weights.npz"
    try:
        doc = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise IRError(str(json_path), ["file not found"]) from None
    except json.JSONDecodeError as exc:
        raise IRError(str(json_path), [f"bad JSON at line {exc.lineno} column {exc.colno}: "
                                       f"{exc.msg}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IRError(str(json_path), [f"cannot read: {_one_line(exc)}"]) from None
    try:
        npz = np.load(npz_path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise IRError(str(npz_path), ["file not found"]) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise IRError(str(npz_path), [f"not a readable .npz archive: {_one_line(exc)}"]) from None
    model = from_json(doc, arrays, str(json_path))
    check(model, str(directory))
    return model
