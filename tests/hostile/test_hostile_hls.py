"""`hccr hls`: bad clocks, counts, settings, data and output folders (before hls4ml runs)."""

from __future__ import annotations

import pytest
from conftest import UNWRITABLE, refused, refused_out


@pytest.mark.parametrize("option, value", [
    ("--clock-ns", "nan"), ("--clock-ns", "0"), ("--clock-ns", "-5"), ("--clock-ns", "inf"),
    ("--images", "0"), ("--images", "-2"),
    ("--reuse-factor", "conv1"), ("--reuse-factor", "conv1=x"), ("--reuse-factor", "conv1=-1"),
    ("--strategy", "Fastest"),
])
def test_bad_option(tiny_ir, tmp_path, option, value):
    refused("hls", "--ir", tiny_ir, "--out", tmp_path / "prj", option, value, names=(option,),
            clean=tmp_path)
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize("kind", ["empty", "garbage", "missing", "no_gnt", "all_bad"])
def test_bad_data(tiny_ir, gnt, tmp_path, kind):
    refused("hls", "--ir", tiny_ir, "--out", tmp_path / "prj", "--data", gnt[kind],
            names=(gnt[kind].name,), clean=tmp_path)
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize("where", UNWRITABLE)
def test_bad_out(tiny_ir, a_file, tmp_path, where):
    refused_out(where, a_file, tmp_path, "prj", "hls", "--ir", tiny_ir)


def test_keeps_an_unrelated_folder(tiny_ir, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("mine\n")
    refused("hls", "--ir", tiny_ir, "--out", tmp_path / "mine", names=("mine",))
    assert (tmp_path / "mine" / "keep.txt").read_text() == "mine\n"


@pytest.mark.parametrize("text, says", [("strategy: [", "s.yml"), ("- 1\n- 2\n", "s.yml"),
                                        ("clock_ns: fast\n", "clock_ns"),
                                        ("colour: blue\n", "colour")])
def test_bad_settings_file(tiny_ir, tmp_path, text, says):
    (tmp_path / "s.yml").write_text(text)
    refused("hls", "--ir", tiny_ir, "--out", tmp_path / "prj", "--config", tmp_path / "s.yml",
            names=(says,), clean=tmp_path)


def test_settings_file_missing(tiny_ir, tmp_path):
    refused("hls", "--ir", tiny_ir, "--out", tmp_path / "prj", "--config", tmp_path / "no.yml",
            names=("no.yml",))
