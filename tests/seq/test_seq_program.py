"""The layer-sequential compiler and its NumPy program model: bit-exact against golden on
every tensor, the encoding round-trips, and programs that do not fit are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import all_ops_graph, random_batch, single_op

from base.errors import HccrError
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.docs import PATH, program_doc
from hw.gen.seq.isa import FIELDS, Header, Instruction, Opcode
from hw.gen.seq.records import pack_inputs
from hw.gen.seq.svpkg import PATH as SV_PATH
from hw.gen.seq.svpkg import package

KEEPS_QUANT = {"maxpool", "concat", "reshape"}  # their output spec is the input's
CONFIGS = [EngineConfig(pe=1, simd=1), EngineConfig(pe=4, simd=8), EngineConfig(pe=6, simd=72),
           EngineConfig(pe=3, simd=5)]


def _int8_single(kind: str, rng: np.random.Generator) -> object:
    params = {"in_dtype": str(rng.choice(["int8", "uint8"]))}
    if kind == "reduce_channels":
        params["mode"] = str(rng.choice(["max", "mean"]))
    if kind not in KEEPS_QUANT and not (kind == "reduce_channels" and params["mode"] == "max"):
        params["out_dtype"] = str(rng.choice(["int8", "uint8"]))
    if kind == "mul":  # both inputs int8/uint8
        params.pop("in_dtype")
        model = None
        while model is None or any(t.dtype == "int32" for t in model.tensors.values()):
            model = single_op(kind, rng, **params)
        return model
    return single_op(kind, rng, **params)


def test_instruction_encoding_round_trips():
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = {f.name: int(rng.integers(-(1 << (f.bits - 1)), 1 << (f.bits - 1)) if f.signed
                              else rng.integers(0, 1 << f.bits, dtype=np.uint64))
                  for f in FIELDS if f.name != "opcode"}
        ins = Instruction(Opcode(int(rng.integers(0, len(Opcode)))), values)
        raw = ins.encode()
        assert len(raw) == 64
        back = Instruction.decode(raw)
        assert back.opcode == ins.opcode
        assert {k: back[k] for k in values} == values
    header = Header(6, 72, 2, 177, 663552, 331776, 4096, 3760, 1685472)
    assert Header.decode(header.encode()) == header


def test_a_field_out_of_range_is_named():
    with pytest.raises(ValueError, match="field a_zp = 300 does not fit 9 bits"):
        Instruction(Opcode.REQUANT, {"a_zp": 300}).encode()


@pytest.mark.parametrize("kind", ["conv2d", "dense", "maxpool", "avgpool", "global_avgpool",
                                  "gwap", "reduce_channels", "add", "mul", "concat",
                                  "requant", "sigmoid", "prelu", "reshape"])
def test_every_op_kind_is_bit_exact(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    for trial in range(12):
        model = _int8_single(kind, rng)
        cfg = CONFIGS[trial % len(CONFIGS)]
        x = random_batch(model, rng, 3)
        result = check_program(model, compile_model(model, cfg), x)
        assert result.bit_exact == 3, result.summary()


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.pe}x{c.simd}")
def test_all_ops_graph_is_bit_exact_on_every_tensor(cfg, batch):
    rng = np.random.default_rng(batch)
    model = all_ops_graph(rng, fc_dtype="int8")
    program = compile_model(model, cfg, batch)
    assert program.header.act_bytes == batch * program.header.act_image_bytes
    result = check_program(model, program, random_batch(model, rng, 5)["image"])
    assert result.bit_exact == 5, result.summary()
    assert len(result.layers) == len(model.ops) + 1 + len(model.outputs)


@pytest.mark.parametrize("room", [1.6, 2.2])
def test_a_batch_that_does_not_fit_whole_is_split(room):
    """Buffer room for `room` images of the whole program, batch 3: the head runs image by
    image (`once`), the tail per batch; 5 images, so the last batch skips slot 2."""
    rng = np.random.default_rng(11)
    model = all_ops_graph(rng, fc_dtype="int8")
    cfg = EngineConfig(pe=4, simd=8)
    whole = compile_model(model, cfg).header.act_image_bytes
    program = compile_model(model, EngineConfig(pe=4, simd=8, act_bytes=int(room * whole)), 3)
    once = [i for i in program.instructions if i["once"]]
    assert 0 < len(once) < len(program.instructions) - 1 and len(once) % 3 == 0
    assert {i["slot"] for i in once} == {0, 1, 2}
    assert program.header.act_bytes <= room * whole < 3 * whole
    result = check_program(model, program, random_batch(model, rng, 5)["image"])
    assert result.bit_exact == 5, result.summary()


@pytest.mark.parametrize(("shape", "kernel", "padding"), [
    ((6, 8, 1), (3, 3), (1, 1, 1, 1)), ((5, 4, 2), (5, 3), (2, 2, 1, 1)),
    ((4, 8, 3), (3, 1), (0, 2, 0, 0)), ((5, 8, 1), (3, 3), (2, 0, 0, 2))], ids=str)
def test_a_first_conv_reads_its_input_stacked(shape, kernel, padding):
    """KH row-shifted copies of the input side by side in its record (rows outside the image
    the zero point), one LOAD, read by a 1×KW conv over KH·C channels: fewer chunks per
    pixel."""
    rng = np.random.default_rng(sum(shape))
    h, w, c = shape
    for in_dtype in ("int8", "uint8"):
        model = single_op("conv2d", rng, shape=shape, kernel=kernel, padding=padding,
                          stride=(1, 1), in_dtype=in_dtype, out_dtype="int8", cout=5)
        program = compile_model(model, EngineConfig(pe=4, simd=16))
        loads = [i for i in program.instructions if i.opcode == Opcode.LOAD]
        conv = next(i for i in program.instructions if i.op == model.ops[0].name)
        assert len(loads) == 1 and loads[0]["ddr_bytes"] == h * w * kernel[0] * c
        assert conv["kh"] == 1 and conv["a_c"] == conv["a_pitch"] == kernel[0] * c
        assert program.stacked == {"x": (kernel[0], padding[0])}
        x = random_batch(model, rng, 3)
        record = np.frombuffer(pack_inputs(program, x), np.uint8).reshape(3, -1)[1]
        zp = model.tensors["x"].zero_point
        image = np.pad(x["x"][1], ((padding[0], kernel[0] - 1 - padding[0]), (0, 0), (0, 0)),
                       constant_values=zp)
        for y, xx, i in [(0, 0, 0), (h - 1, w - 1, kernel[0] - 1), (h // 2, 1, padding[0])]:
            got = record[((y * w + xx) * kernel[0] + i) * c:][:c].view(x["x"].dtype)
            assert np.array_equal(got, image[y + i, xx])
        result = check_program(model, program, x)
        assert result.bit_exact == 3, result.summary()


def test_a_corrupted_weight_is_found_at_its_layer():
    rng = np.random.default_rng(7)
    model = all_ops_graph(rng, fc_dtype="int8")
    program = compile_model(model, EngineConfig(pe=4, simd=8))
    mac = next(i for i in program.instructions if i.op == "conv1")
    data = bytearray(program.data)
    data[mac["ddr_off"] + 4 * 8] ^= 0x7F  # the first weight byte of tile 0
    program.data = bytes(data)
    result = check_program(model, program, random_batch(model, rng, 2)["image"])
    assert result.bit_exact == 0
    assert result.first_mismatch.layer == "conv1"


def test_concat_inputs_share_its_region_unless_they_cannot():
    rng = np.random.default_rng(3)
    model = all_ops_graph(rng, fc_dtype="int8")
    program = compile_model(model, EngineConfig(pe=4, simd=8))
    views = program.views
    assert views["c_max"].root == views["c_mean"].root == "c_cat"
    assert views["c_mean"].offset == 1 and views["c_mean"].pitch == 2
    assert not any(i.opcode == Opcode.COPY for i in program.instructions)
    graph_inputs = single_op("concat", rng, channels=[2, 3])  # graph inputs are loaded, copied
    copies = [i for i in compile_model(graph_inputs, EngineConfig()).instructions
              if i.opcode == Opcode.COPY]
    assert len(copies) == 2


def test_regions_are_reused_once_dead():
    rng = np.random.default_rng(4)
    model = all_ops_graph(rng, fc_dtype="int8")
    program = compile_model(model, EngineConfig(pe=4, simd=8))
    sizes = sum(-(-int(np.prod(model.tensors[r].shape)) // 8) * 8 for r in program.regions
                if r in model.tensors)  # not the stacked input's region: a stricter sum
    assert program.header.act_image_bytes < sizes


def test_what_does_not_fit_is_refused_by_name():
    rng = np.random.default_rng(5)
    model = all_ops_graph(rng, fc_dtype="int8")
    with pytest.raises(HccrError, match=r"^conv1: the live activations need .* more than the "
                                        r"engine's 64-byte activation buffer"):
        compile_model(model, EngineConfig(pe=4, simd=8, act_bytes=64))
    with pytest.raises(HccrError, match=r"^conv1: one weight tile is .* 16-byte tile buffer"):
        compile_model(model, EngineConfig(pe=4, simd=8, tile_bytes=16))
    with pytest.raises(HccrError, match=r"tensor 'fc': int32 activations are not supported"):
        compile_model(all_ops_graph(rng), EngineConfig())


def test_the_program_doc_is_generated_from_the_tables():
    assert PATH.read_text() == program_doc(), "run: python -m hw.gen.seq.docs"


def test_the_rtl_package_is_generated_from_the_tables():
    assert SV_PATH.read_text() == package(), "run: python -m hw.gen.seq.svpkg"
