"""The layer-sequential engine's free-running harness (sim/seq_freerun.py, hw/rtl/seq/sim/):
PE 4 × SIMD 8 engines fed by the SV DDR model, outputs bit-exact against golden; with the
board's DDR (40 cycles latency, PYNQ-Z2's 7.875 bytes per cycle) a compute-bound conv's cycles
are within a few per cent of the timing contract."""

from __future__ import annotations

import numpy as np
import pytest

from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import image_cycles
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from sim.seq_freerun import SeqRun, simulate_seq
from tests.ir_factory import all_ops_graph, conv_chain, random_batch, single_op

CONFIG = EngineConfig(pe=4, simd=8, act_bytes=16384, tile_bytes=2048, ddr_bytes_per_cycle=7.875)

pytestmark = pytest.mark.rtl


def run_model(model: ir.Model, batch: int, images: int, rng: np.random.Generator,
              tmp_path, build_root, **ddr: object) -> tuple[Program, SeqRun]:
    """Compile, run free-running, assert every image done without error and bit-exact."""
    program = compile_model(model, CONFIG, batch)
    feeds = random_batch(model, rng, images)
    run = simulate_seq(program, pack_inputs(program, feeds), images, tmp_path, root=build_root,
                       **ddr)
    assert not run.timeout
    assert run.result["error_code"] == 0 and run.result["images_done"] == images, run.result
    got, want = unpack_outputs(program, run.outputs, images), golden.run(model, feeds)
    for name in model.outputs:
        assert np.array_equal(got[name], want[name]), name
    return program, run


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
