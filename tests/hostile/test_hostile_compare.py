"""`hccr compare`: bad back ends, counts, data and RTL folders; every case fails before any
simulator starts."""

from __future__ import annotations

import json

import pytest
from conftest import refused


@pytest.mark.parametrize("against", ["fpga", "", "RTL"])
def test_bad_back_end(tiny_ir, against):
    refused("compare", "--ir", tiny_ir, "--against", against, names=("--against",))


@pytest.mark.parametrize("n", ["0", "-3"])
@pytest.mark.parametrize("against", ["hls", "rtl"])
def test_bad_image_count(tiny_ir, against, n):
    refused("compare", "--ir", tiny_ir, "--against", against, "--images", n,
            names=("--images",))


@pytest.mark.parametrize("kind", ["empty", "garbage", "missing", "no_gnt"])
def test_bad_data(tiny_ir, gnt, kind):
    refused("compare", "--ir", tiny_ir, "--against", "rtl", "--data", gnt[kind],
            names=(gnt[kind].name,))


def test_all_records_bad(tiny_ir, gnt):
    refused("compare", "--ir", tiny_ir, "--against", "rtl", "--data", gnt["all_bad"],
            names=("all_bad.gnt",))


def test_rtl_folder_with_a_corrupt_network_json(tiny_ir, tiny_rtl, copy):
    rtl = copy(tiny_rtl, "rtl")
    doc = json.loads((rtl / "network.json").read_text())
    del doc["fifo_depth"]
    (rtl / "network.json").write_text(json.dumps(doc))
    refused("compare", "--ir", tiny_ir, "--against", "rtl", "--rtl", rtl,
            names=("network.json", "fifo_depth"))


def test_options_of_the_other_back_end(tiny_ir, tiny_rtl, tmp_path):
    refused("compare", "--ir", tiny_ir, "--against", "hls", "--rtl", tiny_rtl, names=("--rtl",))
    (tmp_path / "c.yml").write_text("strategy: Latency\n")
    refused("compare", "--ir", tiny_ir, "--against", "rtl", "--config", tmp_path / "c.yml",
            names=("--config",))


def test_missing_settings_file(tiny_ir, tmp_path):
    refused("compare", "--ir", tiny_ir, "--against", "hls", "--config", tmp_path / "no.yml",
            names=("no.yml",))


def test_ir_missing(tmp_path):
    refused("compare", "--ir", tmp_path / "nope", "--against", "rtl", names=("nope",))
