"""IR op -> hand-written engine in hw/rtl: Verilog parameters, ROM images, expected cycles.

Each op kind with an engine (every kind of `ir.OPS` without `no_engine`) has one `EngineSpec`
builder, `<kind>_engine` for `hw/rtl/<kind>.sv`, found by `engine_for`. It checks the folding,
names the module and its sources, fills its parameters from the op and its tensors, and
knows the `.mem` files it needs and the analytical cycles per image. The generator
(`hw.gen.network`) and the per-engine tests both use these, so parameters are derived once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hw.gen import filelist
from quant import ir

PARAM_LANE_BITS = 54  # bias 32 + multiplier 16 + shift 6 per output channel
# Engine module -> the hw/rtl modules it uses directly (hw.gen.filelist adds their own uses).
RQ_ENGINE = ("hwc_counter", "rq_tail", "hccr_pkg")
SOURCES: dict[str, tuple[str, ...]] = {
    "conv2d": ("window", "mac_array", "requantiser", "lane_fifo", "hccr_pkg"),
    "dense": ("conv2d", "hccr_pkg"),
    "maxpool": ("window", "lane_fifo", "hccr_pkg"),
    "avgpool": ("window", "requantiser", "lane_fifo", "hccr_pkg"),
    "global_avgpool": RQ_ENGINE,
    "add": RQ_ENGINE,
    "concat": ("hwc_counter", "hccr_pkg"),
    "mul": RQ_ENGINE,
    "sigmoid": ("hwc_counter", "fifo", "hccr_pkg"),
    "reduce_channels": RQ_ENGINE,
    "gwap": RQ_ENGINE,
    "prelu": RQ_ENGINE,
    "requant": RQ_ENGINE,
}


class FoldingError(ValueError):
    """A folding (PE, SIMD) or op the engines cannot implement; names the layer."""


@dataclass(frozen=True)
class Folding:
    """Parallelism of one engine: PE output channels and SIMD input channels per cycle;
    `pack` computes two int8 products per multiplier (conv2d/dense, see mac_array.sv)."""

    pe: int = 1
    simd: int = 1
    pack: bool = False


@dataclass
class EngineSpec:
    """One engine instance.

    Attributes:
        name: the IR op name.
        module: the SystemVerilog module.
        params: its parameters (ROM file names relative to the simulation directory).
        mems: ROM images to write: file name -> (words, word width in bits).
        in_spec, out_spec: the tensors it reads and writes.
        cycles: analytical cycles per image, (OC/PE)*(IC*KH*KW/SIMD)*HO*WO for conv.
        in_beats, out_beats: elements per image on each stream (one per beat).
        in2_spec: the second input of a two-input engine (add, mul: ports `s0_axis`,
            `s1_axis`).
        packed_ins: every input of an N-input engine whose inputs share one packed port
            `s_axis` (concat: lane i, `tdata[i*8 +: 8]` and bit i of tvalid/tready/tlast, is
            input i); `in_spec` is the first of them.
    """

    name: str
    module: str
    params: dict[str, object]
    in_spec: ir.TensorSpec
    out_spec: ir.TensorSpec
    cycles: int
    mems: dict[str, tuple[list[int], int]] = field(default_factory=dict)
    in2_spec: ir.TensorSpec | None = None
    packed_ins: tuple[ir.TensorSpec, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """hw/rtl modules to compile, each after those it uses (the engine last)."""
        return filelist.sources(self.module, SOURCES)

    @property
    def in_beats(self) -> int:
        return math.prod(self.in_spec.shape)

    @property
    def out_beats(self) -> int:
        return math.prod(self.out_spec.shape)

    @property
    def bound_cycles(self) -> int:
        """Cycles per image when the slowest of compute, input and output streams limits."""
        return max(self.cycles, self.in_beats, self.out_beats)

    def write_mems(self, directory: str | Path) -> list[Path]:
        """Write the ROM images into `directory`; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [write_mem(directory / fname, words, width)
                for fname, (words, width) in self.mems.items()]


def write_mem(path: Path, words: list[int], width: int) -> Path:
    """A `$readmemh` file: one word per line, ceil(width/4) hex digits."""
    digits = (width + 3) // 4
    path.write_text("".join(f"{w:0{digits}x}\n" for w in words))
    return path


def _dtype_params(prefix: str, spec: ir.TensorSpec) -> dict[str, object]:
    if prefix == "IN":
        if spec.dtype not in ("int8", "uint8"):
            raise FoldingError(f"input '{spec.name}' is {spec.dtype}; engines read int8/uint8")
        return {"IN_SIGNED": spec.dtype == "int8", "IN_ZP": spec.zero_point}
    return {"OUT_W": 32 if spec.dtype == "int32" else 8, "OUT_SIGNED": spec.dtype != "uint8",
            "OUT_ZP": spec.zero_point}


def _check_fold(name: str, what: str, n: int, by: int, label: str) -> None:
    if by < 1 or n % by:
        raise FoldingError(f"{name}: {what}={by} does not divide {label}={n}")


def _check_no_pack(name: str, kind: str, fold: Folding) -> None:
    if fold.pack:
        raise FoldingError(f"{name}: {kind} has no multipliers to pack (PACK is for conv2d "
                           "and dense)")


def weight_words(weight: np.ndarray, pe: int, simd: int) -> list[int]:
    """Pack `[kh, kw, cin, cout]` int8 weights into PE*SIMD-byte ROM words (see conv2d.sv)."""
    kh, kw, cin, cout = weight.shape
    nf, cw = cout // pe, cin // simd
    # [kh, kw, cw, simd, nf, pe] -> [nf, kh, kw, cw, pe, simd]: word order, then lane order.
    w = weight.astype(np.int64).reshape(kh, kw, cw, simd, nf, pe).transpose(4, 0, 1, 2, 5, 3)
    lanes = (w.reshape(nf * kh * kw * cw, pe * simd) & 0xFF).tolist()
    return [sum(v << (8 * i) for i, v in enumerate(row)) for row in lanes]


def param_words(bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, pe: int
                ) -> list[int]:
    """Per-channel {shift, M, bias} lanes, PE per ROM word (see conv2d.sv)."""
    lane = [((int(s) & 0x3F) << 48) | ((int(m) & 0xFFFF) << 32) | (int(b) & 0xFFFFFFFF)
            for b, m, s in zip(bias, multiplier, shift, strict=True)]
    return pack_lanes(lane, pe, PARAM_LANE_BITS)


def pack_lanes(lanes: list[int], per_word: int, bits: int) -> list[int]:
    """ROM words of `per_word` lanes of `bits` bits each, the first lane in the low bits."""
    return [sum(v << (bits * i) for i, v in enumerate(lanes[g:g + per_word]))
            for g in range(0, len(lanes), per_word)]


Pair = tuple[int, int]


def _window_params(kernel: Pair, stride: Pair, padding: tuple[int, int, int, int]
                   ) -> dict[str, object]:
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, padding
    return {"KH": kh, "KW": kw, "SH": sh, "SW": sw, "PT": pt, "PB": pb, "PL": pl, "PR": pr}


def _check_padding(name: str, kernel: Pair, padding: tuple[int, int, int, int]) -> None:
    kh, kw = kernel
    pt, pb, pl, pr = padding
    if max(pt, pb) >= kh or max(pl, pr) >= kw:
        raise FoldingError(f"{name}: padding {list(padding)} must be smaller than the kernel "
                           f"{list(kernel)} in the RTL window")


def unit_m(op: ir.Conv2d | ir.Dense) -> bool:
    """Every requantisation multiplier of `op` is 1 (the `pot` scheme): requantiser.sv's UNIT_M,
    no DSP48 for the requantiser."""
    return bool(np.all(op.multiplier == 1))


def conv2d_engine(op: ir.Conv2d, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                  prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """conv2d.sv for a conv2d op."""
    h, w, cin = x.shape
    kh, kw, _, cout = op.weight.shape
    _check_fold(op.name, "PE", cout, fold.pe, "OC")
    _check_fold(op.name, "SIMD", cin, fold.simd, "IC")
    _check_padding(op.name, op.kernel, op.padding)
    wfile, pfile = f"{prefix}{op.name}_w.mem", f"{prefix}{op.name}_p.mem"
    params = {"H": h, "W": w, "IC": cin, "OC": cout, **_window_params(op.kernel, op.stride,
                                                                       op.padding),
              "PE": fold.pe, "SIMD": fold.simd, "PACK": fold.pack, **_dtype_params("IN", x),
              **_dtype_params("OUT", y), "RELU": bool(op.relu), "UNIT_M": unit_m(op),
              "FIFO_DEPTH": fifo_depth, "WEIGHT_FILE": wfile, "PARAM_FILE": pfile}
    ho, wo, _ = y.shape
    cycles = (cout // fold.pe) * (cin * kh * kw // fold.simd) * ho * wo
    mems = {wfile: (weight_words(op.weight, fold.pe, fold.simd), 8 * fold.pe * fold.simd),
            pfile: (param_words(op.bias, op.multiplier, op.shift, fold.pe),
                    PARAM_LANE_BITS * fold.pe)}
    return EngineSpec(op.name, "conv2d", params, x, y, cycles, mems)


def dense_engine(op: ir.Dense, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                 prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """dense.sv (a 1x1 convolution of a 1x1xN image) for a dense op."""
    n_in, n_out = op.weight.shape
    _check_fold(op.name, "PE", n_out, fold.pe, "OUT")
    _check_fold(op.name, "SIMD", n_in, fold.simd, "IN")
    wfile, pfile = f"{prefix}{op.name}_w.mem", f"{prefix}{op.name}_p.mem"
    params = {"N_IN": n_in, "N_OUT": n_out, "PE": fold.pe, "SIMD": fold.simd, "PACK": fold.pack,
              **_dtype_params("IN", x), **_dtype_params("OUT", y), "RELU": bool(op.relu),
              "UNIT_M": unit_m(op), "FIFO_DEPTH": fifo_depth, "WEIGHT_FILE": wfile,
              "PARAM_FILE": pfile}
    cycles = (n_out // fold.pe) * (n_in // fold.simd)
    mems = {wfile: (weight_words(op.weight.reshape(1, 1, n_in, n_out), fold.pe, fold.simd),
                    8 * fold.pe * fold.simd),
            pfile: (param_words(op.bias, op.multiplier, op.shift, fold.pe),
                    PARAM_LANE_BITS * fold.pe)}
    return EngineSpec(op.name, "dense", params, x, y, cycles, mems)


def _check_simd_only(name: str, kind: str, fold: Folding, c: int) -> None:
    if fold.pe != 1:
        raise FoldingError(f"{name}: {kind} takes SIMD only, PE must be 1 (got {fold.pe})")
    _check_no_pack(name, kind, fold)
    _check_fold(name, "SIMD", c, fold.simd, "C")


def maxpool_engine(op: ir.MaxPool, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                   prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """maxpool.sv for a maxpool op (SIMD channels compared per cycle; PE must be 1)."""
    h, w, c = x.shape
    _check_simd_only(op.name, "maxpool", fold, c)
    _check_padding(op.name, op.kernel, op.padding)
    params = {"H": h, "W": w, "C": c, **_window_params(op.kernel, op.stride, op.padding),
              "SIMD": fold.simd, **_dtype_params("IN", x), "FIFO_DEPTH": fifo_depth}
    ho, wo, _ = y.shape
    cycles = (c // fold.simd) * op.kernel[0] * op.kernel[1] * ho * wo
    return EngineSpec(op.name, "maxpool", params, x, y, cycles)


def avgpool_engine(op: ir.AvgPool, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                   prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """avgpool.sv for an avgpool op (SIMD channels summed per cycle; PE must be 1)."""
    h, w, c = x.shape
    _check_simd_only(op.name, "avgpool", fold, c)
    (kh, kw), (sh, sw) = op.kernel, op.stride
    params = {"H": h, "W": w, "C": c, "KH": kh, "KW": kw, "SH": sh, "SW": sw,
              "SIMD": fold.simd, **_dtype_params("IN", x), **_dtype_params("OUT", y),
              "MULT": int(op.multiplier), "SHIFT": int(op.shift), "FIFO_DEPTH": fifo_depth}
    ho, wo, _ = y.shape
    cycles = (c // fold.simd) * kh * kw * ho * wo
    return EngineSpec(op.name, "avgpool", params, x, y, cycles)


def global_avgpool_engine(op: ir.GlobalAvgPool, x: ir.TensorSpec, y: ir.TensorSpec,
                          fold: Folding, prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """global_avgpool.sv (one element per cycle; no folding) for a global_avgpool op."""
    if (fold.pe, fold.simd) != (1, 1):
        raise FoldingError(f"{op.name}: global_avgpool takes no folding (PE = SIMD = 1), got "
                           f"PE={fold.pe} SIMD={fold.simd}")
    _check_no_pack(op.name, "global_avgpool", fold)
    h, w, c = x.shape
    params = {"H": h, "W": w, "C": c, **_dtype_params("IN", x), **_dtype_params("OUT", y),
              "MULT": int(op.multiplier), "SHIFT": int(op.shift), "FIFO_DEPTH": fifo_depth}
    return EngineSpec(op.name, "global_avgpool", params, x, y, h * w * c)


def add_engine(op: ir.Add, x: ir.TensorSpec, x2: ir.TensorSpec, y: ir.TensorSpec,
               fold: Folding, prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """add.sv (one element pair per cycle; no folding) for an add op."""
    if (fold.pe, fold.simd) != (1, 1):
        raise FoldingError(f"{op.name}: add takes no folding (PE = SIMD = 1), got "
                           f"PE={fold.pe} SIMD={fold.simd}")
    _check_no_pack(op.name, "add", fold)
    a, b = _dtype_params("IN", x), _dtype_params("IN", x2)
    m1, m2 = op.multipliers
    params = {"N": math.prod(x.shape), "A_SIGNED": a["IN_SIGNED"], "A_ZP": a["IN_ZP"],
              "B_SIGNED": b["IN_SIGNED"], "B_ZP": b["IN_ZP"], "M1": int(m1), "M2": int(m2),
              "SHIFT": int(op.shift), **_dtype_params("OUT", y), "FIFO_DEPTH": fifo_depth}
    return EngineSpec(op.name, "add", params, x, y, math.prod(x.shape), in2_spec=x2)


def _check_unfolded(name: str, kind: str, fold: Folding) -> None:
    if (fold.pe, fold.simd) != (1, 1) or fold.pack:
        raise FoldingError(f"{name}: {kind} takes no folding (PE = SIMD = 1, no PACK), got "
                           f"PE={fold.pe} SIMD={fold.simd} PACK={fold.pack}")


def _hwc(spec: ir.TensorSpec) -> dict[str, object]:
    h, w, c = spec.shape
    return {"H": h, "W": w, "C": c}


MAX_CONCAT = 8  # inputs of concat.sv


def concat_engine(op: ir.Concat, xs: list[ir.TensorSpec], y: ir.TensorSpec, fold: Folding,
                  prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """concat.sv (a multiplexer, one element per cycle; inputs on one packed port)."""
    _check_unfolded(op.name, "concat", fold)
    if not 2 <= len(xs) <= MAX_CONCAT:
        raise FoldingError(f"{op.name}: concat.sv takes 2..{MAX_CONCAT} inputs, got {len(xs)}")
    for x in xs:
        _dtype_params("IN", x)
    h, w, c = y.shape
    params = {"H": h, "W": w, "N": len(xs), **{f"C{i}": x.shape[2] for i, x in enumerate(xs)}}
    return EngineSpec(op.name, "concat", params, xs[0], y, h * w * c, packed_ins=tuple(xs))


def mul_engine(op: ir.Mul, x: ir.TensorSpec, x2: ir.TensorSpec, y: ir.TensorSpec,
               fold: Folding, prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """mul.sv (one element per cycle; a [1,1,C] gate is read before each image) for a mul op."""
    _check_unfolded(op.name, "mul", fold)
    h, w, c = x.shape
    gate = tuple(x2.shape) != (h, w, 1)  # [1, 1, C]: C values per image, read first
    a, b = _dtype_params("IN", x), _dtype_params("IN", x2)
    params = {**_hwc(x), "GATE": gate, "A_SIGNED": a["IN_SIGNED"], "A_ZP": a["IN_ZP"],
              "B_SIGNED": b["IN_SIGNED"], "B_ZP": b["IN_ZP"], **_dtype_params("OUT", y),
              "MULT": int(op.multiplier), "SHIFT": int(op.shift), "FIFO_DEPTH": fifo_depth}
    return EngineSpec(op.name, "mul", params, x, y, h * w * c + (c if gate else 0),
                      in2_spec=x2)


def sigmoid_engine(op: ir.Sigmoid, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                   prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """sigmoid.sv (256-entry LUT ROM, one element per cycle) for a sigmoid op."""
    _check_unfolded(op.name, "sigmoid", fold)
    n = math.prod(x.shape)
    lfile = f"{prefix}{op.name}_lut.mem"
    params = {"N": n, "IN_SIGNED": _dtype_params("IN", x)["IN_SIGNED"],
              "FIFO_DEPTH": fifo_depth, "LUT_FILE": lfile}
    mems = {lfile: ((op.lut.astype(np.int64) & 0xFF).tolist(), 8)}
    return EngineSpec(op.name, "sigmoid", params, x, y, n, mems)


def reduce_channels_engine(op: ir.ReduceChannels, x: ir.TensorSpec, y: ir.TensorSpec,
                           fold: Folding, prefix: str = "", fifo_depth: int = 16
                           ) -> EngineSpec:
    """reduce_channels.sv (one element per cycle) for a reduce_channels op (mean or max)."""
    _check_unfolded(op.name, "reduce_channels", fold)
    is_max = op.mode == "max"
    params = {**_hwc(x), "MAX_MODE": is_max, **_dtype_params("IN", x),
              **_dtype_params("OUT", y), "MULT": 1 if is_max else int(op.multiplier),
              "SHIFT": 0 if is_max else int(op.shift), "FIFO_DEPTH": fifo_depth}
    return EngineSpec(op.name, "reduce_channels", params, x, y, math.prod(x.shape))


def gwap_engine(op: ir.Gwap, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """gwap.sv (one element per cycle; weight and M/shift ROMs) for a gwap op."""
    _check_unfolded(op.name, "gwap", fold)
    wfile, pfile = f"{prefix}{op.name}_w.mem", f"{prefix}{op.name}_p.mem"
    params = {**_hwc(x), **_dtype_params("IN", x), **_dtype_params("OUT", y),
              "FIFO_DEPTH": fifo_depth, "WEIGHT_FILE": wfile, "PARAM_FILE": pfile}
    mems = {wfile: ((op.weight.astype(np.int64).reshape(-1) & 0xFF).tolist(), 8),
            pfile: ([(int(s) << 16) | int(m) for m, s in zip(op.multiplier, op.shift,
                                                               strict=True)], 22)}
    return EngineSpec(op.name, "gwap", params, x, y, math.prod(x.shape), mems)


def prelu_engine(op: ir.Prelu, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                 prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """prelu.sv (one element per cycle; M_neg ROM) for a prelu op."""
    _check_unfolded(op.name, "prelu", fold)
    nfile = f"{prefix}{op.name}_neg.mem"
    params = {**_hwc(x), **_dtype_params("IN", x), **_dtype_params("OUT", y),
              "M_POS": int(op.multiplier_pos), "SHIFT": int(op.shift), "FIFO_DEPTH": fifo_depth,
              "NEG_FILE": nfile}
    mems = {nfile: ([int(m) for m in op.multiplier_neg], 16)}
    return EngineSpec(op.name, "prelu", params, x, y, math.prod(x.shape), mems)


def requant_engine(op: ir.Requant, x: ir.TensorSpec, y: ir.TensorSpec, fold: Folding,
                   prefix: str = "", fifo_depth: int = 16) -> EngineSpec:
    """requant.sv (one element per cycle) for a requant op."""
    _check_unfolded(op.name, "requant", fold)
    n = math.prod(x.shape)
    params = {"N": n, **_dtype_params("IN", x), **_dtype_params("OUT", y),
              "MULT": int(op.multiplier), "SHIFT": int(op.shift), "FIFO_DEPTH": fifo_depth}
    return EngineSpec(op.name, "requant", params, x, y, n)


# Each op kind of the registry (`ir.OPS`) with an RTL engine is built by `<kind>_engine` above.
_BUILDERS = {kind: fn for kind in ir.OPS if callable(fn := globals().get(f"{kind}_engine"))}


def engine_for(op: ir.Op, model: ir.Model, fold: Folding | None = None, prefix: str = "",
               fifo_depth: int = 16) -> EngineSpec:
    """The engine for one op of a model.

    Raises:
        FoldingError: the op kind has no engine (`no_engine` says why) or none yet, or the
            folding does not fit it.
    """
    if op.no_engine:
        raise FoldingError(f"{op.name}: op {op.kind} has no RTL engine ({op.no_engine})")
    build = _BUILDERS.get(op.kind)
    if build is None:
        raise FoldingError(f"{op.name}: op {op.kind} has no RTL engine yet "
                           f"(have: {', '.join(_BUILDERS)})")
    ins = [model.tensors[t] for t in op.inputs]
    rest = (model.tensors[op.output], fold or Folding(), prefix, fifo_depth)
    if op.arity == 0:  # any number of inputs, on one packed port
        return build(op, ins, *rest)
    return build(op, *ins, *rest)
