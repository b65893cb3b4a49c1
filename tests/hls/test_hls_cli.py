"""`hccr hls` and `hccr compare --against hls` end to end, and their one-line errors
(`--against rtl`: tests/hw/test_rtl_cli.py)."""

from __future__ import annotations

import json

import pytest
from hls_graphs import conv_chain
from ir_factory import single_op
from typer.testing import CliRunner

from flow.cli import app
from quant import ir

pytestmark = pytest.mark.hls
runner = CliRunner()


def hccr(*args: object, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def ir_dir(rng, tmp_path):
    return ir.save(conv_chain(rng, True, "uint8", 0), tmp_path / "ir")


@pytest.mark.slow
def test_hls_writes_a_complete_project_and_csim_matches(ir_dir, tmp_path):
    out = tmp_path / "prj"
    result = hccr("hls", "--ir", ir_dir, "--out", out, "--part", "xc7z045ffg900-2",
                  "--clock-ns", 4, "--reuse-factor", "c13=6", "--reuse-factor", "c31=18",
                  "--csim", "--images", 30)
    assert "30/30 images bit-exact on 6 tensors" in " ".join(result.output.split())
    meta = json.loads((out / "hccr_hls.json").read_text())
    assert meta["csim"]["bit_exact"] == 30 and meta["csim"]["first_mismatch"] is None
    assert meta["layers"]["c13"]["reuse_factor"] == 6  # RF < n_in = 12
    assert meta["layers"]["c31"]["reuse_factor"] == 18  # RF > n_in = 9: another hls4ml kernel
    assert not list(out.rglob("*.so"))
    tcl = (out / "project.tcl").read_text()
    assert 'set part "xc7z045ffg900-2"' in tcl and "set clock_period 4" in tcl
    assert (out / "build_prj.tcl").is_file() and (out / "firmware" / "hccr.cpp").is_file()
    assert len((out / "tb_data" / "tb_input_features.dat").read_text().splitlines()) == 30
    assert len((out / "tb_data" / "tb_output_predictions.dat").read_text().splitlines()) == 30
    # Writing again replaces the earlier project.
    hccr("hls", "--ir", ir_dir, "--out", out, "--images", 2)
    assert "csim" not in json.loads((out / "hccr_hls.json").read_text())


@pytest.mark.slow
def test_compare_json(ir_dir):
    result = hccr("compare", "--ir", ir_dir, "--against", "hls", "--images", 40, "--json")
    line = result.stdout.strip().splitlines()[-1]
    assert json.loads(line) == {"backend": "hls", "images": 40, "bit_exact": 40,
                                "first_mismatch": None}


def test_errors_are_one_line_and_leave_nothing(rng, ir_dir, tmp_path):
    out = tmp_path / "prj"
    result = hccr("compare", "--ir", ir_dir, "--against", "rtlx", code=1)
    assert "--against 'rtlx': unknown back end (choose from hls, rtl)" in result.output
    result = hccr("compare", "--ir", ir_dir, "--against", "hls", "--rtl", tmp_path, code=1)
    assert "--rtl is for --against rtl" in result.output
    result = hccr("hls", "--ir", ir_dir, "--out", out, "--reuse-factor", "c13=7", code=1)
    assert "c13: ReuseFactor 7 is not legal" in result.output and not out.exists()
    bad = ir.save(single_op("conv2d", rng, relu=True, out_dtype="int8", out_zero_point=5),
                  tmp_path / "relu_ir")
    result = hccr("hls", "--ir", bad, "--out", out, code=1)
    assert "y: relu with output zero point 5 clips to [5, 127]" in result.output
    assert len(result.output.strip().splitlines()) <= 2 and not out.exists()
    (tmp_path / "keep").mkdir()
    result = hccr("hls", "--ir", ir_dir, "--out", tmp_path / "keep", code=1)
    assert "exists and is not an hls project" in result.output
