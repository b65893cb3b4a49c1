"""`hccr report`: non-finite clocks and caps, unknown devices, bad output and HLS folders."""

from __future__ import annotations

import pytest
from conftest import UNWRITABLE, refused, refused_out


@pytest.mark.parametrize("option, value", [
    ("--clock-mhz", "nan"), ("--clock-mhz", "inf"), ("--clock-mhz", "-inf"),
    ("--clock-mhz", "0"), ("--clock-mhz", "-100"),
    ("--cap", "0"), ("--cap", "1.5"), ("--cap", "nan"), ("--cap", "-0.5"),
    ("--device", "xc9z999"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_option(tiny_ir, option, value, as_json):
    refused("report", "--ir", tiny_ir, option, value, *(["--json"] if as_json else []),
            names=(option,))


@pytest.mark.parametrize("where", UNWRITABLE)
def test_bad_out(tiny_ir, a_file, tmp_path, where):
    refused_out(where, a_file, tmp_path, "rep", "report", "--ir", tiny_ir)


def test_hls_folder_missing_or_without_csynth(tiny_ir, tmp_path):
    refused("report", "--ir", tiny_ir, "--out", tmp_path / "rep", "--hls", tmp_path / "nope",
            names=("nope",))
    (tmp_path / "prj").mkdir()
    refused("report", "--ir", tiny_ir, "--out", tmp_path / "rep", "--hls", tmp_path / "prj",
            names=("prj", "csynth.xml"))
    assert not (tmp_path / "rep").exists()


def test_ir_missing(tmp_path):
    refused("report", "--ir", tmp_path / "nope", names=("nope",))
