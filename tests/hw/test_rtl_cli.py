"""`hccr rtl`, `hccr sim` and `hccr compare --against rtl` end to end: a complete RTL folder,
whole images bit-exact with backpressure, a corrupted ROM word caught and localised, and
one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ir_factory import random_batch, single_op
from test_rtl_network import small_net
from typer.testing import CliRunner

from flow.cli import app
from quant import ir

pytestmark = pytest.mark.rtl
cli = CliRunner()
FOLD = {"conv1": {"PE": 2}, "pool1": {"SIMD": 2}, "conv2": {"PE": 3, "SIMD": 2},
        "fc": {"SIMD": 6}}


def hccr(*args: object, code: int = 0):
    result = cli.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def one_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return " ".join(result.output.split())


@pytest.fixture
def rtl_dir(tmp_path):
    model = small_net(np.random.default_rng(6))
    ir.save(model, tmp_path / "ir")
    (tmp_path / "fold.json").write_text(json.dumps(FOLD))
    hccr("rtl", "--ir", tmp_path / "ir", "--out", tmp_path / "rtl", "--folding",
         tmp_path / "fold.json")
    return tmp_path / "rtl"


def test_rtl_writes_a_complete_folder(rtl_dir) -> None:
    desc = json.loads((rtl_dir / "network.json").read_text())
    for name in desc["files"]:
        assert (rtl_dir / name).is_file(), name
    assert (rtl_dir / "ir" / "model.json").is_file()
    assert desc["layers"][2]["folding"] == {"pe": 3, "simd": 2}
    assert not list(rtl_dir.parent.glob(".rtl.tmp-*"))


@pytest.mark.parametrize("backpressure", ["none", "random"])
def test_sim_is_bit_exact_and_reports_cycles(rtl_dir, backpressure, tmp_path) -> None:
    model = ir.load(rtl_dir / "ir")
    np.save(tmp_path / "x.npy", random_batch(model, np.random.default_rng(3), 9)["image"])
    out = hccr("sim", "--rtl", rtl_dir, "--images", 8, "--inputs", tmp_path / "x.npy",
               "--backpressure", backpressure, "--json")
    r = json.loads(out.stdout)
    assert (r["images"], r["bit_exact"], r["first_mismatch"], r["stream_error"]) == (8, 8, None,
                                                                                    None)
    assert len(r["end_cycles"]) == 8 and r["analytical_cycles"] == 1800
    assert abs(r["ratio"] - 1) <= 0.10
    assert json.loads((rtl_dir / "sim" / "result.json").read_text())["bit_exact"] == 8
    text = " ".join(hccr("sim", "--rtl", rtl_dir, "--images", 3).stdout.split())
    assert "3/3 images bit-exact" in text and "analytical 1800" in text


def corrupt_rom_word(rtl_dir) -> None:
    """Flip the top bit of one word of conv2's weight ROM."""
    rom = rtl_dir / "conv2_w.mem"
    lines = rom.read_text().splitlines()
    word = lines[5]  # line 0 is the header comment
    lines[5] = format(int(word, 16) ^ 0x80, f"0{len(word)}x")
    rom.write_text("\n".join(lines) + "\n")


def test_sim_localises_a_corrupted_rom_word(rtl_dir) -> None:
    corrupt_rom_word(rtl_dir)
    out = hccr("sim", "--rtl", rtl_dir, "--images", 4, code=1)
    text = " ".join(out.stdout.split())
    assert "layer conv2" in text and "images bit-exact" in text, text
    assert "waveform" in text
    assert list((rtl_dir / "sim" / "debug").glob("dump.*")), "no waveform written"


def test_compare_against_rtl_is_bit_exact(rtl_dir) -> None:
    ir_dir = rtl_dir.parent / "ir"
    out = hccr("compare", "--ir", ir_dir, "--against", "rtl", "--images", 5, "--json")
    assert json.loads(out.stdout) == {"backend": "rtl", "images": 5, "bit_exact": 5,
                                      "first_mismatch": None}
    out = hccr("compare", "--ir", ir_dir, "--against", "rtl", "--rtl", rtl_dir, "--images", 3)
    assert "rtl vs golden: 3/3 images bit-exact on 1 tensors" in " ".join(out.stdout.split())


def test_compare_against_rtl_names_the_corrupted_layer(rtl_dir) -> None:
    corrupt_rom_word(rtl_dir)
    out = hccr("compare", "--ir", rtl_dir.parent / "ir", "--against", "rtl", "--rtl", rtl_dir,
               "--images", 4, "--json", code=1)
    r = json.loads(out.stdout)
    assert r["backend"] == "rtl" and r["images"] == 4 and r["bit_exact"] < 4
    m = r["first_mismatch"]
    assert m is not None and m["layer"] == "conv2" and m["golden"] != m["got"], r
    assert set(m) == {"image", "layer", "index", "golden", "got"}


def test_compare_errors_are_one_line(rtl_dir, tmp_path, rng) -> None:
    ir_dir = rtl_dir.parent / "ir"
    assert "--against 'fpga': unknown back end (choose from hls, rtl)" in one_line(
        hccr("compare", "--ir", ir_dir, "--against", "fpga", code=1))
    assert "--rtl is for --against rtl" in one_line(
        hccr("compare", "--ir", ir_dir, "--against", "hls", "--rtl", rtl_dir, code=1))
    (tmp_path / "other").mkdir()
    assert "not an RTL folder" in one_line(hccr(
        "compare", "--ir", ir_dir, "--against", "rtl", "--rtl", tmp_path / "other", code=1))
    ir.save(small_net(np.random.default_rng(7)), tmp_path / "ir7")  # other weights
    assert "regenerate" in one_line(hccr(
        "compare", "--ir", tmp_path / "ir7", "--against", "rtl", "--rtl", rtl_dir, code=1))


def test_rtl_errors_are_one_line(tmp_path, rng) -> None:
    ir.save(single_op("add", rng), tmp_path / "two")
    assert "the RTL generator needs one input and one output" in one_line(
        hccr("rtl", "--ir", tmp_path / "two", "--out", tmp_path / "out", code=1))
    assert not (tmp_path / "out").exists()
    ir.save(small_net(np.random.default_rng(6)), tmp_path / "ir")
    for fold, message in [({"conv9": {"PE": 1}}, "folding names no layer: conv9"),
                          ({"conv1": {"PE": 3}}, "conv1: PE=3 does not divide OC=4"),
                          ({"pool1": {"PE": 2}}, "pool1: maxpool takes SIMD only"),
                          ({"flat": {"SIMD": 2}}, "flat: a reshape has no engine"),
                          ({"fc": {"simd": 2}}, "fc: unknown folding key(s) simd"),
                          ({"fc": {"SIMD": 0}}, "fc: SIMD=0 must be a positive integer")]:
        (tmp_path / "f.json").write_text(json.dumps(fold))
        assert message in one_line(hccr("rtl", "--ir", tmp_path / "ir", "--out",
                                        tmp_path / "out", "--folding", tmp_path / "f.json",
                                        code=1))
        assert not (tmp_path / "out").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    assert "not an RTL folder" in one_line(hccr("rtl", "--ir", tmp_path / "ir", "--out",
                                                tmp_path / "other", code=1))
    assert "not an RTL folder" in one_line(hccr("sim", "--rtl", tmp_path / "other", code=1))
    assert "--backpressure 'sometimes'" in one_line(hccr(
        "sim", "--rtl", tmp_path / "other", "--backpressure", "sometimes", code=1))
