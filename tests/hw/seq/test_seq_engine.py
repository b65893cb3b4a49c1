"""The whole layer-sequential engine (hw/rtl/seq/seq_engine.sv) in Verilator: programs compiled
from IR models run from an AxiRam with random pauses, outputs bit-exact against golden, cycles
against the timing contract (hw/gen/seq/cycles.py), and the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hw.gen import seq_regs
from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import instruction_cycles
from hw.gen.seq.isa import Opcode
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from sim import runner
from tests.ir_factory import random_batch, single_op

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
            *(SEQ / f"{m}.sv" for m in ("seq_io", "seq_mac", "seq_ctrl", "seq_engine"))]


def contract_cycles(program: Program, images: int) -> int:
    """Cycles the timing contract gives `images` images, batch by batch."""
    batch = program.header.batch
    return sum(instruction_cycles(ins, program.config, min(batch, images - first))
               for first in range(0, images, batch) for ins in program.instructions)


def simulate(program: Program, inputs: bytes, images: int, tmp_path: Path, build_root: Path,
             seed: int, **run: object) -> tuple[bytes, dict]:
    """Run `images` input records through the engine; (output records, result.json)."""
    built = runner.build("seq_engine", sources(build_root / "seq_regs"), PARAMS,
                         root=build_root)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "program.bin").write_bytes(program.encode())
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
