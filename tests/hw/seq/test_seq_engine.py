"""The whole layer-sequential engine (hw/rtl/seq/seq_engine.sv) in Verilator: programs compiled
from IR models run from an AxiRam with random pauses, outputs bit-exact against golden, cycles
against the timing contract (hw/gen/seq/cycles.py), and the error paths."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from hw.gen import seq_regs
from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.isa import Opcode
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from sim import runner
from sim.seq_freerun import contract_cycles
from tests.ir_factory import all_ops_graph, make_op, random_batch, single_op, spec

SEQ = runner.RTL_DIR / "seq"
CONFIG = EngineConfig(pe=4, simd=8, act_bytes=16384, tile_bytes=2048)
PARAMS = {"PE": CONFIG.pe, "SIMD": CONFIG.simd, "ACT_BYTES": CONFIG.act_bytes,
          "TILE_BYTES": CONFIG.tile_bytes}
CODES = seq_regs.error_codes()

pytestmark = pytest.mark.rtl


def sources(folder: Path) -> list[Path]:
    """seq_engine's sources in compile order (the register block generated into `folder`)."""
    return [*seq_regs.csr_sources(folder), SEQ / "seq_isa_pkg.sv",
            runner.RTL_DIR / "hccr_pkg.sv", runner.RTL_DIR / "fifo.sv",
            *(SEQ / f"{m}.sv" for m in ("axi_burst", "axi_dma_rd", "axi_dma_wr", "axi_dma",
                                        "seq_act_buf")),
            runner.RTL_DIR / "mac_array.sv", runner.RTL_DIR / "requantiser.sv",
            *(SEQ / f"{m}.sv" for m in ("seq_io", "seq_mac", "seq_vec_iter", "seq_vec_wbuf",
                                        "seq_vec", "seq_exit", "seq_ctrl", "seq_engine"))]


def simulate(program: Program, inputs: bytes, images: int, tmp_path: Path, build_root: Path,
             seed: int, code: bytes | None = None, **run: object) -> tuple[bytes, dict]:
    """Run `images` input records through the engine (`code`: program bytes other than the
    program's own); (output records, result.json)."""
    built = runner.build("seq_engine", sources(build_root / "seq_regs"), PARAMS,
                         root=build_root)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "program.bin").write_bytes(program.encode() if code is None else code)
    (tmp_path / "data.bin").write_bytes(program.data)
    (tmp_path / "inputs.bin").write_bytes(inputs)
    spec = {"images": images, "output_bytes": program.header.output_bytes, "pause": "random",
            "seed": seed, "max_cycles": 20 * contract_cycles(program, images) + 20000, **run}
    (tmp_path / "run.json").write_text(json.dumps(spec))
    res = runner.run(built, "tb_seq_engine", tmp_path)
    assert res.passed, res.message
    return (tmp_path / "outputs.bin").read_bytes(), json.loads(
        (tmp_path / "result.json").read_text())


def check_model(model: ir.Model, rng: np.random.Generator, images: int, batch: int,
                tmp_path: Path, build_root: Path, seed: int) -> tuple[Program, dict]:
    """Compile, run, compare every output with golden; the program and the run's result."""
    program = compile_model(model, CONFIG, batch)
    feeds = random_batch(model, rng, images)
    raw, result = simulate(program, pack_inputs(program, feeds), images, tmp_path, build_root,
                           seed)
    assert result["error_code"] == 0 and result["images_done"] == images, result
    got = unpack_outputs(program, raw, images)
    want = golden.run(model, feeds)
    for name in model.outputs:
        assert np.array_equal(got[name], want[name]), name
    return program, result


def test_lint_clean(build_root) -> None:
    done = runner.lint(sources(build_root / "seq_regs"), top="seq_engine", parameters=PARAMS)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize(("params", "message"), [
    ({"PE": 16}, "seq_mac: PE=16"),
    ({"SIMD": 6, "PE": 4, "ACT_BYTES": 96}, "seq_act_buf: SIMD=6"),
])
def test_bad_parameters_stop_elaboration(params: dict, message: str, build_root) -> None:
    with pytest.raises(runner.SimError, match=message):
        runner.build("seq_engine", sources(build_root / "seq_regs"), {**PARAMS, **params},
                     root=build_root)


@pytest.mark.parametrize("to", [(3, 5, 4), (1, 1, 60)], ids=str)
def test_load_store(to: tuple[int, int, int], rng, seed, tmp_path, build_root) -> None:
    """A reshape: LOAD and STORE only (the STORE reads the LOADed bytes under a new shape)."""
    model = single_op("reshape", rng, shape=(5, 3, 4), to=to)
    program, result = check_model(model, rng, 3, 2, tmp_path, build_root, seed)
    assert [i.opcode for i in program.instructions] == [Opcode.LOAD, Opcode.STORE, Opcode.END]
    assert result["cycles"] > 0


def test_copy_and_strided_views(rng, seed, tmp_path, build_root) -> None:
    """A concat of two graph inputs (two COPYs into one region) and of two convs written in
    place at channel offsets, with one conv also an output (a STORE of a strided view)."""
    x = spec("x", (4, 5, 3), "int8", -3)
    conv = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "out_dtype": "int8"}
    ops, tensors = [], {"x": x, "x2": spec("x2", (4, 5, 5), "int8", 7)}
    for name, inputs, kind, params in (
            ("a", ["x"], "conv2d", {**conv, "cout": 6}),
            ("b", ["x"], "conv2d", {**conv, "cout": 3}),
            ("ab", ["a", "b"], "concat", {}), ("xx", ["x", "x2"], "concat", {})):
        op, out = make_op(kind, rng, name, [tensors[t] for t in inputs], **params)
        ops.append(op)
        tensors[name] = out
    model = ir.Model("views", tensors, tuple(ops), ("x", "x2"), ("ab", "a", "xx"))
    program, _ = check_model(model, rng, 3, 2, tmp_path, build_root, seed)
    assert sum(i.opcode == Opcode.COPY for i in program.instructions) == 2
    assert program.views["a"].pitch == 9


# (kind, fixed parameters): tap mode (C a multiple of SIMD or wide), row mode (small C), k×1,
# 1×k, strides, padding, dense, stacked input.
MAC_CASES = [
    ("conv2d", {"shape": (6, 5, 3), "kernel": (3, 3), "cout": 6}),
    ("conv2d", {"shape": (5, 6, 16), "kernel": (3, 3), "cout": 5}),
    ("conv2d", {"shape": (7, 4, 2), "kernel": (3, 1), "cout": 4}),
    ("conv2d", {"shape": (7, 7, 3), "kernel": (3, 3), "stride": (2, 2),
                "padding": (1, 1, 1, 1), "cout": 13}),
    ("conv2d", {"shape": (4, 7, 9), "kernel": (1, 3), "cout": 3}),
    ("dense", {"shape": (3, 3, 5), "cout": 7}),
    # five one-chunk tiles, each shorter than the MAC pipeline: a tile waits for the write-back
    # of the tile two before it (same buffer) rather than computing on its weights
    ("dense", {"shape": (1, 1, 8), "cout": 20}),
    # a first conv reading its input stacked (three row-shifted LOADs, zero-point rows filled)
    ("conv2d", {"shape": (6, 8, 1), "kernel": (3, 3), "stride": (1, 1),
                "padding": (1, 1, 1, 1), "cout": 6}),
]


@pytest.mark.parametrize("in_dtype", ["int8", "uint8"])
@pytest.mark.parametrize(("kind", "params"), MAC_CASES, ids=lambda v: str(v))
def test_mac(kind: str, params: dict, in_dtype: str, rng, seed, tmp_path, build_root) -> None:
    model = single_op(kind, rng, in_dtype=in_dtype, out_dtype=str(rng.choice(["int8", "uint8"])),
                      **params)
    program, result = check_model(model, rng, 3, 2, tmp_path, build_root, seed)
    mac = [i for i in program.instructions if i.opcode == Opcode.MAC]
    ratio = result["cycles"] / contract_cycles(program, 3)
    print(f"{kind} {params} {in_dtype}: row {mac[0]['row']}, tiles {mac[0]['tiles']}, cycles "
          f"{result['cycles']} = {ratio:.3f} x contract")
    assert 0.6 < ratio < 1.5  # AxiRam answers sooner than the contract's DDR latency


def test_every_op_network(rng, seed, tmp_path, build_root) -> None:
    """A small CBAM/ECA-like network with every IR op kind: all three units, every opcode the
    compiler emits for it, two outputs, 3 images in batches of 2 and 1."""
    model = all_ops_graph(rng, size=6, fc_dtype="int8")
    program, result = check_model(model, rng, 3, 2, tmp_path, build_root, seed)
    ratio = result["cycles"] / contract_cycles(program, 3)
    print(f"every-op network: {len(program.instructions)} instructions, "
          f"{sorted({i.opcode.name for i in program.instructions})}, cycles {result['cycles']} "
          f"= {ratio:.3f} x contract, stall {result['stall']}")
    assert 0.8 < ratio < 1.5


def test_split_program(rng, seed, tmp_path, build_root) -> None:
    """Room for two images of the whole network, batch 3: the head runs image by image
    (`once`), the tail per batch of 3; 5 images, so the last batch skips slot 2."""
    model = all_ops_graph(rng, size=6, fc_dtype="int8")
    whole = compile_model(model, CONFIG).header.act_image_bytes
    program = compile_model(model, dataclasses.replace(CONFIG, act_bytes=2 * whole), 3)
    assert 0 < sum(i["once"] for i in program.instructions) < len(program.instructions) - 1
    feeds = random_batch(model, rng, 5)
    raw, result = simulate(program, pack_inputs(program, feeds), 5, tmp_path, build_root, seed)
    assert result["error_code"] == 0 and result["images_done"] == 5, result
    got, want = unpack_outputs(program, raw, 5), golden.run(model, feeds)
    for name in model.outputs:
        assert np.array_equal(got[name], want[name]), name
    ratio = result["cycles"] / contract_cycles(program, 5)
    print(f"split network: {len(program.instructions)} instructions, cycles {result['cycles']} "
          f"= {ratio:.3f} x contract")
    assert 0.8 < ratio < 1.5


def conv_model(rng: np.random.Generator) -> ir.Model:
    return single_op("conv2d", rng, shape=(5, 5, 4), kernel=(3, 3), cout=9, in_dtype="int8",
                     out_dtype="int8")


def test_bad_magic_is_refused(rng, seed, tmp_path, build_root) -> None:
    program = compile_model(conv_model(rng), CONFIG)
    code = bytearray(program.encode())
    code[0] ^= 0xFF
    _, result = simulate(program, pack_inputs(program, random_batch(conv_model(rng), rng, 1)),
                         1, tmp_path, build_root, seed, code=bytes(code))
    assert result["error_code"] == CODES["BAD_INSTRUCTION"] and result["images_done"] == 0


def test_bad_opcode_is_refused(rng, seed, tmp_path, build_root) -> None:
    """An opcode outside the ISA (31) in the first instruction."""
    model = conv_model(rng)
    program = compile_model(model, CONFIG)
    code = bytearray(program.encode())
    code[64] |= 0x1F
    _, result = simulate(program, pack_inputs(program, random_batch(model, rng, 1)), 1,
                         tmp_path, build_root, seed, code=bytes(code))
    assert result["error_code"] == CODES["BAD_INSTRUCTION"]


def test_short_program_is_refused(rng, seed, tmp_path, build_root) -> None:
    model = conv_model(rng)
    program = compile_model(model, CONFIG)
    _, result = simulate(program, pack_inputs(program, random_batch(model, rng, 1)), 1,
                         tmp_path, build_root, seed, program_bytes=128)
    assert result["error_code"] == CODES["PROGRAM_OVERRUN"]


def test_ddr_read_error_ends_the_run(rng, seed, tmp_path, build_root) -> None:
    """SLVERR on the weights: ERROR_CODE 1, STATUS.ERROR, the interrupt, no hang."""
    model = conv_model(rng)
    program = compile_model(model, CONFIG)
    data_base = 0x1000 + -(-len(program.encode()) // 64) * 64  # as tb_seq_engine lays it out
    _, result = simulate(program, pack_inputs(program, random_batch(model, rng, 2)), 2,
                         tmp_path, build_root, seed, fail_read=[data_base + 64, data_base + 72])
    assert result["error_code"] == CODES["AXI_READ"] and result["status"] & 4
    assert result["images_done"] == 0


def test_start_while_busy_is_reported(rng, seed, tmp_path, build_root) -> None:
    """A second START during a run is ignored (the outputs are still right) and reported."""
    model = conv_model(rng)
    program = compile_model(model, CONFIG)
    feeds = random_batch(model, rng, 2)
    raw, result = simulate(program, pack_inputs(program, feeds), 2, tmp_path, build_root, seed,
                           restart=True)
    assert result["error_code"] == CODES["START_WHILE_BUSY"] and result["images_done"] == 2
    assert np.array_equal(unpack_outputs(program, raw, 2)["y"], golden.run(model, feeds)["y"])


def test_a_prefetched_tile_lasts_a_run_not_longer(rng, seed, tmp_path, build_root) -> None:
    """A conv whose MAC prefetches its own first tile (a program the compiler does not make):
    batch 2 starts on the tile batch 1 prefetched; a second run on other weights at the same
    DDR addresses drops it (the run's end flushes it). Both runs bit-exact."""
    model = conv_model(rng)
    conv = model.ops[0]
    other = dataclasses.replace(model, ops=(dataclasses.replace(
        conv, weight=rng.integers(-128, 128, conv.weight.shape).astype(np.int8)),))
    program, program2 = (compile_model(m, CONFIG, 1) for m in (model, other))
    mac = next(i for i in program.instructions if i.opcode == Opcode.MAC)
    mac.fields["pf_words"] = mac["tile_bytes"] // 8
    mac.fields["pf_gap"] = -mac["tiles"] * mac["tile_bytes"] // 8
    assert program2.encode() == compile_model(model, CONFIG, 1).encode() != program.encode()
    assert program.data != program2.data
    feeds = random_batch(model, rng, 2)
    (tmp_path / "data2.bin").write_bytes(program2.data)
    raw, result = simulate(program, pack_inputs(program, feeds), 2, tmp_path, build_root, seed,
                           again=True)
    assert result["error_code"] == 0 and result["images_done"] == 2
    assert np.array_equal(unpack_outputs(program, raw, 2)["y"], golden.run(model, feeds)["y"])
    raw2 = (tmp_path / "outputs2.bin").read_bytes()
    assert np.array_equal(unpack_outputs(program, raw2, 2)["y"], golden.run(other, feeds)["y"])
