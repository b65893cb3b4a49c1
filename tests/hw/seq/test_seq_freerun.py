"""The layer-sequential engine's free-running harness (sim/seq_freerun.py, hw/rtl/seq/sim/):
PE 4 × SIMD 8 engines fed by the SV DDR model, outputs bit-exact against golden; with the
board's DDR (40 cycles latency, PYNQ-Z2's 7.875 bytes per cycle) a compute-bound conv's cycles
are within a few per cent of the timing contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hw.gen.seq import prefetch
from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import image_cycles
from hw.gen.seq.isa import Instruction
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from sim.seq_freerun import SeqRun, contract_cycles, simulate_seq
from tests.ir_factory import (
    all_ops_graph,
    conv_chain,
    op_chain,
    random_batch,
    random_spec,
    single_op,
)

CONFIG = EngineConfig(pe=4, simd=8, act_bytes=16384, tile_bytes=2048, ddr_bytes_per_cycle=7.875)

pytestmark = pytest.mark.rtl


def run_model(model: ir.Model, batch: int, images: int, rng: np.random.Generator,
              tmp_path, build_root, **ddr: object) -> tuple[Program, SeqRun]:
    """Compile, run free-running, assert every image done without error and bit-exact."""
    program = compile_model(model, CONFIG, batch)
    return program, run_program(program, model, images, rng, tmp_path, build_root, **ddr)


def run_program(program: Program, model: ir.Model, images: int, rng: np.random.Generator,
                tmp_path, build_root, **ddr: object) -> SeqRun:
    """Run `program` (compiled from `model`) free-running on random images, bit-exact."""
    feeds = random_batch(model, rng, images)
    run = simulate_seq(program, pack_inputs(program, feeds), images, tmp_path, root=build_root,
                       **ddr)
    assert not run.timeout
    assert run.result["error_code"] == 0 and run.result["images_done"] == images, run.result
    got, want = unpack_outputs(program, run.outputs, images), golden.run(model, feeds)
    for name in model.outputs:
        assert np.array_equal(got[name], want[name]), name
    return run


def test_conv_cycles_match_contract(rng, seed, tmp_path, build_root) -> None:
    """A 3×3 conv, 12×12×16 → 16, two images in one batch: DDR latency and rate as planned."""
    model = single_op("conv2d", rng, shape=(12, 12, 16), kernel=(3, 3), cout=16,
                      in_dtype="int8", out_dtype="int8")
    program, run = run_model(model, 2, 2, rng, tmp_path, build_root, seed=seed)
    ratio = run.result["cycles"] / (2 * image_cycles(program))
    print(f"conv: {run.result['cycles']} cycles = {ratio:.3f} x contract, stall "
          f"{run.result['stall']}, {run.cycles_per_cpu_s:,.0f} cycles/CPU s")
    assert 0.95 < ratio < 1.10


def test_every_op_network_random_ddr(rng, seed, tmp_path, build_root) -> None:
    """Every op kind, 3 images in batches of 2 and 1, read latency jittered by up to 15
    cycles and random R-valid pauses: still bit-exact."""
    model = all_ops_graph(rng, size=6, fc_dtype="int8")
    _, run = run_model(model, 2, 3, rng, tmp_path, build_root, jitter=15, rpause=True,
                       seed=seed)
    print(f"every-op network: {run.result['cycles']} cycles, stall {run.result['stall']}")


def test_a_chain_larger_than_the_buffer_runs_in_bands(rng, seed, tmp_path, build_root) -> None:
    """40×40 conv 3×3 → PReLU → max pool 3×3/2 (12.8 KB feature maps, a 16 KB buffer): the
    compiler runs conv and PReLU a band of rows at a time; two images, bit-exact."""
    model = conv_chain(rng, (40, 40, 1), cout=8)
    program, run = run_model(model, 1, 2, rng, tmp_path, build_root, jitter=15, rpause=True,
                             seed=seed)
    assert sum(i.op == "conv2d0" for i in program.instructions) > 2
    ratio = run.result["cycles"] / (2 * image_cycles(program))
    print(f"banded chain: {run.result['cycles']} cycles = {ratio:.3f} x contract")


def _with_prefetches(program: Program, change) -> Program:
    """`program` with every MAC's prefetch fields replaced by change(fields) (None: none)."""
    body = []
    for ins in program.instructions:
        fields = {k: v for k, v in ins.fields.items() if not k.startswith("pf_")}
        if prefetch.target(ins):
            fields.update(change(ins.fields) or {})
        body.append(Instruction(ins.opcode, fields, ins.op, ins.produces))
    return dataclasses.replace(program, instructions=body)


def test_the_next_macs_first_tile_is_fetched_under_the_previous(rng, seed, tmp_path,
                                                                 build_root) -> None:
    """Four convs and a PReLU at 4×4, 3 images in batches of 2 and 1, the board's DDR: with
    the compiler's prefetches the engine takes fewer cycles than with none; prefetches of the
    wrong tile (8 bytes off) are dropped and cost their transfer. Each run bit-exact, its
    cycles within 5 % of its contract, which counts the hits (`prefetch.hits`)."""
    def conv(kernel: int, cout: int) -> tuple[str, dict]:
        pad = kernel // 2
        return "conv2d", {"kernel": (kernel, kernel), "stride": (1, 1), "cout": cout,
                          "padding": (pad,) * 4, "out_dtype": "int8"}
    model = op_chain(rng, "prefetch", random_spec(rng, "x", (4, 4, 16), "int8"),
                     [conv(3, 32), ("prelu", {"out_dtype": "int8"}), conv(1, 32), conv(1, 48),
                      conv(3, 16)])
    program = compile_model(model, CONFIG, 2)
    def off_by_one_word(f: dict) -> dict:
        return {**f, "pf_gap": f.get("pf_gap", 0) + 1}
    variants = {"prefetch": program, "none": _with_prefetches(program, lambda f: None),
                "wrong": _with_prefetches(program, off_by_one_word)}
    hits = prefetch.hits(program.instructions, [(i, 2) for i in range(len(program.instructions))])
    assert sum(hits) >= 3
    cycles = {}
    for name, variant in variants.items():
        run = run_program(variant, model, 3, rng, tmp_path / name, build_root, seed=seed)
        cycles[name] = run.result["cycles"]
        ratio = cycles[name] / contract_cycles(variant, 3)
        print(f"{name}: {cycles[name]} cycles = {ratio:.3f} x contract")
        assert 0.95 < ratio < 1.05, name
    assert cycles["prefetch"] < cycles["none"] < cycles["wrong"]


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_a_max_pool_after_a_conv_is_written_by_its_mac(dtype: str, rng, seed, tmp_path,
                                                       build_root) -> None:
    """13×13 conv (3 tiles of PE 4) → max pool 2×2/2 (6×6: the conv's last row and column
    unused) → 1×1 conv, 3 images in batches of 2 and 1: one MAC writes the pool, no MAXPOOL
    pass, bit-exact (the signed or unsigned maximum) and faster than the same network with
    the pool as a pass of its own; each within 15 % of its contract (a program of 7.5 k
    cycles spends a larger share on fixed costs the contract rounds: the header and
    instruction fetches, the LOAD's and STORE's DDR latencies)."""
    model = op_chain(rng, "pooled", random_spec(rng, "x", (13, 13, 3), "uint8"), [
        ("conv2d", {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "cout": 12,
                    "out_dtype": dtype, "relu": False}),
        ("maxpool", {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0, 0, 0)}),
        ("conv2d", {"kernel": (1, 1), "stride": (1, 1), "padding": (0, 0, 0, 0), "cout": 4,
                    "out_dtype": "int8"})])
    cycles = {}
    for fused in (True, False):
        program = compile_model(model, CONFIG, 2, fuse=fused)
        run = run_program(program, model, 3, rng, tmp_path / str(fused), build_root, seed=seed)
        opcodes = [ins.opcode.name for ins in program.instructions]
        assert ("MAXPOOL" not in opcodes) == fused
        assert program.instructions[opcodes.index("MAC")]["pool"] == fused
        cycles[fused] = run.result["cycles"]
        ratio = cycles[fused] / contract_cycles(program, 3)
        print(f"{dtype}, pool fused {fused}: {cycles[fused]} cycles = {ratio:.3f} x contract")
        assert 0.95 < ratio < 1.15
    assert cycles[True] < cycles[False]


def test_a_three_channel_image_moves_a_word_per_cycle(rng, seed, tmp_path, build_root) -> None:
    """LOAD, REQUANT, STORE of 40×40×3 (a contiguous view of 3-byte pixels): LOAD's writes and
    STORE's reads run across pixels, so both go at the DDR's rate as the contract says
    (writes that stopped at each pixel took 1.7 × as long)."""
    model = single_op("requant", rng, shape=(40, 40, 3), in_dtype="uint8", out_dtype="int8")
    program, run = run_model(model, 1, 2, rng, tmp_path, build_root, seed=seed)
    ratio = run.result["cycles"] / (2 * image_cycles(program))
    print(f"3-channel image: {run.result['cycles']} cycles = {ratio:.3f} x contract")
    assert 0.95 < ratio < 1.10
