"""IR → layer-sequential program: instructions, the DDR data block, activation-buffer layout.

Every tensor is a view of a *root* region of the activation buffer: a concat's inputs are
written at channel offsets of the concat's region (no copy), a reshape reads its input's bytes
under a new shape, every other tensor owns its region. Regions are placed by liveness (a
region is reused only after the last instruction reading it, `_place_regions`). Weights and
per-channel parameters go to the data block in the order the MAC array reads them
(docs/seq_program.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from base.errors import HccrError
from hw.gen.seq import bands, exits, pools, prefetch
from hw.gen.seq.config import EngineConfig, check_unit_m
from hw.gen.seq.isa import Bcast, Header, Instruction, Opcode
from quant import ir

ALIGN = 8  # region, record and data-block alignment (one AXI beat)
BAND = "@"  # a banded tensor's region is `tensor@band`; `tensor@R` notes its rows from R
VECTOR = {"requant": Opcode.REQUANT, "add": Opcode.ADD, "mul": Opcode.MUL,
          "sigmoid": Opcode.LUT, "prelu": Opcode.PRELU, "maxpool": Opcode.MAXPOOL,
          "avgpool": Opcode.AVGPOOL, "global_avgpool": Opcode.GAVG, "gwap": Opcode.GWAP}
PER_CHANNEL = {"prelu", "global_avgpool", "gwap"}  # vector ops with per-channel state
PARAM_BYTES = 8  # per output channel: bias int32, multiplier uint16, shift uint8, pad


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass(frozen=True)
class View:
    """A tensor as bytes of a root region: channel `offset`, `pitch` bytes per pixel."""

    root: str
    offset: int
    shape: tuple[int, int, int]
    pitch: int
    zero_point: int
    signed: bool


@dataclass
class Program:
    """A compiled network: header, instructions, data block, and where everything lives.

    Attributes:
        regions: activation-buffer byte address of each root region (image 0).
        shared: root regions with one copy for every image of a batch (those only the head
            of a split program uses: its `once` instructions run image by image).
        views: every IR tensor's view.
        inputs, outputs: (tensor, byte offset in the image's input/output record).
        fused: tensors never in the buffer (a conv's output whose max pool its MAC writes).
        stacked: graph inputs whose record holds the input *stacked* for its first conv
            (`_plan_stacks`): name → (KH, pad_t) (`records.stack_rows`).
    """

    config: EngineConfig
    header: Header
    instructions: list[Instruction]
    data: bytes
    regions: dict[str, int]
    views: dict[str, View]
    inputs: list[tuple[str, int]]
    outputs: list[tuple[str, int]]
    model_name: str = ""
    shared: frozenset[str] = frozenset()
    fused: frozenset[str] = frozenset()
    stacked: dict[str, tuple[int, int]] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The program as the engine reads it from DDR: header, instructions."""
        return self.header.encode() + b"".join(i.encode() for i in self.instructions)

    def address(self, tensor: str, slot: int = 0) -> int:
        """Where `tensor` of image `slot` of a batch lives (a head-only region has one copy)."""
        view = self.views[tensor]
        image = 0 if view.root in self.shared else slot
        return self.regions[view.root] + view.offset + image * self.header.act_image_bytes


@dataclass
class _Builder:
    model: ir.Model
    config: EngineConfig
    batch: int
    parent: dict[str, tuple[str, int]] = field(default_factory=dict)  # tensor → (tensor, off)
    reshapes: set[str] = field(default_factory=set)  # outputs of reshapes (contiguous views)
    stacked: dict[str, str] = field(default_factory=dict)  # conv → its stacked input's region
    banded: dict[str, tuple[ir.Op, ...]] = field(default_factory=dict)  # chain head → chain
    pooled: dict[str, ir.Op] = field(default_factory=dict)  # conv → its fused max pool
    root_bytes: dict[str, int] = field(default_factory=dict)  # regions smaller than a tensor
    instructions: list[Instruction] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)

    def view(self, name: str) -> View:
        spec = self.model.tensors[name]
        if name not in self.parent:
            return View(name, 0, tuple(spec.shape), spec.shape[2], spec.zero_point,
                        spec.dtype == "int8")
        whole, offset = self.parent[name]
        outer = self.view(whole)
        pitch = spec.shape[2] if name in self.reshapes else outer.pitch
        return View(outer.root, outer.offset + offset, tuple(spec.shape), pitch,
                    spec.zero_point, spec.dtype == "int8")

    def blob(self, raw: bytes) -> tuple[int, int]:
        """Append `raw` to the data block (aligned); return (offset, bytes)."""
        offset = len(self.data)
        self.data += raw + bytes(_align(len(raw)) - len(raw))
        return offset, len(raw)

    def emit(self, opcode: Opcode, op: str, produces: tuple[str, ...], **values: int) -> None:
        notes = {k: v for k, v in values.items() if isinstance(v, str)}  # region names
        self.instructions.append(Instruction(opcode, {
            **{k: int(v) for k, v in values.items() if v and k not in notes}, **notes},
            op, produces))


def _complete(b: _Builder, inputs: tuple[str, ...], output: str) -> None:
    """Note `output` as complete after the last instruction that completed one of `inputs`
    (a concat's copies come last; a reshape or an all-aliased concat writes nothing)."""
    last = max(i for i, ins in enumerate(b.instructions) if set(ins.produces) & set(inputs))
    b.instructions[last].produces += (output,)


def _view_fields(prefix: str, view: View) -> dict[str, int]:
    h, w, c = view.shape
    return {f"{prefix}_h": h, f"{prefix}_w": w, f"{prefix}_c": c, f"{prefix}_pitch": view.pitch,
            f"{prefix}_zp": view.zero_point, f"{prefix}_signed": int(view.signed),
            f"{prefix}_root": view.root, f"{prefix}_offset": view.offset}


def _plan_aliases(model: ir.Model) -> dict[str, tuple[str, int]]:
    """Concat inputs that can live inside their concat's region, and reshape outputs that read
    their input's bytes: tensor → (tensor it is part of, channel offset)."""
    produced = {op.output for op in model.ops}
    reshaped = {op.inputs[0] for op in model.ops if op.kind == "reshape"}
    parent: dict[str, tuple[str, int]] = {}
    for op in model.ops:
        if op.kind != "concat":
            continue
        offset = 0
        for t in op.inputs:
            if (t in produced and t not in reshaped and t not in parent
                    and op.inputs.count(t) == 1):
                parent[t] = (op.output, offset)
            offset += model.tensors[t].shape[2]
    return parent


def mac_segments(kernel: tuple[int, int], cin: int, row: bool) -> tuple[int, int]:
    """(segments per output pixel, bytes each) of a MAC's reduction: one per tap, or one per
    kernel row (`row`: its KW·IC bytes are contiguous in the input)."""
    kh, kw = kernel
    return (kh, kw * cin) if row else (kh * kw, cin)


def array_zero_point(view: View) -> int:
    """The input zero point as the MAC array sees it: the array takes int8 operands, so a
    uint8 input enters as x − 128 and its zero point likewise."""
    return view.zero_point if view.signed else view.zero_point - 128


def _folded_bias(op: ir.Op, a: View) -> np.ndarray:
    """`bias − za'·Σw` per output channel: the array sums x'·w over every lane, a padded or
    masked lane holding za', so the zero point's share is subtracted once, here.

    Raises:
        HccrError: the folded bias leaves int32.
    """
    w_sum = op.weight.reshape(-1, op.weight.shape[-1]).astype(np.int64).sum(axis=0)
    bias = op.bias.astype(np.int64) - array_zero_point(a) * w_sum
    if bias.min() < -(2**31) or bias.max() >= 2**31:
        raise HccrError(f"{op.name}: bias folded with the input zero point leaves int32")
    return bias


def _mac_block(op: ir.Op, a: View, kernel: tuple[int, int], row: bool, cfg: EngineConfig
               ) -> tuple[bytes, int, int]:
    """The data block of a conv/dense reading `a`: (bytes, tiles, bytes per tile). Tile t holds
    PE output channels: their parameters (`_folded_bias`), then for each segment (tap, or
    kernel row) and each chunk k of SIMD of its bytes a PE×SIMD block
    `[q][s] = w_segment[k·SIMD + s, t·PE + q]` (zero outside)."""
    pe, simd = cfg.pe, cfg.simd
    segments, length = mac_segments(kernel, a.shape[2], row)
    w = op.weight.reshape(segments, length, -1)
    cout = w.shape[2]
    tiles, chunks = math.ceil(cout / pe), math.ceil(length / simd)
    wp = np.zeros((segments, chunks * simd, tiles * pe), np.int8)
    wp[:, :length, :cout] = w
    # [tile, segment, chunk, pe, simd]
    blocks = wp.reshape(segments, chunks, simd, tiles, pe).transpose(3, 0, 1, 4, 2)
    params = np.zeros((tiles * pe, PARAM_BYTES), np.uint8)
    params[:cout] = _param_words(op.multiplier, op.shift, _folded_bias(op, a))
    tile_bytes = _align(pe * PARAM_BYTES + segments * chunks * pe * simd)
    out = bytearray()
    for t in range(tiles):
        raw = params[t * pe:(t + 1) * pe].tobytes() + blocks[t].tobytes()
        out += raw + bytes(tile_bytes - len(raw))
    return bytes(out), tiles, tile_bytes


def _row_mode(a: View, kernel: tuple[int, int], simd: int) -> bool:
    """Whether a MAC reads whole kernel rows: its input is contiguous (pitch = C) and that
    takes fewer chunks than tap by tap."""
    kh, kw = kernel
    c = a.shape[2]
    return a.pitch == c and math.ceil(kw * c / simd) < kw * math.ceil(c / simd)


def _window(op: ir.Op) -> dict[str, int]:
    (kh, kw), (sh, sw) = op.kernel, op.stride
    top, bottom, left, right = getattr(op, "padding", (0, 0, 0, 0))
    return {"kh": kh, "kw": kw, "sh": sh, "sw": sw, "pad_t": top, "pad_b": bottom, "pad_l": left,
            "pad_r": right}


def _param_words(multiplier: np.ndarray, shift: np.ndarray, bias: np.ndarray | None = None
                 ) -> np.ndarray:
    """One parameter word per channel: bias int32 (0 without one), multiplier uint16,
    shift uint8, a pad byte (`PARAM_BYTES` each)."""
    p = np.zeros((len(multiplier), PARAM_BYTES), np.uint8)
    if bias is not None:
        p[:, 0:4] = np.asarray(bias).astype("<i4").view(np.uint8).reshape(-1, 4)
    p[:, 4:6] = np.asarray(multiplier).astype("<u2").view(np.uint8).reshape(-1, 2)
    p[:, 6] = np.asarray(shift).astype(np.uint8)
    return p


def _mac_fields(b: _Builder, op: ir.Op, a: View) -> dict[str, int]:
    """A MAC's weights appended to the data block, and its fields but the views."""
    cfg = b.config
    kernel = tuple(op.kernel) if op.kind == "conv2d" else a.shape[:2]
    row = _row_mode(a, kernel, cfg.simd)
    raw, tiles, tile_bytes = _mac_block(op, a, kernel, row, cfg)
    if tile_bytes > cfg.tile_bytes:
        raise HccrError(f"{op.name}: one weight tile is {tile_bytes:,} bytes, more than "
                        f"the engine's {cfg.tile_bytes:,}-byte tile buffer")
    off, size = b.blob(raw)
    win = (_window(op) if op.kind == "conv2d" else
           {"kh": kernel[0], "kw": kernel[1], "sh": 1, "sw": 1})
    return {**win, "relu": op.relu, "row": row, "ddr_off": off, "ddr_bytes": size,
            "tiles": tiles, "tile_bytes": tile_bytes}


def _emit_mac(b: _Builder, op: ir.Op, a: View, y: View,
              produces: tuple[str, ...], pool: bool = False) -> None:
    b.emit(Opcode.MAC, op.name, produces, **_view_fields("a", a), **_view_fields("y", y),
           **_mac_fields(b, op, a), pool=pool)


def _rows(view: View, r0: int, r1: int) -> View:
    """Rows [r0, r1) of `view`."""
    h, w, c = view.shape
    return dataclasses.replace(view, offset=view.offset + r0 * w * view.pitch,
                               shape=(r1 - r0, w, c))


def _plan_stacks(b: _Builder) -> None:
    """Graph inputs whose first conv reads them *stacked*: a region `[H, W, KH·C]` whose channel
    block i holds input row y + i − pad_t at row y (the zero point outside the image), so that
    the KH×KW conv is a 1×KW conv reading KH·KW·C contiguous bytes per output pixel (one chunk
    for the first conv of a network instead of KH). The input record holds the stacked bytes
    (`records.stack_rows`: the host stacks them), one contiguous LOAD. Only where the chunks
    saved per pixel (all tiles) outnumber the cycles the KH − 1 extra copies take on the DDR,
    with stride 1 down and the input's height kept."""
    model, simd = b.model, b.config.simd
    reshaped = {op.inputs[0] for op in model.ops if op.kind == "reshape"}
    for name in model.inputs:
        spec = model.tensors[name]
        (h, w, c), conv = spec.shape, next((op for op in model.ops if name in op.inputs), None)
        if name in reshaped or conv is None or conv.kind != "conv2d" or conv.inputs[0] != name:
            continue
        (kh, kw), pad_t = conv.kernel, conv.padding[0]
        saved = (min(kh * kw * math.ceil(c / simd), kh * math.ceil(kw * c / simd))
                 - math.ceil(kh * kw * c / simd)) * math.ceil(conv.weight.shape[-1] / b.config.pe)
        if (conv.stride[0] == 1 and model.tensors[conv.output].shape[0] == h and pad_t < kh
                and saved > (kh - 1) * c / b.config.ddr_bytes_per_cycle):
            stack = f"{name}:stacked"
            b.model = dataclasses.replace(model := b.model, tensors={
                **model.tensors, stack: dataclasses.replace(spec, name=stack,
                                                            shape=(h, w, kh * c))})
            b.parent[name] = (stack, pad_t * c)
            b.stacked[conv.name] = stack


def _stacked_conv(b: _Builder, name: str) -> ir.Op | None:
    """The conv that reads graph input `name` stacked (`_plan_stacks`), else None."""
    return next((op for op in b.model.ops if op.name in b.stacked and op.inputs[0] == name),
                None)


def _emit_load(b: _Builder, name: str, offset: int) -> int:
    """The LOAD of a graph input at `offset` of the input record (a stacked input's record
    holds the stacked bytes, `_plan_stacks`); returns the bytes it takes there."""
    conv = _stacked_conv(b, name)
    view = b.view(b.stacked[conv.name] if conv else name)
    size = math.prod(view.shape)
    b.emit(Opcode.LOAD, name, (name,), **_view_fields("y", view), ddr_off=offset,
           ddr_bytes=size)
    return size


def _mac_operands(b: _Builder, op: ir.Op) -> tuple[ir.Op, View]:
    """The op a conv/dense runs as and its input view: a stacked first conv (`_plan_stacks`)
    is a 1×KW conv over the KH row-shifted copies."""
    if op.name not in b.stacked:
        return op, b.view(op.inputs[0])
    (kh, kw), c = op.kernel, b.model.tensors[op.inputs[0]].shape[2]
    return dataclasses.replace(op, weight=op.weight.transpose(1, 0, 2, 3).reshape(
        1, kw, kh * c, -1), kernel=(1, kw), padding=(0, 0, *op.padding[2:])), b.view(
        b.stacked[op.name])


def _vector_fields(b: _Builder, op: ir.Op) -> tuple[Opcode, dict[str, int]]:
    """A vector op's opcode and its fields but the a and y views (tables and per-channel
    parameters appended to the data block)."""
    if op.kind == "reduce_channels":
        if op.mode == "max":
            return Opcode.CHMAX, {}
        return Opcode.CHMEAN, {"mult": op.multiplier, "shift": op.shift}
    opcode = VECTOR.get(op.kind)
    channels = b.model.tensors[op.inputs[0]].shape[2]
    if op.kind in PER_CHANNEL and channels > b.config.max_c:
        raise HccrError(f"{op.name}: {channels} channels, more than the engine's "
                        f"{b.config.max_c} per-channel entries (max_c)")
    if opcode is None:
        raise HccrError(f"{op.name}: op '{op.kind}' has no layer-sequential instruction")
    if op.kind == "add":
        return opcode, {**_view_fields("b", b.view(op.inputs[1])), "mult": op.multipliers[0],
                        "mult2": op.multipliers[1], "shift": op.shift}
    if op.kind == "mul":
        a, bv = b.view(op.inputs[0]), b.view(op.inputs[1])
        bcast = Bcast.CHANNEL if bv.shape[:2] == (1, 1) else Bcast.PIXEL
        if bv.shape == a.shape:
            bcast = Bcast.NONE
        return opcode, {**_view_fields("b", bv), "bcast": bcast, "mult": op.multiplier,
                        "shift": op.shift}
    if op.kind == "sigmoid":
        off, size = b.blob(np.asarray(op.lut).astype(np.uint8).tobytes())
        return opcode, {"ddr_off": off, "ddr_bytes": size}
    if op.kind == "prelu":
        off, size = b.blob(np.asarray(op.multiplier_neg).astype("<u2").tobytes())
        return opcode, {"mult": op.multiplier_pos, "shift": op.shift, "ddr_off": off,
                        "ddr_bytes": size}
    if op.kind in ("maxpool", "avgpool"):
        extra = _window(op)
        if op.kind == "avgpool":
            extra |= {"mult": op.multiplier, "shift": op.shift}
        return opcode, extra
    if op.kind in ("requant", "global_avgpool"):
        return opcode, {"mult": op.multiplier, "shift": op.shift}
    if op.kind == "gwap":
        off, size = b.blob(_param_words(op.multiplier, op.shift).tobytes()
                           + op.weight.astype(np.int8).tobytes())
        return opcode, {"ddr_off": off, "ddr_bytes": size}
    return opcode, {}


def _emit_op(b: _Builder, op: ir.Op) -> None:
    """The instruction(s) of one IR op (concat: copies of the inputs it could not alias)."""
    model = b.model
    y = b.view(op.output)
    if op.kind == "concat":
        offset = 0
        for t in op.inputs:
            if b.parent.get(t) != (op.output, offset):
                slot = View(y.root, y.offset + offset, tuple(model.tensors[t].shape), y.pitch,
                            y.zero_point, y.signed)
                b.emit(Opcode.COPY, op.name, (), **_view_fields("a", b.view(t)),
                       **_view_fields("y", slot))
            offset += model.tensors[t].shape[2]
        if b.instructions[-1].op == op.name:  # its copies are the last instructions
            b.instructions[-1].produces += (op.output,)
        else:
            _complete(b, op.inputs, op.output)
        return
    if op.kind == "reshape":
        _complete(b, op.inputs, op.output)
        return
    if op.name in b.banded:
        _emit_chain(b, b.banded[op.name])
        return
    if op.kind in ("conv2d", "dense"):
        if pool := b.pooled.get(op.name):  # the MAC writes the pool's output (`pools`)
            y = b.view(pool.output)
        op, a = _mac_operands(b, op)
        _emit_mac(b, op, a, y, (pool.output if pool else op.output,), pool is not None)
        return
    opcode, extra = _vector_fields(b, op)
    b.emit(opcode, op.name, (op.output,), **_view_fields("a", b.view(op.inputs[0])),
           **_view_fields("y", y), **extra)


def _band_tag(tensor: str, row: int) -> str:
    """How an instruction notes that it completes rows from `row` on of a banded tensor."""
    return f"{tensor}{BAND}{row}"


def _emit_chain(b: _Builder, chain: tuple[ir.Op, ...]) -> None:
    """A conv and the row-wise ops after it, band by band (`bands`): every intermediate tensor
    in a region of one band's rows, the last op writing its rows of its output."""
    head, a = _mac_operands(b, chain[0])
    views = [b.view(op.output) for op in chain]
    heights = [a.shape[0], *(v.shape[0] for v in views[:-1])]
    windows = [bands.window(op) for op in (head, *chain[1:])]
    height = views[-1].shape[0]
    per_band = bands.band_rows(windows, heights, [math.prod(v.shape[1:]) for v in views],
                               height, b.config.act_bytes // 8)
    plan = [bands.steps(windows, heights, r0, min(r0 + per_band, height))
            for r0 in range(0, height, per_band)]
    regions = []
    for v in views[:-1]:
        rows = max(p[len(regions)].r1 - p[len(regions)].r0 for p in plan)
        root = f"{v.root}{BAND}band"
        b.root_bytes[root] = _align(rows * math.prod(v.shape[1:]))
        regions.append(View(root, 0, (rows, *v.shape[1:]), v.shape[2], v.zero_point, v.signed))
    opcodes, fields = zip((Opcode.MAC, _mac_fields(b, head, a)),
                          *(_vector_fields(b, op) for op in chain[1:]), strict=True)
    for n, band in enumerate(plan):
        for k, (op, step) in enumerate(zip(chain, band, strict=True)):
            src = _rows(a, step.i0, step.i1) if k == 0 else _rows(regions[k - 1], 0,
                                                                  step.i1 - step.i0)
            last = k == len(chain) - 1
            y = _rows(views[k], step.r0, step.r1) if last else _rows(regions[k], 0,
                                                                    step.r1 - step.r0)
            produces = ((op.output,) if n == len(plan) - 1 else ()) if last else (
                _band_tag(op.output, step.r0),)
            pads = {"pad_t": step.pad_t, "pad_b": step.pad_b} if "kh" in fields[k] else {}
            b.emit(opcodes[k], op.name, produces, **_view_fields("a", src),
                   **_view_fields("y", y), **{**fields[k], **pads})


def _spans(b: _Builder) -> dict[str, tuple[int, int]]:
    """First and last instruction using each root region."""
    spans: dict[str, tuple[int, int]] = {}
    for i, ins in enumerate(b.instructions):
        for p in "aby":
            root = ins.fields.get(f"{p}_root")
            if root is not None:
                spans[root] = (spans.get(root, (i, i))[0], i)
    return spans


def _place_regions(spans: dict[str, tuple[int, int]], size: dict[str, int]) -> dict[str, int]:
    """Region addresses by liveness (a region is reused only after the last instruction
    reading it): the lower of two placements, each region at the lowest address clear of
    the placed regions whose instructions overlap its own, taken in order of first use or
    largest first (TensorFlow Lite's greedy-by-size arena planner). Neither is always
    lower; by size leaves no fragments under the large early tensors, which gave the split
    programs of the unpruned seed networks a batch of 2–5 instead of 1–2."""
    orders = (lambda r: (spans[r][0], r), lambda r: (-size[r], spans[r][0], r))
    return min((_place_in_order(spans, size, sorted(spans, key=k)) for k in orders),
               key=lambda regions: max((regions[r] + size[r] for r in regions), default=0))


def _place_in_order(spans: dict[str, tuple[int, int]], size: dict[str, int],
                    order: list[str]) -> dict[str, int]:
    placed: list[tuple[int, int, int, int]] = []  # (address, end, first use, last use)
    regions: dict[str, int] = {}
    for root in order:
        first, last = spans[root]
        busy = sorted((a, e) for a, e, f, u in placed if f <= last and u >= first)
        address = 0
        for a, e in busy:
            if address + size[root] <= a:
                break
            address = max(address, e)
        regions[root] = address
        placed.append((address, address + size[root], first, last))
    return regions


@dataclass(frozen=True)
class _Layout:
    """The activation buffer of a program split at instruction `split`: the head (before it)
    runs image by image in one shared zone of `head_bytes`; the tail runs per batch, image n
    at `n·image_bytes` after the head zone. Tensors the head leaves to the tail live there."""

    split: int
    regions: dict[str, int]  # image 0's address of every root region
    per_image: frozenset[str]  # roots with one copy per image (the tail's)
    head_bytes: int
    image_bytes: int

    def need(self, batch: int) -> int:
        return self.head_bytes + batch * self.image_bytes


def _layout(spans: dict[str, tuple[int, int]], size: dict[str, int], split: int) -> _Layout:
    tail = {r for r, (_, last) in spans.items() if last >= split}
    head = _place_regions({r: s for r, s in spans.items() if r not in tail}, size)
    per_image = _place_regions({r: (max(spans[r][0], split), spans[r][1]) for r in tail}, size)
    head_bytes = _align(max((head[r] + size[r] for r in head), default=0))
    image_bytes = _align(max((per_image[r] + size[r] for r in per_image), default=0))
    return _Layout(split, {**head, **{r: head_bytes + a for r, a in per_image.items()}},
                   frozenset(tail), head_bytes, image_bytes)


def _place(b: _Builder) -> _Layout:
    """The layout of the batch: the whole program per batch when B images fit, else the
    earliest split whose head zone and B copies of the tail fit (the weights of every op after
    it stream once per batch). A model with early exits is not split (an EXIT's jump is per
    batch).

    Raises:
        HccrError: no split fits; names the op of the first region past the buffer.
    """
    spans, cap, batch = _spans(b), b.config.act_bytes, b.batch
    size = {r: b.root_bytes.get(r) or _align(math.prod(b.model.tensors[r].shape))
            for r in spans}
    whole = _layout(spans, size, 0)
    if whole.need(batch) <= cap:
        return whole
    exits.check_whole(b.model, batch, whole.need, cap)
    for split in range(1, len(b.instructions) if batch > 1 and not b.model.exits else 0):
        stash = sum(size[r] for r, (first, last) in spans.items() if first < split <= last)
        if batch * stash <= cap and (layout := _layout(spans, size, split)).need(batch) <= cap:
            return layout
    root = next(r for r in sorted(spans, key=lambda r: (spans[r][0], r))
                if (whole.regions[r] + size[r]) * batch > cap)
    top = max(whole.regions[r] + size[r] for r in spans if spans[r][0] <= spans[root][0])
    raise HccrError(f"{b.instructions[spans[root][0]].op}: the live activations need "
                    f"{top * batch:,} bytes ({batch} image(s)), more than the engine's "
                    f"{cap:,}-byte activation buffer")


def _resolve(ins: Instruction, layout: _Layout, slot: int | None) -> Instruction:
    """`ins` with its region notes resolved to buffer addresses; `slot`: a head copy run
    once for that image of the batch (its per-image regions at that image's copy)."""
    values = dict(ins.fields)
    for p in "aby":
        root = values.pop(f"{p}_root", None)
        off = values.pop(f"{p}_offset", 0)
        if root is not None:
            image = slot if slot is not None and root in layout.per_image else 0
            values[f"{p}_base"] = layout.regions[root] + off + image * layout.image_bytes
    if slot is not None:
        values |= {"once": 1, "slot": slot} if slot else {"once": 1}
    return Instruction(ins.opcode, values, ins.op, ins.produces)


def compile_model(model: ir.Model, config: EngineConfig, batch: int = 1, fuse: bool = True
                  ) -> Program:
    """Compile a valid IR model for one engine configuration: with stacked first-conv inputs
    (`_plan_stacks`) unless only the plain program fits; when neither fits the activation
    buffer, with the largest conv chains run in row bands (`bands`), one chain more at a time;
    max pools fused into the convs before them (`pools`) unless not `fuse`.

    Raises:
        HccrError: the model needs something the engine does not have (names the op): an
            int32 tensor, a tile or live activations larger than the buffers (with every
            chain banded), a field out of range.
    """
    return _first_fit_bands(model, config, batch, pools.fusable(model) if fuse else {})[0]


def compile_options(model: ir.Model, config: EngineConfig, batch: int = 1) -> list[Program]:
    """`compile_model`'s program and, when a conv chain is left whole, the same with the
    next chain in row bands too: a smaller head zone lets a split program run more of its
    layers per batch, sharing their weights' DDR transfers, at the cost of recomputing the
    rows bands share (`batch.choose_batch` times them all). When the model has max pools to
    fuse, the same without fusing them too: another set of regions can leave room for
    another split.

    Raises:
        HccrError: as `compile_model`, when no option compiles.
    """
    programs, errors = [], []
    fusable = pools.fusable(model)
    for pooled in (fusable, {}) if fusable else ({},):
        try:
            program, chains, banded, stack = _first_fit_bands(model, config, batch, pooled)
        except HccrError as exc:
            errors.append(exc)
            continue
        programs.append(program)
        if banded < len(chains):
            with contextlib.suppress(HccrError):
                programs.append(_compile(model, config, batch, stack, chains[:banded + 1],
                                         pooled))
    if not programs:
        raise errors[0]
    return programs


def _first_fit_bands(model: ir.Model, config: EngineConfig, batch: int,
                     pooled: dict[str, ir.Op]
                     ) -> tuple[Program, list[tuple[ir.Op, ...]], int, bool]:
    """The first program that fits, fewest chains banded first, stacked input first, the
    convs of `pooled` writing their max pools (`pools.fusable`); with the model's chains, how
    many of them it bands and whether it stacks."""
    chains = bands.chains(model, skip=frozenset(pooled))
    for banded in range(len(chains) + 1):
        for stack in (True, False):
            try:
                return (_compile(model, config, batch, stack, chains[:banded], pooled), chains,
                        banded, stack)
            except HccrError as exc:
                error = exc
    raise error


def _compile(model: ir.Model, config: EngineConfig, batch: int, stack: bool,
             chains: list[tuple[ir.Op, ...]], pooled: dict[str, ir.Op]) -> Program:
    for name, spec in model.tensors.items():
        if spec.dtype not in ("int8", "uint8"):
            raise HccrError(f"tensor '{name}': {spec.dtype} activations are not supported by "
                            "the layer-sequential engine (int8/uint8 only)")
    if batch < 1:
        raise HccrError(f"batch {batch}: must be ≥ 1")
    b = _Builder(exits.with_result(model), config, batch, parent=_plan_aliases(model),
                 banded={chain[0].name: chain for chain in chains},
                 pooled=pooled)
    inside = {op.name for chain in chains for op in chain[1:]}  # emitted with their head
    inside |= {pool.name for pool in b.pooled.values()}
    reshape_of = {op.output: op.inputs[0] for op in model.ops if op.kind == "reshape"}
    for out, src in reshape_of.items():  # a reshape reads its input's bytes
        b.parent[out] = (src, 0)
        b.reshapes.add(out)
    inputs, offset = [], 0
    if stack:
        _plan_stacks(b)
    for name in model.inputs:
        inputs.append((name, offset))
        offset += _align(_emit_load(b, name, offset))
    input_bytes = offset
    outputs, offset = [], 0
    stored = set()
    for op in model.ops:
        check_unit_m(op, config)
        try:
            if op.name not in inside:
                _emit_op(b, op)
        except (ValueError, OverflowError) as exc:
            raise HccrError(f"{op.name}: {exc}") from None
        done = {t for ins in b.instructions for t in ins.produces}
        for name in model.outputs:
            if name not in stored and name in done:
                outputs.append((name, offset))
                b.emit(Opcode.STORE, name, (), **_view_fields("a", b.view(name)),
                       ddr_off=offset, ddr_bytes=math.prod(model.tensors[name].shape))
                offset += _align(math.prod(model.tensors[name].shape))
                stored.add(name)
        exits.emit_ready(b, done)
    offset = exits.emit_result_store(b, offset)
    b.emit(Opcode.END, "", ())
    layout = _place(b)
    head = b.instructions[:layout.split]
    instructions = [*(_resolve(ins, layout, slot) for slot in range(batch) for ins in head),
                    *(_resolve(ins, layout, None) for ins in b.instructions[layout.split:])]
    for ins in instructions:
        try:
            ins.encode()
        except ValueError as exc:
            raise HccrError(f"{ins.op or 'program'}: {exc}") from None
    exits.link(instructions)
    prefetch.link(instructions)
    views = {t: b.view(t) for t in model.tensors}
    header = Header(config.pe, config.simd, batch, len(instructions), layout.need(batch),
                    layout.image_bytes, input_bytes, offset, len(b.data),
                    unit_m=int(config.unit_m))
    return Program(config, header, instructions, bytes(b.data), layout.regions, views, inputs,
                   outputs, model.name, frozenset(layout.regions) - layout.per_image,
                   frozenset(op.output for op in model.ops if op.name in b.pooled),
                   {name: (conv.kernel[0], conv.padding[0]) for name in model.inputs
                    if (conv := _stacked_conv(b, name))})
